"""The clearance model: risk-channel shares, priority under load, the live hook, conservation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
import simpy

from declarations.codes import ReturnStatus as S
from simulation.lifecycle import Milestone
from simulation.model import ClearanceModel, Forced
from simulation.runner import run_replication
from simulation.scenario import Scenario, StageName, parse_scenario

M = Milestone  # short names keep the expected sequences readable

RISKY = """\
name: risk-shares
horizon_hours: 200
resources: {}
stages:
  audit: {service: {dist: deterministic, value: 2}}
  review: {service: {dist: exponential, mean: 60}}
  machine_check: {service: {dist: exponential, mean: 30}}
  manual_inspection: {service: {dist: exponential, mean: 300}}
  release: {service: {dist: deterministic, value: 1}}
risk:
  aeo: {review: 0.02, inspect_direct: 0.01, inspect_after_review: 0.1}
  general: {review: 0.1, inspect_direct: 0.05, inspect_after_review: 0.4,
            manual_after_machine: 0.5, detain: 0.1, return_goods: 0.05, reject: 0.01}
  low_credit: {review: 0.5, inspect_direct: 0.2, inspect_after_review: 0.6}
flows:
  - name: parcels
    regime: "9610"
    arrivals: {kind: poisson, rate_per_hour: 300}
    credit_mix: {aeo: 0.3, general: 0.5, low_credit: 0.2}
"""


def test_risk_channel_shares_match_probabilities() -> None:
    result = run_replication(parse_scenario(RISKY), 11)
    kpis = result.kpis
    n = kpis["arrived_after_warmup"]
    for credit, share, review, direct, after in [
        ("aeo", 0.3, 0.02, 0.01, 0.1),
        ("general", 0.5 * 0.99, 0.1, 0.05, 0.4),
        ("low_credit", 0.2, 0.5, 0.2, 0.6),
    ]:
        inspected = review * after + (1 - review) * direct
        count = n * share
        assert kpis[f"share.{credit}.review"] == pytest.approx(
            review, abs=4 * np.sqrt(review * (1 - review) / count)
        )
        assert kpis[f"share.{credit}.inspection"] == pytest.approx(
            inspected, abs=4 * np.sqrt(inspected * (1 - inspected) / count)
        )
    # Final outcomes of the general class: rejection at audit, detention and return after
    # inspection (only general has them).
    general = n * 0.5
    assert result.finished[100] == pytest.approx(general * 0.01, rel=0.25)
    inspected_general = general * 0.99 * (0.1 * 0.4 + 0.9 * 0.05)
    assert result.finished[599] == pytest.approx(inspected_general * 0.1, rel=0.25)
    assert result.finished[700] == pytest.approx(inspected_general * 0.05, rel=0.35)
    assert result.conservation_ok


LOADED = """\
name: priority
horizon_hours: 100
warmup_hours: 10
resources:
  officers: {capacity: 2}
stages:
  audit: {service: {dist: deterministic, value: 1}}
  review: {resource: officers, service: {dist: exponential, mean: 5, unit: min}}
risk:
  aeo: {review: 1}
  general: {review: 1}
  low_credit: {review: 1}
flows:
  - name: all-reviewed
    regime: "1210"
    arrivals: {kind: poisson, rate_per_hour: 22}
    credit_mix: {aeo: 0.3, general: 0.4, low_credit: 0.3}
"""


def test_higher_credit_waits_less_under_load() -> None:
    kpis = run_replication(parse_scenario(LOADED), 5).kpis
    aeo = kpis["stage.review.wait.aeo.mean"]
    general = kpis["stage.review.wait.general.mean"]
    low = kpis["stage.review.wait.low_credit.mean"]
    assert aeo < general < low
    assert low > 3 * aeo
    assert 0.85 < kpis["resource.officers.utilisation"] <= 1.0


# --- live mode -----------------------------------------------------------------------------

Transition = tuple[int, S, M, float, Mapping[str, Any]]


def _live(scenario: Scenario) -> tuple[simpy.Environment, ClearanceModel, list[Transition]]:
    env = simpy.Environment()
    seen: list[Transition] = []
    model = ClearanceModel(
        env,
        scenario,
        np.random.default_rng(1),
        on_transition=lambda *args: seen.append(args),
    )
    return env, model, seen


def _steps(seen: list[Transition], ident: int) -> list[tuple[int, str]]:
    return [(int(s), m.value) for i, s, m, _t, _info in seen if i == ident]


def test_injected_declaration_walks_the_full_status_sequence() -> None:
    env, model, seen = _live(parse_scenario(RISKY))
    handle = model.submit(
        "parcels", "general", force=Forced(review=True, inspection=True, manual_inspection=True)
    )
    assert handle.status == S.SENT
    env.run()
    assert _steps(seen, handle.id) == [
        (2, "lodgement"), (3, "transmission"), (120, "acceptance"), (300, "manual_review"),
        (399, "risk_decision"), (500, "inspection_start"), (500, "inspection_end"),
        (800, "release"), (899, "exit"),
    ]  # fmt: skip
    times = [
        t
        for i, *_rest, t, _info in [(x[0], x[1], x[2], x[3], x[4]) for x in seen]
        if i == handle.id
    ]
    assert times == sorted(times) and times[0] == 0.0
    assert seen[0][4] == {"flow": "parcels", "credit_class": "general"}
    assert handle.status == S.CLOSED and model.in_system_count() == 0


def test_forced_outcomes() -> None:
    env, model, seen = _live(parse_scenario(RISKY))
    rejected = model.submit("parcels", "aeo", force=Forced(reject_code="-621005"))
    detained = model.submit("parcels", "aeo", force=Forced(detention=S.DETAINED_ANTI_SMUGGLING))
    returned = model.submit("parcels", "aeo", force=Forced(return_goods=True, review=False))
    auto = model.submit("parcels", "aeo", force=Forced(review=False, inspection=False))
    env.run()
    assert _steps(seen, rejected.id)[-1] == (100, "rejection")
    assert [s for s in seen if s[0] == rejected.id][-1][4] == {"code": "-621005"}
    assert _steps(seen, detained.id)[-3:] == [
        (500, "inspection_start"),
        (500, "inspection_end"),
        (502, "detention"),
    ]
    assert _steps(seen, returned.id)[-1] == (700, "return")
    assert [m for _s, m in _steps(seen, auto.id)] == [
        "lodgement",
        "transmission",
        "acceptance",
        "risk_decision",
        "release",
        "exit",
    ]
    assert model.finished == {
        S.REJECTED: 1,
        S.DETAINED_ANTI_SMUGGLING: 1,
        S.RETURNED: 1,
        S.CLOSED: 1,
    }


def test_export_release_waits_for_goods_arrival() -> None:
    text = RISKY.replace(
        '    regime: "9610"\n',
        '    regime: "9610"\n    direction: export\n'
        "    goods_arrival: {dist: deterministic, value: 600}\n"
        "    departure: {dist: deterministic, value: 3600}\n",
    )
    env, model, seen = _live(parse_scenario(text))
    handle = model.submit(force=Forced(review=False, inspection=False))
    env.run()
    by_milestone = {m.value: t for i, _s, m, t, _info in seen if i == handle.id}
    assert by_milestone["risk_decision"] == 2.0
    assert by_milestone["arrival"] == 600.0
    assert by_milestone["release"] == 601.0  # release (1 s) starts once the goods are there
    assert by_milestone["exit"] == 601.0 + 3600.0
    flow = model.flows[0]
    assert list(flow.to_decision) == [2.0] and list(flow.decision_to_release) == [599.0]
    assert list(flow.cycle) == [601.0] and list(flow.end_to_end) == [4201.0]


def test_unknown_flow_in_submit() -> None:
    _env, model, _seen = _live(parse_scenario(RISKY))
    with pytest.raises(KeyError, match="unknown flow 'air'"):
        model.submit("air")


def test_submit_needs_a_risk_profile_for_the_credit_class() -> None:
    _env, model, _seen = _live(
        parse_scenario(
            LOADED.replace("  low_credit: {review: 1}\n", "").replace(", low_credit: 0.3", "")
        )
    )
    with pytest.raises(KeyError, match="no risk profile for 'low_credit'"):
        model.submit(credit_class="low_credit")


def test_every_declaration_ends_or_is_counted_in_system() -> None:
    scenario = parse_scenario(LOADED.replace("rate_per_hour: 22", "rate_per_hour: 30"))
    result = run_replication(scenario, 2)  # overloaded: a backlog remains at the end
    assert result.in_system > 100
    assert result.arrived == sum(result.finished.values()) + result.in_system
    assert result.conservation_ok


def test_observing_a_run_does_not_change_it() -> None:
    # Quiet runs skip some events (goods arrival is checked, not scheduled); results must agree.
    text = RISKY.replace(
        '    regime: "9610"\n',
        '    regime: "9610"\n    direction: export\n'
        "    goods_arrival: {dist: exponential, mean: 120}\n"
        "    departure: {dist: uniform, low: 1, high: 8, unit: h}\n"
        "    rule_hits: [{name: sensitive_goods, probability: 0.03}]\n",
    ).replace("horizon_hours: 200", "horizon_hours: 30")
    scenario = parse_scenario(text)
    seen: list[int] = []
    quiet = run_replication(scenario, 4)
    observed = run_replication(scenario, 4, on_transition=lambda i, *_: seen.append(i))
    assert seen
    assert quiet.kpis == observed.kpis
    assert quiet.finished == observed.finished
    assert quiet.series == observed.series and quiet.in_system == observed.in_system


def test_rule_hits_force_inspection_at_their_rate() -> None:
    text = RISKY.replace(
        "    credit_mix: {aeo: 0.3, general: 0.5, low_credit: 0.2}\n",
        "    credit_mix: {aeo: 1}\n"
        "    rule_hits: [{name: declared_value_anomaly, probability: 0.02},\n"
        "                {name: sensitive_goods, probability: 0.01, manual: false}]\n",
    ).replace("aeo: {review: 0.02, inspect_direct: 0.01, inspect_after_review: 0.1}", "aeo: {}")
    kpis = run_replication(parse_scenario(text), 3).kpis
    expected = 1 - 0.98 * 0.99
    n = kpis["arrived_after_warmup"]
    assert kpis["share.inspection"] == pytest.approx(
        expected, abs=4 * np.sqrt(expected * (1 - expected) / n)
    )
    # Only the value-anomaly rule demands manual inspection after the machine check.
    manual_share = kpis["stage.manual_inspection.served"] / n
    assert manual_share == pytest.approx(0.02, abs=4 * np.sqrt(0.02 * 0.98 / n))
    assert kpis["stage.machine_check.served"] / n == pytest.approx(expected, rel=0.1)


def test_priority_table_and_per_flow_service_times_apply() -> None:
    inverted = LOADED.replace("risk:\n", "priority: {aeo: 2, general: 1, low_credit: 0}\nrisk:\n")
    kpis = run_replication(parse_scenario(inverted), 5).kpis
    assert kpis["stage.review.wait.low_credit.mean"] < kpis["stage.review.wait.aeo.mean"]

    two_flows = RISKY.replace(
        "  audit: {service: {dist: deterministic, value: 2}}\n",
        "  audit:\n    service: {dist: deterministic, value: 2}\n"
        "    service_by_flow: {slow: {dist: deterministic, value: 50}}\n",
    ).replace("horizon_hours: 200", "horizon_hours: 5") + (
        "  - name: slow\n"
        "    channel: mail\n"
        "    arrivals: {kind: poisson, rate_per_hour: 300}\n"
        "    risk: {general: {}}\n"
    )
    env, model, _seen = _live(parse_scenario(two_flows))
    model.start()
    env.run(until=5 * 3600)
    sojourns = {round(t, 6) for t in model.stages[StageName.AUDIT].sojourn}
    assert sojourns == {2.0, 50.0}  # floating-point clock: equal up to rounding
