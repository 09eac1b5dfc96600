"""The source-true site variants (``scenarios/*-source.yaml``): they load, their volumes are
the figures scenarios/README.md cites, and where a source has a sorting line every parcel of
its flows passes it, at a plausible utilisation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
import simpy

from simulation.lifecycle import Milestone
from simulation.model import ClearanceModel
from simulation.paths import scenarios_root
from simulation.runner import run_replication
from simulation.scenario import (
    BatchArrivals,
    Flow,
    PoissonArrivals,
    Scenario,
    StageName,
    load_scenario,
)

ROOT = scenarios_root()
README = (ROOT / "README.md").read_text(encoding="utf-8")

# The cited figures, as scenarios/README.md gives them.
EZHOU_LISTS_A_DAY = 550_000  # derived from the hub's tonnage
ALASHANKOU_EXPORTS_A_DAY = 350_000  # 10.1 million in the 29 days of May 2020
CHANGSHA_1210_SHIPMENTS, CHANGSHA_DAYS = 327_000, 79  # 1 Jan - 19 Mar 2020
TRUCK_LOAD = 3_000  # the e-locked CBEC truck
WUHAN_TRAVEL_MINUTES = 60  # "about an hour's drive"
CT_PARCELS_AN_HOUR = 60_000  # the parcel CT line's pace

VARIANTS = ["ezhou-huahu-source", "alashankou-source", "yueyang-chenglingji-source"]
WITH_LINE = {"ezhou-huahu-source": 2.0, "alashankou-source": 5.0}  # hours to run: past a train


def _load(name: str) -> Scenario:
    return load_scenario(ROOT / f"{name}.yaml")


def per_day(flow: Flow) -> float:
    """The expected lists a day of one flow (no peaks: the variants have none)."""
    arrivals = flow.arrivals
    if isinstance(arrivals, PoissonArrivals):
        assert not arrivals.peaks
        profile = arrivals.hourly_profile or [1.0] * 24
        return arrivals.rate_per_hour * sum(profile)
    assert isinstance(arrivals, BatchArrivals) and arrivals.times_of_day is not None
    size = arrivals.size
    mean = getattr(size, "mean", None)
    if mean is None:  # uniform or triangular
        points = [getattr(size, k) for k in ("low", "mode", "high") if hasattr(size, k)]
        mean = sum(points) / len(points)
    return len(arrivals.times_of_day) * float(mean)


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_loads_and_is_listed_with_its_sources(name: str) -> None:
    scenario = _load(name)
    assert scenario.name == name
    assert f"`{name}.yaml`" in README and f"### `{name}.yaml`" in README
    for flow in scenario.flows:
        arrivals = flow.arrivals
        if isinstance(arrivals, PoissonArrivals) and arrivals.hourly_profile:
            assert sum(arrivals.hourly_profile) / 24 == pytest.approx(1.0), flow.name


def test_volumes_are_the_cited_figures() -> None:
    ezhou = _load("ezhou-huahu-source")
    assert ezhou.horizon_hours == 24  # one day's lists per replication
    assert sum(per_day(f) for f in ezhou.flows) == pytest.approx(EZHOU_LISTS_A_DAY)
    alashankou = _load("alashankou-source")
    exports = [f for f in alashankou.flows if f.direction == "export"]
    assert sum(per_day(f) for f in exports) == pytest.approx(ALASHANKOU_EXPORTS_A_DAY)
    yueyang = _load("yueyang-chenglingji-source")
    (bonded,) = [f for f in yueyang.flows if f.regime == "1210"]
    cited = CHANGSHA_1210_SHIPMENTS / CHANGSHA_DAYS
    assert per_day(bonded) == pytest.approx(cited, rel=1e-5)
    for figure in ("550,000", "350,000", "327,000", "79 days", "60,000 an hour"):
        assert figure in README, figure


def test_transit_and_line_numbers_are_the_sources() -> None:
    ezhou = _load("ezhou-huahu-source")
    travel = ezhou.corridors["huahu-wuhan"].travel
    assert (getattr(travel, "mean", None), travel.unit) == (WUHAN_TRAVEL_MINUTES, "min")
    for name in VARIANTS:
        scenario = _load(name)
        assert all(c.truck_capacity == TRUCK_LOAD for c in scenario.corridors.values()) or (
            name == "alashankou-source"  # its Shuanghe trucks are a project estimate
        )
        line = scenario.stages.sorting_line
        assert (line is not None) == (name in WITH_LINE)  # only where a source has one
        if line is not None:
            service = line.service
            assert getattr(service, "value", None) == pytest.approx(3600 / CT_PARCELS_AN_HOUR)


def _observed_short_run(scenario: Scenario, hours: float, seed: int) -> tuple[ClearanceModel, int]:
    """Run ``hours`` of ``scenario`` from an empty site (no warm-up, no drain), observed;
    returns the model and how many parcels of the line's flows reached the site."""
    short = scenario.model_copy(update={"horizon_hours": hours, "warmup_hours": 0.0})
    env = simpy.Environment()
    flow_of: dict[int, str] = {}
    arrived = [0]
    line_flows = {f.name for f in short.flows if short.sorted_on_line(f)}

    def on_transition(
        ident: int, _status: Any, milestone: Milestone, _t: float, info: Mapping[str, Any]
    ) -> None:
        if milestone is Milestone.LODGEMENT:
            flow_of[ident] = info["flow"]
        elif milestone is Milestone.ARRIVAL and flow_of[ident] in line_flows:
            arrived[0] += 1

    model = ClearanceModel(env, short, np.random.default_rng(seed), on_transition=on_transition)
    model.start()
    env.run(until=hours * 3600)
    return model, arrived[0]


@pytest.mark.parametrize("name", sorted(WITH_LINE))
def test_every_parcel_that_reaches_the_site_passes_the_sorting_line(name: str) -> None:
    model, arrived = _observed_short_run(_load(name), WITH_LINE[name], 20261205)
    line = model.stages[StageName.SORTING_LINE]
    on_it = line.pool.busy + line.pool.waiting()  # still on the line at the end
    assert arrived > 2_000
    assert len(line.sojourn) + on_it == arrived  # services (and those in hand) == entries
    assert len(line.sojourn) > 0.9 * arrived


@pytest.mark.parametrize("name", sorted(WITH_LINE))
def test_sorting_line_utilisation_is_plausible(name: str) -> None:
    scenario = _load(name)
    result = run_replication(scenario, 7, horizon_hours=scenario.warmup_hours + WITH_LINE[name])
    kpis = result.kpis
    pool = scenario.stages.sorting_line.resource if scenario.stages.sorting_line else None
    assert pool is not None
    utilisation = kpis[f"resource.{pool}.utilisation"]
    # Lanes at 60,000 an hour against this day's arrivals: busy, far from saturated.
    assert 0.02 < utilisation < 0.8, utilisation
    served = kpis["stage.sorting_line.served"]
    capacity = scenario.resources[pool].capacity
    assert capacity is not None
    hours = WITH_LINE[name]
    assert served == pytest.approx(utilisation * capacity * hours * CT_PARCELS_AN_HOUR, rel=0.2)
    assert result.conservation_ok
