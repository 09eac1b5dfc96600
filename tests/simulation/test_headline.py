"""The headline names the planted bottleneck, then the next one once it is doubled; its
sensitivity run measures the change that helps most; its warnings fire when they should."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from simulation.headline import headline, welch_settling_hour
from simulation.runner import ReplicationResult, run
from simulation.scenario import load_scenario
from simulation.sensitivity import best_changes, time_in_system
from simulation.sweep import apply_overrides

PLANTED = Path(__file__).parent / "data" / "planted-bottleneck.yaml"


def test_the_headline_names_the_planted_bottleneck_and_then_the_next() -> None:
    scenario = load_scenario(PLANTED)
    first = headline(run(scenario, 3, seed=5), scenario)
    assert first.bottleneck is not None and first.bottleneck.name == "auditors"
    assert first.busiest is not None and first.busiest.name == "auditors"
    assert first.bottleneck.stages == ("audit",)
    assert first.bottleneck.wait_share > 0.5
    assert "auditors" in first.bottleneck_text()
    doubled = apply_overrides(scenario, {"resources.auditors.capacity": 2})
    second = headline(run(doubled, 3, seed=5), doubled)
    assert second.bottleneck is not None and second.bottleneck.name == "reviewers"
    assert second.busiest is not None and second.busiest.name == "reviewers"


def test_demand_throughput_and_the_regimes_share_within_target() -> None:
    scenario = load_scenario(PLANTED)
    head = headline(run(scenario, 2, seed=2), scenario)
    assert 50 < head.demand_per_hour.mean < 70  # Poisson at 60 per hour
    assert abs(head.throughput_per_hour.mean - head.demand_per_hour.mean) < 5
    assert set(head.released_within) == {"all", "9610-import"}
    # one regime: its share is the site's
    assert head.released_within["9610-import"].mean == head.released_within["all"].mean
    assert head.warnings == []


def test_the_sensitivity_run_finds_the_bottleneck_the_change_that_helps_most() -> None:
    scenario = load_scenario(PLANTED)
    result = run(scenario, 4, seed=3)
    changes = best_changes(result, scenario, replications=4)
    assert changes[0].pool.name == "auditors"
    best = changes[0]
    assert best.overrides == {"resources.auditors.capacity": 2}
    assert best.difference.mean < 0 and best.difference.high < 0  # measured, not guessed
    assert "auditors 1 → 2" in best.text()


def test_a_short_drain_and_a_short_warm_up_are_warned_about() -> None:
    # Overloaded (rho 1.8 at audit): the queue grows to the end, and never settles.
    scenario = apply_overrides(
        load_scenario(PLANTED), {"flows.parcels.arrivals.rate_per_hour": 120, "drain_hours": 0}
    )
    warnings = headline(run(scenario, 3, seed=1), scenario).warnings
    assert any(w.startswith("Not drained") for w in warnings)
    assert any(w.startswith("No steady state") for w in warnings)
    # Sixty declarations in the system in steady state (100 servers, 1 h services, 60 per
    # hour), reached from empty in about 3 h: a warm-up of a quarter of an hour is too short.
    cold = apply_overrides(
        load_scenario(PLANTED),
        {
            "warmup_hours": 0.25,
            "resources.auditors.capacity": 100,
            "stages.audit.service.mean": 60,
            "resources.reviewers.capacity": 5,
            "resources.releasers.capacity": 5,
        },
    )
    warnings = headline(run(cold, 10, seed=1), cold).warnings
    assert [w for w in warnings if w.startswith("Warm-up too short")], warnings


def test_welch_settles_where_a_start_up_transient_ends() -> None:
    times = [i * 0.25 for i in range(400)]  # 100 h
    level = [min(t, 10.0) * 2 for t in times]  # rises for 10 h, then flat at 20
    settled = welch_settling_hour(times, level, 100.0)
    assert 9 <= settled <= 12
    flat = welch_settling_hour(times, [20.0] * 400, 100.0)
    assert flat < 1


def test_the_time_in_the_system_is_littles_law_over_the_samples_after_the_warm_up() -> None:
    # 10 declarations in the system from hour 1 to hour 3 (the warm-up's 50 are left out),
    # 100 lodged after the warm-up: 20 declaration-hours over 100 = 12 min each.
    replication = ReplicationResult(
        index=0, kpis={"arrived_after_warmup": 100.0},
        series={"in_system": [50.0, 10.0, 10.0, 10.0, 10.0]},
        series_times_h=[0.5, 1.0, 2.0, 2.5, 3.0], arrived=150, finished={}, in_system=10,
        unreleased=0, conservation_ok=True, events=0, wall_seconds=0.0,
    )  # fmt: skip
    assert time_in_system(replication, warmup_h=1.0) == pytest.approx(12 * 60)
    assert math.isnan(time_in_system(replication, warmup_h=3.5))  # no samples after it
