"""The sorting line (``stages.sorting_line``): every parcel of its flows passes it when its
goods arrive, whatever its risk path, and release waits for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
import simpy

from simulation.lifecycle import Milestone
from simulation.model import ClearanceModel
from simulation.runner import run_replication
from simulation.scenario import ScenarioError, StageName, parse_scenario

SITE = """\
name: line
horizon_hours: 6
drain_hours: 4
resources: {lanes: {capacity: 1}, xray: {capacity: 2}}
stages:
  audit: {service: {dist: deterministic, value: 2}}
  machine_check: {resource: xray, service: {dist: exponential, mean: 30}}
  release: {service: {dist: deterministic, value: 1}}
  sorting_line: {resource: lanes, service: {dist: deterministic, value: 20}, flows: FLOWS}
risk:
  general: {inspect_direct: 0.05, reject: 0.01}
flows:
  - name: export
    regime: "9610"
    direction: export
    arrivals: {kind: poisson, rate_per_hour: 120}
    goods_arrival: {dist: uniform, low: 10, high: 30, unit: min}
  - name: b2b
    regime: "9710"
    direction: export
    arrivals: {kind: poisson, rate_per_hour: 30}
    goods_arrival: {dist: uniform, low: 10, high: 30, unit: min}
  - name: bonded
    regime: "1210"
    arrivals: {kind: poisson, rate_per_hour: 60}
"""


def _site(flows: str = "[export]") -> str:
    return SITE.replace("FLOWS", flows)


def _observed(text: str, seed: int) -> tuple[ClearanceModel, list[tuple[Any, ...]]]:
    scenario = parse_scenario(text)
    env = simpy.Environment()
    seen: list[tuple[Any, ...]] = []

    def on_transition(
        ident: int, status: Any, milestone: Milestone, t: float, info: Mapping[str, Any]
    ) -> None:
        seen.append((ident, status, milestone, t, dict(info)))

    model = ClearanceModel(env, scenario, np.random.default_rng(seed), on_transition=on_transition)
    model.start()
    env.run(until=(scenario.horizon_hours + scenario.drain_hours) * 3600)
    return model, seen


def test_every_parcel_of_the_line_s_flows_passes_it_and_no_other() -> None:
    model, seen = _observed(_site(), 3)
    flow_of = {e[0]: e[4]["flow"] for e in seen if e[2] is Milestone.LODGEMENT}
    arrived = [e[0] for e in seen if e[2] is Milestone.ARRIVAL]
    on_line = [i for i in arrived if flow_of[i] == "export"]
    line = model.stages[StageName.SORTING_LINE]
    assert len(on_line) > 500
    assert len(line.sojourn) == len(on_line)  # every export parcel whose goods came, no b2b
    assert line.pool.busy == 0 and line.pool.waiting() == 0
    # inspected or not, every released export passed the line after its goods arrived
    released = {e[0] for e in seen if e[2] is Milestone.RELEASE}
    assert {i for i in released if flow_of[i] == "export"} <= set(on_line)
    assert min(line.sojourn) >= 20.0  # the lane's service at least


def test_release_waits_for_the_line() -> None:
    model, seen = _observed(_site(), 5)
    arrival = {e[0]: e[3] for e in seen if e[2] is Milestone.ARRIVAL}
    flow_of = {e[0]: e[4]["flow"] for e in seen if e[2] is Milestone.LODGEMENT}
    for ident, _status, milestone, t, _info in seen:
        if milestone is Milestone.RELEASE and flow_of[ident] == "export":
            assert t >= arrival[ident] + 20.0 + 1.0  # line service, then the release stage
    assert model.stages[StageName.SORTING_LINE].waits  # one lane at 180/h: some parcels wait


def test_without_a_flow_list_every_flow_with_goods_arrival_passes() -> None:
    model, seen = _observed(_site("null"), 3)
    flow_of = {e[0]: e[4]["flow"] for e in seen if e[2] is Milestone.LODGEMENT}
    arrived = [flow_of[e[0]] for e in seen if e[2] is Milestone.ARRIVAL]
    assert len(model.stages[StageName.SORTING_LINE].sojourn) == len(arrived)
    assert {"export", "b2b"} == set(arrived)  # the 1210 import's goods are in the zone


def test_observing_a_run_with_a_line_does_not_change_it() -> None:
    scenario = parse_scenario(_site())
    quiet = run_replication(scenario, 4)
    observed = run_replication(scenario, 4, on_transition=lambda *_: None)
    assert quiet.kpis == observed.kpis
    assert quiet.kpis["stage.sorting_line.served"] > 0
    assert 0 < quiet.kpis["resource.lanes.utilisation"] < 1


def test_a_reported_arrival_passes_the_line_before_release() -> None:
    scenario = parse_scenario(_site().replace("rate_per_hour: 120", "rate_per_hour: 0"))
    env = simpy.Environment()
    model = ClearanceModel(env, scenario, np.random.default_rng(1))
    handle = model.submit("export", "general", goods_external=True)
    env.run(until=600)
    assert handle.released == 0.0  # waiting for the goods
    model.goods_arrived(handle.id)
    env.run(until=610)
    assert handle.released == 0.0  # on the lane for 20 s
    env.run(until=700)
    assert handle.released == pytest.approx(600 + 20 + 1)


@pytest.mark.parametrize(
    ("flows", "message"),
    [
        ("[nowhere]", "stage sorting_line: unknown flows ['nowhere']"),
        ("[bonded]", "stage sorting_line: flows ['bonded'] have no goods_arrival"),
    ],
)
def test_line_flows_are_checked(flows: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(_site(flows), "site.yaml")
    assert str(caught.value).startswith("site.yaml:")
    assert message in str(caught.value)
