"""The real clearance model against queueing theory: Erlang C, Jackson networks, Little's law.

How the sizes were chosen (fixed seeds, so the tests are deterministic; the question is
whether the *tolerances* are sound). For FIFO M/M/c queues the mean wait of one replication of
n customers has a relative standard error of about k / sqrt(n), with k ~= 4.5 for M/M/1 at
rho = 0.5 and k ~= 9.6 for M/M/4 at rho = 0.6 (measured with the Lindley / Kiefer-Wolfowitz
recursions over 40 replications each). So:

- M/M/1: 8 replications x ~30,000 customers -> standard error ~0.9 %: "within 3 %" is a
  3.3-sigma band; the 95 % t-interval (+-2.2 %) must contain Wq. About 3 s.
- M/M/4: 20 replications x ~72,000 customers -> standard error ~1.0 %: "within 3 %" is a
  3-sigma band. About 15 s, so marked slow.
- Open network (Jackson): four nodes x two measures = eight comparisons; each uses a
  Bonferroni interval (confidence 1 - 0.05/8) so the family is wrong at most 5 % of the time.
- Little's law is an identity of sample paths (up to the few customers straddling the edges
  of the measurement window), so it gets a tight 1.5 % tolerance on one long replication.
"""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from simulation.model import HOUR, ClearanceModel
from simulation.paths import find_scenario
from simulation.runner import run
from simulation.scenario import CreditClass, Scenario, StageName, load_scenario
from simulation.stats import t_interval
from simulation.theory import (
    QueueMetrics,
    jackson_network,
    little_relative_error,
    mm1,
    mmc,
    traffic_equations,
)

MINUTE = 60.0
STAGES = ("audit", "review", "machine_check", "release")


def validation(name: str) -> Scenario:
    return load_scenario(find_scenario(f"validation/{name}.yaml"))


def check_wait_against_erlang_c(
    scenario: Scenario, theory: QueueMetrics, reps: int, seed: int
) -> None:
    result = run(scenario, reps, seed)
    assert all(r.conservation_ok for r in result.replications)
    wq = theory.wq * HOUR  # theory works in the scenario's per-hour rates; the model in seconds
    wait = result.kpis["stage.audit.wait.mean"]
    assert wait.n == reps
    assert abs(wait.mean - wq) / wq < 0.03, (wait.mean, wq)
    assert wait.low <= wq <= wait.high, (wait.low, wq, wait.high)
    # The same runs agree on the rest of the station: sojourn, queue length, utilisation.
    sojourn = result.kpis["stage.audit.sojourn.mean"]
    assert sojourn.low <= theory.w * HOUR <= sojourn.high
    queue = result.kpis["stage.audit.queue.mean"]
    assert abs(queue.mean - theory.lq) / theory.lq < 0.04
    busy = next(v for k, v in result.kpis.items() if k.endswith(".busy.mean"))
    assert busy.mean == pytest.approx(theory.offered_load, rel=0.01)


def test_mm1_mean_wait_matches_erlang_c() -> None:
    scenario = validation("mm1")
    theory = mm1(arrival_rate=30.0, service_rate=60.0)  # per hour, as in the file
    assert theory.wq * 60 == pytest.approx(1.0)  # 1 minute
    check_wait_against_erlang_c(scenario, theory, reps=8, seed=20261122)


@pytest.mark.slow
def test_mmc_mean_wait_matches_erlang_c() -> None:
    scenario = validation("mmc")
    theory = mmc(arrival_rate=144.0, service_rate=60.0, servers=4)
    assert theory.prob_wait == pytest.approx(0.2870, abs=1e-4)
    check_wait_against_erlang_c(scenario, theory, reps=20, seed=20261122)


def network_theory(scenario: Scenario) -> list[QueueMetrics]:
    """Jackson's theorem for the open-network file, derived from the file itself."""
    risk = scenario.risk[CreditClass.GENERAL]
    p_review, q_after, r_direct = risk.review, risk.inspect_after_review, risk.inspect_direct
    routing = [
        [0.0, p_review, (1 - p_review) * r_direct, (1 - p_review) * (1 - r_direct)],
        [0.0, 0.0, q_after, 1 - q_after],
        [0.0, 0.0, 0.0, 1.0],
        [0.0, 0.0, 0.0, 0.0],
    ]
    lam = scenario.flows[0].arrivals.rate_per_hour  # type: ignore[union-attr]
    service_rates: list[float] = []
    servers: list[int] = []
    for name in STAGES:
        stage = getattr(scenario.stages, name)
        service_rates.append(60.0 / stage.service.mean)  # minutes -> per hour
        capacity = scenario.resources[stage.resource].capacity
        assert capacity is not None, "every station of the network has a finite pool"
        servers.append(capacity)
    return jackson_network([lam, 0.0, 0.0, 0.0], routing, service_rates, servers)


@pytest.mark.slow
def test_open_network_matches_jackson() -> None:
    scenario = validation("open-network")
    nodes = network_theory(scenario)
    assert [n.arrival_rate for n in nodes] == pytest.approx([60.0, 18.0, 13.2, 60.0])
    result = run(scenario, 10, 7)
    assert all(r.conservation_ok for r in result.replications)
    confidence = 1 - 0.05 / (2 * len(STAGES))  # Bonferroni over eight comparisons
    for name, node in zip(STAGES, nodes, strict=True):
        for measure, expected in (("wait", node.wq), ("sojourn", node.w)):
            values = [r.kpis[f"stage.{name}.{measure}.mean"] for r in result.replications]
            ci = t_interval(values, confidence)
            assert ci.low <= expected * HOUR <= ci.high, (name, measure, ci, expected * HOUR)


def run_model(scenario: Scenario, seed: int) -> ClearanceModel:
    """One replication driven by hand, to read per-stage statistics the summary leaves out."""
    env = simpy.Environment()
    model = ClearanceModel(env, scenario, np.random.default_rng(seed))
    model.start()
    env.run(until=(scenario.horizon_hours + scenario.drain_hours) * HOUR)
    return model


def test_littles_law_per_stage_of_the_open_network() -> None:
    scenario = validation("open-network")
    model = run_model(scenario, seed=3)
    now = model.env.now
    window = now - model.warmup
    expected_rates = traffic_equations(
        [60.0, 0.0, 0.0, 0.0],
        [[0, 0.3, 0.07, 0.63], [0, 0, 0.5, 0.5], [0, 0, 0, 1], [0, 0, 0, 0]],
    )
    for name, expected_rate in zip(STAGES, expected_rates, strict=True):
        stage = model.stages[StageName(name)]
        rate = len(stage.waits) / window  # customers per second through the stage
        # The routing the model applied matches the traffic equations (sampling error ~2 %).
        assert rate * HOUR == pytest.approx(expected_rate, rel=0.05)
        # Little's law on the waiting line: Lq = lam Wq ...
        lq = stage.queue.mean(now)
        assert little_relative_error(lq, rate, float(np.mean(stage.waits))) < 0.015, name
        # ... and on the whole station, in service included: L = lam W. Each stage has its
        # own pool here, so the pool's mean busy servers is the stage's number in service.
        in_station = lq + stage.pool.busy_level.mean(now)
        assert little_relative_error(in_station, rate, float(np.mean(stage.sojourn))) < 0.015


def test_littles_law_for_the_whole_mm1_system() -> None:
    result = run(validation("mm1"), 1, 5)
    kpis = result.replications[0].kpis
    lam = kpis["arrived_after_warmup"] / (1000 - 20)  # per hour
    number = kpis["stage.audit.queue.mean"] + kpis["resource.server.busy.mean"]
    sojourn_h = kpis["stage.audit.sojourn.mean"] / HOUR
    assert little_relative_error(number, lam, sojourn_h) < 0.015
    assert kpis["throughput_per_hour"] == pytest.approx(lam, rel=0.01)
