"""Arrival plans: the NHPP rate is recovered, batches have their sizes, traces replay exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulation.arrivals import batch_plan, poisson_plan, rate_pieces, read_trace
from simulation.scenario import BatchArrivals, PoissonArrivals, ScenarioError

PROFILE = [0.2] * 6 + [1.0] * 6 + [2.0] * 6 + [0.5] * 6


def test_piecewise_rate_follows_profile_and_peaks() -> None:
    spec = PoissonArrivals(
        kind="poisson",
        rate_per_hour=100,
        hourly_profile=PROFILE,
        peaks=[{"start_hour": 30.5, "end_hour": 32, "multiplier": 3}],  # type: ignore[list-item]
    )
    bounds, rates = rate_pieces(spec, 48)
    assert bounds[0] == 0 and bounds[-1] == 48
    assert 30.5 in bounds  # a peak starting mid-hour splits the piece
    i = int(np.searchsorted(bounds, 30.5))
    assert rates[i - 1] == 100 * PROFILE[6]
    assert rates[i] == 100 * PROFILE[6] * 3


def test_nhpp_hourly_rates_recovered() -> None:
    # 400 days of a daily profile: the count in each hour of day estimates its rate.
    spec = PoissonArrivals(kind="poisson", rate_per_hour=50, hourly_profile=PROFILE)
    days = 400
    plan = poisson_plan(spec, days * 24, np.random.default_rng(7))
    hour_of_day = (plan.times // 3600).astype(int) % 24
    observed = np.bincount(hour_of_day, minlength=24) / days
    expected = 50 * np.asarray(PROFILE)
    # Each hour's count is Poisson(days * rate): 4 standard errors is a safe tolerance.
    assert np.all(np.abs(observed - expected) <= 4 * np.sqrt(expected / days))
    assert np.all(np.diff(plan.times) >= 0)
    assert plan.times.max() < days * 24 * 3600


def test_nhpp_interarrivals_are_exponential_within_a_piece() -> None:
    spec = PoissonArrivals(kind="poisson", rate_per_hour=3600)  # one per second
    plan = poisson_plan(spec, 50, np.random.default_rng(3))
    gaps = np.diff(plan.times)
    assert gaps.mean() == pytest.approx(1.0, rel=0.02)
    assert gaps.std() == pytest.approx(1.0, rel=0.03)  # exponential: sd = mean


def test_batches_at_fixed_times_with_sizes() -> None:
    spec = BatchArrivals(
        kind="batch",
        times_of_day=[2, 14.5],
        size={"dist": "empirical", "values": [100, 300]},  # type: ignore[arg-type]
        peaks=[{"start_hour": 24, "end_hour": 48, "multiplier": 2}],  # type: ignore[list-item]
    )
    plan = batch_plan(spec, 72, np.random.default_rng(1))
    assert (plan.times / 3600).tolist() == [2, 14.5, 26, 38.5, 50, 62.5]
    sizes = plan.counts.tolist()
    assert set(sizes[:2] + sizes[4:]) <= {100, 300}
    assert set(sizes[2:4]) <= {200, 600}  # the peak day doubles each batch


def test_poisson_batches_mean_size() -> None:
    spec = BatchArrivals(
        kind="batch",
        batches_per_hour=2,
        size={"dist": "uniform", "low": 10, "high": 30},  # type: ignore[arg-type]
    )
    plan = batch_plan(spec, 2000, np.random.default_rng(5))
    assert len(plan.times) == pytest.approx(4000, rel=0.05)
    assert plan.counts.mean() == pytest.approx(20, rel=0.03)
    assert plan.counts.min() >= 10


def test_trace_replay(tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text("time,credit_class,rule_hit,count\n0.5,aeo,,1\n1.5,,sensitive_goods,3\n2,,,\n")
    plan = read_trace(trace, "min")
    assert plan.times.tolist() == [30.0, 90.0, 120.0]
    assert plan.counts.tolist() == [1, 3, 1]
    assert plan.credit is not None and plan.credit[0] == "aeo" and plan.credit[1] is None
    assert plan.rule_hit == [None, "sensitive_goods", None]


@pytest.mark.parametrize(
    ("content", "line", "field", "text"),
    [
        ("when\n1\n", 1, "time", "needs a 'time' column"),
        ("time,colour\n1,red\n", 1, "colour", "unknown column"),
        ("time\n1\nsoon\n", 3, "time", "not a number"),
        ("time\n1\n-2\n", 3, "time", ">= 0"),
        ("time\n5\n4\n", 3, "time", "must not decrease"),
        ("time,count\n1,0\n", 2, "count", "whole number"),
        ("time,credit_class\n1,gold\n", 2, "credit_class", "'gold' is not one of"),
    ],
)
def test_bad_trace_errors(tmp_path: Path, content: str, line: int, field: str, text: str) -> None:
    trace = tmp_path / "bad.csv"
    trace.write_text(content)
    with pytest.raises(ScenarioError) as info:
        read_trace(trace)
    error = info.value
    assert (error.file, error.line, error.field) == (str(trace), line, field)
    assert text in str(error)
    assert str(error).startswith(f"{trace}:{line}: {field}: ")
