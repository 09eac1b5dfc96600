"""Costs: the optional ``costs:`` section is checked with clear errors, staffed hours follow the
shift schedule, and the cost KPIs are what the prices and the throughput make them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from simulation.cost import daily_cost, server_hours
from simulation.runner import run_replication
from simulation.scenario import Resource, ScenarioError, load_scenario, parse_scenario
from simulation.sweep import apply_overrides

SMALL_SITE = Path(__file__).parent / "data" / "small-site.yaml"
TEXT = SMALL_SITE.read_text(encoding="utf-8")


def test_server_hours_integrate_the_repeating_shift_schedule() -> None:
    flat = Resource(capacity=3)
    assert server_hours(flat, 4, 10) == 18
    shifts = Resource.model_validate(
        {"schedule": [{"from_hour": 0, "capacity": 2}, {"from_hour": 8, "capacity": 5}]}
    )
    assert server_hours(shifts, 0, 24) == 8 * 2 + 16 * 5
    assert server_hours(shifts, 6, 30) == 2 * 2 + 16 * 5 + 6 * 2  # across the day's end
    assert server_hours(shifts, 4, 52) == 2 * (8 * 2 + 16 * 5)  # two whole periods


def test_the_cost_kpis_follow_the_prices_and_the_throughput() -> None:
    scenario = apply_overrides(load_scenario(SMALL_SITE), {"horizon_hours": 28})
    kpis = run_replication(scenario, 1).kpis
    officers = server_hours(scenario.resources["officers"], 4, 28)
    xray = server_hours(scenario.resources["xray"], 4, 28)
    assert kpis["cost.staff_hours"] == pytest.approx(officers)  # one day
    assert kpis["cost.equipment_hours"] == pytest.approx(xray)
    per_day = 100 * officers + 300 * xray + 10 * 6
    assert kpis["cost.per_day"] == pytest.approx(per_day) == pytest.approx(daily_cost(scenario))
    released = kpis["throughput_per_hour"] * 24
    assert kpis["cost.per_declaration"] == pytest.approx(per_day / released)


def test_a_scenario_without_costs_has_no_cost_kpis() -> None:
    start = TEXT.index("\ncosts:") + 1
    scenario = parse_scenario(TEXT[:start] + TEXT[TEXT.index("\nsources:") + 1 :])
    assert math.isnan(daily_cost(scenario))
    kpis = run_replication(apply_overrides(scenario, {"horizon_hours": 8}), 1).kpis
    assert not [k for k in kpis if k.startswith("cost.")]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("officers: {kind: staff", "unknown resource 'officer'"),
        ("kind: staff", "kind: Input should be 'staff' or 'equipment'"),
        ("per_hour: 100", "per_hour: Input should be greater than or equal to 0"),
        ("huahu: 10}", "unknown lock pool 'huahua'"),
        ("xray: {kind: equipment", "audit_engine: the pool is unlimited"),
    ],
)
def test_a_bad_costs_section_is_refused_with_a_clear_error(change: str, message: str) -> None:
    broken = {
        "officers: {kind: staff": "officer: {kind: staff",
        "kind: staff": "kind: people",
        "per_hour: 100": "per_hour: -5",
        "huahu: 10}": "huahua: 10}",
        "xray: {kind: equipment": "audit_engine: {kind: equipment",
    }[change]
    costs = TEXT.index("costs:")
    text = TEXT[:costs] + TEXT[costs:].replace(change, broken, 1)
    with pytest.raises(ScenarioError, match="costs") as caught:
        parse_scenario(text)
    assert message in str(caught.value)
