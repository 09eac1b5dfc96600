"""A 9610 import's release waits for the goods' entry into the site (入库明细单 CEB711, CEB
spec 202205 §3.15 p. 97), as an export's waits for 运抵 (issue 13 item 4): the added cycle time
against the flow's arrival-delay distribution, the milestones of an observed run, the refusal
for 1210, and the live caller's ``goods_external`` / ``goods_arrived``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
import simpy
from scipy.stats import norm

from declarations.codes import ReturnStatus as S
from simulation.lifecycle import Milestone
from simulation.model import ClearanceModel, Forced
from simulation.routing import REJECT_WITHOUT_CODE
from simulation.runner import run_replication
from simulation.scenario import ScenarioError, parse_scenario

Transition = tuple[int, S, Milestone, float, Mapping[str, Any]]

# No audit stage: the risk decision is made at lodgement (time 0 after it), and release is an
# unlimited 1 s stage, so without goods_arrival every cycle time is exactly 1 s and with it the
# cycle time is the arrival delay plus 1 s: the added time is the delay itself.
UNCONGESTED = """\
name: import-entry
horizon_hours: 20
drain_hours: 48
stages:
  release: {service: {dist: deterministic, value: 1}}
risk: {general: {}}
flows:
  - name: direct-purchase
    regime: "9610"
    direction: import
    arrivals: {kind: poisson, rate_per_hour: 600}
"""
ENTRY = "    goods_arrival: {dist: lognormal, mean: 2, sd: 1, unit: h}\n"
MEAN, SD = 2 * 3600.0, 3600.0  # the arrival delay's mean and standard deviation, seconds

# The live tests: audit 2 s, review 60 s (when forced), release 1 s; imports close after 1 min.
LIVE = """\
name: live-entry
horizon_hours: 1
stages:
  audit: {service: {dist: deterministic, value: 2}}
  review: {service: {dist: deterministic, value: 60}}
  release: {service: {dist: deterministic, value: 1}}
risk: {general: {}}
flows:
  - name: 9610-import
    regime: "9610"
    direction: import
    arrivals: {kind: poisson, rate_per_hour: 0}
    closing: {dist: deterministic, value: 60}
  - name: 9610-import-entry
    regime: "9610"
    direction: import
    arrivals: {kind: poisson, rate_per_hour: 0}
    goods_arrival: {dist: deterministic, value: 600}
  - name: 9610-import-near
    regime: "9610"
    direction: import
    arrivals: {kind: poisson, rate_per_hour: 0}
    goods_arrival: {dist: deterministic, value: 10}
  - name: 1210-import
    regime: "1210"
    direction: import
    arrivals: {kind: poisson, rate_per_hour: 0}
  - name: 9610-export
    regime: "9610"
    direction: export
    arrivals: {kind: poisson, rate_per_hour: 0}
"""
QUICK = Forced(review=False, inspection=False)


def _live(*, observed: bool = True) -> tuple[simpy.Environment, ClearanceModel, list[Transition]]:
    env = simpy.Environment()
    seen: list[Transition] = []
    model = ClearanceModel(
        env,
        parse_scenario(LIVE),
        np.random.default_rng(1),
        on_transition=(lambda *args: seen.append(args)) if observed else None,
    )
    return env, model, seen


def _times(seen: list[Transition], ident: int) -> list[tuple[str, float]]:
    return [(m.value, t) for i, _s, m, t, _info in seen if i == ident]


# --- batch: the added cycle time is the arrival delay -------------------------------------


def test_the_entry_wait_adds_the_arrival_delay_to_the_cycle_time() -> None:
    without = run_replication(parse_scenario(UNCONGESTED), 7)
    with_entry = run_replication(parse_scenario(UNCONGESTED + ENTRY), 7)
    assert without.conservation_ok and with_entry.conservation_ok
    assert with_entry.in_system == 0  # the drain lets every declaration finish: no censoring
    base = without.kpis
    assert base["cycle_time.regime.9610-import.mean"] == 1.0  # release alone, every time
    assert base["cycle_time.regime.9610-import.p90"] == 1.0
    kpis = with_entry.kpis
    n = kpis["arrived_after_warmup"]
    assert n > 10_000
    z = norm.ppf(0.9995)  # a 99.9 % normal interval around the theoretical value
    added_mean = (
        kpis["cycle_time.regime.9610-import.mean"] - base["cycle_time.regime.9610-import.mean"]
    )
    assert added_mean == pytest.approx(MEAN, abs=z * SD / math.sqrt(n))
    # The 90th percentile of the lognormal delay, with the sample quantile's standard error
    # sqrt(p (1 - p) / n) / f(q), f the delay's density at its quantile q.
    sigma = math.sqrt(math.log1p((SD / MEAN) ** 2))
    mu = math.log(MEAN) - sigma**2 / 2
    q90 = math.exp(mu + sigma * norm.ppf(0.9))
    density = norm.pdf(norm.ppf(0.9)) / (q90 * sigma)
    added_q90 = (
        kpis["cycle_time.regime.9610-import.p90"] - base["cycle_time.regime.9610-import.p90"]
    )
    assert added_q90 == pytest.approx(q90, abs=z * math.sqrt(0.9 * 0.1 / n) / density)
    # The wait lies between the decision and release (WCO TRS), not before the decision.
    assert kpis["trs.to_decision.mean"] == 0.0
    assert kpis["trs.decision_to_release.mean"] == pytest.approx(
        kpis["cycle_time.regime.9610-import.mean"]
    )


def test_observing_an_import_run_does_not_change_it() -> None:
    # Quiet runs check the entry time at the decision; observed runs make it an event.
    text = (UNCONGESTED + ENTRY).replace("risk: {general: {}}", "risk: {general: {review: 0.1}}")
    text = text.replace(
        "stages:\n", "stages:\n  review: {service: {dist: exponential, mean: 3, unit: h}}\n"
    )
    scenario = parse_scenario(text.replace("horizon_hours: 20", "horizon_hours: 3"))
    seen: list[int] = []
    quiet = run_replication(scenario, 4)
    observed = run_replication(scenario, 4, on_transition=lambda i, *_: seen.append(i))
    assert seen
    assert quiet.kpis == observed.kpis
    assert quiet.finished == observed.finished and quiet.series == observed.series


# --- observed: the milestones ---------------------------------------------------------------


def test_an_observed_import_reports_the_entry_before_its_release() -> None:
    env, model, seen = _live()
    late = model.submit("9610-import-entry", force=QUICK)  # goods enter after the decision
    early = model.submit("9610-import-near", force=Forced(review=True, inspection=False))
    env.run(until=100)
    model.goods_arrived(late.id)  # not submitted with goods_external: the model's own draw
    env.run()
    assert _times(seen, late.id) == [
        ("lodgement", 0.0),
        ("transmission", 0.0),
        ("acceptance", 2.0),
        ("risk_decision", 2.0),
        ("arrival", 600.0),
        ("release", 601.0),
        ("exit", 601.0),
    ]
    # A long review: the goods are in the site first, release follows the decision.
    steps = _times(seen, early.id)
    assert [m for m, _t in steps].index("arrival") < [m for m, _t in steps].index("release")
    assert (
        dict(steps)["arrival"] == 10.0
        and dict(steps)["manual_review"] == 2.0
        and dict(steps)["risk_decision"] == 62.0
    )
    assert dict(steps)["release"] == 63.0
    arrival = [s for i, s, m, _t, _i in seen if i == late.id and m is Milestone.ARRIVAL]
    assert arrival == [S.DECIDED]  # the milestone repeats the status


def test_a_rejected_import_reports_no_entry() -> None:
    env, model, seen = _live()
    rejected = model.submit("9610-import-entry", force=Forced(reject_code=REJECT_WITHOUT_CODE))
    env.run()
    assert [m for m, _t in _times(seen, rejected.id)][-1] == "rejection"
    assert "arrival" not in dict(_times(seen, rejected.id))
    assert model.finished == {S.REJECTED: 1}


# --- the scenario refuses goods_arrival on a bonded import ----------------------------------


def test_a_bonded_import_may_not_have_goods_arrival() -> None:
    bonded = '    regime: "1210"\n    direction: import\n'
    text = LIVE.replace(bonded, bonded + "    goods_arrival: {dist: deterministic, value: 600}\n")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "site.yaml")
    error = caught.value
    assert (error.file, error.field) == ("site.yaml", "flows.3.goods_arrival")
    lines = text.splitlines()
    at = lines.index('    regime: "1210"')
    assert error.line == 1 + next(
        i for i, line in enumerate(lines) if i > at and "goods_arrival" in line
    )
    assert "1210 bonded import" in error.message and "CEB711" in error.message


# --- live: the caller reports the arrival ---------------------------------------------------


@pytest.mark.parametrize("flow", ["9610-import", "9610-import-entry", "9610-export"])
def test_goods_external_waits_for_the_callers_report(flow: str) -> None:
    env, model, seen = _live()
    handle = model.submit(flow, force=QUICK, goods_external=True)
    env.run(until=5000)  # far past the flow's own 600 s: the model draws no arrival
    assert handle.status == S.DECIDED and handle.id in model.live
    assert "arrival" not in dict(_times(seen, handle.id))
    model.goods_arrived(handle.id)
    model.goods_arrived(handle.id)  # idempotent
    env.run(until=5002)
    steps = _times(seen, handle.id)
    assert [t for m, t in steps if m == "arrival"] == [5000.0]
    assert dict(steps)["release"] == 5001.0
    assert handle.status in {S.RELEASED, S.CLOSED}


def test_goods_reported_before_the_decision_release_at_the_decision() -> None:
    env, model, seen = _live()
    handle = model.submit(
        "9610-import", force=Forced(review=True, inspection=False), goods_external=True
    )
    env.run(until=10)
    model.goods_arrived(handle.id)  # during the review
    env.run()
    steps = _times(seen, handle.id)
    assert ("arrival", 10.0) in steps
    assert dict(steps)["risk_decision"] == 62.0 and dict(steps)["release"] == 63.0
    assert dict(steps)["exit"] == 63.0 + 60.0


def test_goods_arrived_ignores_unknown_and_finished_declarations() -> None:
    env, model, seen = _live()
    handle = model.submit("9610-import", force=QUICK, goods_external=True)
    model.goods_arrived(handle.id)
    env.run()
    assert handle.status == S.CLOSED
    count = len(seen)
    model.goods_arrived(handle.id)  # finished
    model.goods_arrived(999)  # never submitted
    env.run()
    assert len(seen) == count


def test_goods_external_in_a_quiet_model() -> None:
    env, model, _seen = _live(observed=False)
    handle = model.submit("9610-import-entry", force=QUICK, goods_external=True)
    env.run(until=1000)
    assert handle.status == S.DECIDED
    model.goods_arrived(handle.id)
    env.run()
    assert (handle.status, handle.released) == (S.CLOSED, 1001.0)


def test_without_goods_arrival_or_goods_external_nothing_waits() -> None:
    env, model, seen = _live()
    handle = model.submit("9610-import", force=QUICK)
    env.run()
    assert _times(seen, handle.id) == [
        ("lodgement", 0.0),
        ("transmission", 0.0),
        ("acceptance", 2.0),
        ("risk_decision", 2.0),
        ("release", 3.0),
        ("exit", 63.0),
    ]


def test_goods_external_is_refused_for_a_bonded_import() -> None:
    _env, model, _seen = _live()
    assert not model.flow_by_name["1210-import"].spec.goods_arrive
    assert model.flow_by_name["9610-import"].spec.goods_arrive
    with pytest.raises(ValueError, match="1210 bonded import"):
        model.submit("1210-import", force=QUICK, goods_external=True)
    assert not model.live  # nothing was lodged
