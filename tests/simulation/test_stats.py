"""Confidence intervals and percentiles against scipy / numpy on known data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simulation.monitor import Level
from simulation.stats import band, describe, t_interval

DATA = [12.1, 9.8, 11.4, 10.2, 13.0, 10.9, 11.7]


def test_t_interval_matches_scipy() -> None:
    estimate = t_interval(DATA)
    low, high = stats.t.interval(0.95, len(DATA) - 1, loc=np.mean(DATA), scale=stats.sem(DATA))
    assert estimate.mean == pytest.approx(np.mean(DATA))
    assert estimate.low == pytest.approx(low)
    assert estimate.high == pytest.approx(high)
    assert estimate.std == pytest.approx(np.std(DATA, ddof=1))
    assert estimate.n == 7


def test_t_interval_edge_cases() -> None:
    assert t_interval([]).n == 0 and math.isnan(t_interval([]).mean)
    one = t_interval([4.0])
    assert one.mean == 4.0 and math.isnan(one.half_width)
    skipped = t_interval([1.0, math.nan, 3.0])  # a replication without observations
    assert skipped.n == 2 and skipped.mean == 2.0


def test_describe_percentiles() -> None:
    values = np.arange(1, 1001, dtype=float)
    out = describe(values, "x")
    assert out["x.mean"] == 500.5
    assert out["x.p50"] == pytest.approx(np.percentile(values, 50))
    assert out["x.p99"] == pytest.approx(990.01)
    assert math.isnan(describe([], "y")["y.p95"])


def test_band_is_pointwise_t_interval() -> None:
    rows = [[1.0, 10.0], [2.0, 12.0], [3.0, 14.0]]
    out = band(rows)
    assert out["mean"] == [2.0, 12.0]
    expected = t_interval([10.0, 12.0, 14.0])
    assert out["low"][1] == pytest.approx(expected.low)
    assert out["high"][1] == pytest.approx(expected.high)


def test_level_time_average_and_warmup_reset() -> None:
    level = Level()
    level.change(0.0, 2)  # 2 from t=0
    level.change(10.0, 3)  # 5 from t=10
    assert level.mean(20.0) == pytest.approx((2 * 10 + 5 * 10) / 20)
    assert level.maximum == 5
    level.reset(20.0)
    level.change(30.0, -5)  # 5 until 30, then 0
    assert level.mean(40.0) == pytest.approx(5 * 10 / 20)
    assert level.maximum == 5
