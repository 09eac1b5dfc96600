"""The same open network in Ciw and in the clearance model: per-node mean waits and sojourn
times must agree (their 95 % confidence intervals overlap).

The network is ``scenarios/validation/open-network.yaml``: audit (2 servers) -> review with
probability 0.3 -> machine check with probability 0.5 after review or 0.1 direct -> release,
all exponential and FIFO. Ciw is written here by hand from the same numbers (read from the
scenario so the two cannot drift apart), in minutes.

Soundness: two independent 95 % intervals of the same quantity fail to overlap far less than
5 % of the time (about 0.6 % for equal widths), so eight comparisons stay below a 5 % family
error. Both engines run 8 replications of 250 h (~15,000 declarations each) after a 10 h
warm-up; Ciw needs ~1 s per replication, hence the slow mark.
"""

from __future__ import annotations

import math

import pytest

from simulation.paths import find_scenario
from simulation.runner import run
from simulation.scenario import CreditClass, Scenario, load_scenario
from simulation.stats import Estimate, t_interval

ciw = pytest.importorskip("ciw", reason="Ciw is a dev dependency (pip install -e '.[dev]')")

STAGES = ("audit", "review", "machine_check", "release")
REPLICATIONS = 8
HORIZON_HOURS = 250.0


def routing_matrix(scenario: Scenario) -> list[list[float]]:
    risk = scenario.risk[CreditClass.GENERAL]
    p, q, r = risk.review, risk.inspect_after_review, risk.inspect_direct
    return [
        [0.0, p, (1 - p) * r, (1 - p) * (1 - r)],
        [0.0, 0.0, q, 1 - q],
        [0.0, 0.0, 0.0, 1.0],
        [0.0, 0.0, 0.0, 0.0],
    ]


def ciw_network(scenario: Scenario) -> object:
    """The scenario as a Ciw network; time unit: minutes."""
    stages = [getattr(scenario.stages, name) for name in STAGES]
    for stage in stages:
        assert stage.service.dist == "exponential" and stage.service.unit == "min"
    lam_per_minute = scenario.flows[0].arrivals.rate_per_hour / 60  # type: ignore[union-attr]
    return ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(lam_per_minute), None, None, None],
        service_distributions=[ciw.dists.Exponential(1 / s.service.mean) for s in stages],
        number_of_servers=[scenario.resources[s.resource].capacity for s in stages],
        routing=routing_matrix(scenario),
    )


def ciw_replications(scenario: Scenario) -> dict[str, list[list[float]]]:
    """Per replication, per node: mean wait and mean sojourn (minutes) of customers who
    arrived to the network after the warm-up, as the model counts them."""
    warmup = scenario.warmup_hours * 60
    out: dict[str, list[list[float]]] = {"wait": [], "sojourn": []}
    for rep in range(REPLICATIONS):
        ciw.seed(1000 + rep)
        sim = ciw.Simulation(ciw_network(scenario))
        sim.simulate_until_max_time(HORIZON_HOURS * 60)
        records = sim.get_all_records()
        # A customer's first record (node 1, audit) carries its arrival to the network.
        entered = {r.id_number: r.arrival_date for r in records if r.node == 1}
        waits: list[list[float]] = [[] for _ in STAGES]
        sojourns: list[list[float]] = [[] for _ in STAGES]
        for record in records:
            if entered.get(record.id_number, -1.0) < warmup:
                continue
            waits[record.node - 1].append(record.waiting_time)
            sojourns[record.node - 1].append(record.waiting_time + record.service_time)
        out["wait"].append([sum(w) / len(w) for w in waits])
        out["sojourn"].append([sum(s) / len(s) for s in sojourns])
    return out


def overlap(a: Estimate, b: Estimate) -> bool:
    return a.low <= b.high and b.low <= a.high


@pytest.mark.slow
def test_open_network_agrees_with_ciw() -> None:
    scenario = load_scenario(find_scenario("validation/open-network.yaml"))
    ours = run(scenario, REPLICATIONS, 424242, horizon_hours=HORIZON_HOURS)
    assert all(r.conservation_ok for r in ours.replications)
    theirs = ciw_replications(scenario)
    for measure in ("wait", "sojourn"):
        for node, name in enumerate(STAGES):
            model_ci = ours.kpis[f"stage.{name}.{measure}.mean"]
            model_minutes = Estimate(
                model_ci.mean / 60,
                model_ci.half_width / 60,
                model_ci.low / 60,
                model_ci.high / 60,
                model_ci.std / 60,
                model_ci.n,
            )
            ciw_ci = t_interval([rep[node] for rep in theirs[measure]])
            assert model_minutes.n == ciw_ci.n == REPLICATIONS
            assert math.isfinite(ciw_ci.half_width)
            assert overlap(model_minutes, ciw_ci), (measure, name, model_minutes, ciw_ci)
