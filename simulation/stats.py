"""Summaries of replications: Student-t confidence intervals and percentiles.

Replications are independent and identically distributed, so for a KPI with values
x_1..x_n the 95 % interval is mean ± t_{0.975, n-1} · s / √n (s the sample standard
deviation), intersected with the values the KPI can take (``bounds``: a wait is never
negative, a share never above 1). The true mean lies in that range, so the intersection
covers it exactly as often as the Student-t interval does (Mandelkern, "Setting confidence
intervals for bounded parameters", Statistical Science 17(2), 2002, pp. 149-172) while never
showing impossible values; docs/simulation.md, "Confidence intervals", compares it with the
alternatives. Non-finite values (a KPI with no observations in some replication, e.g. no
inspections) are left out, and ``n`` says how many replications counted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import stdtrit  # Student t quantile; far lighter to import than scipy.stats

from simulation.kpi_table import STATISTICS

# The percentiles ``describe`` reports: those the KPI table names (p50, p90, ...).
PERCENTILES = tuple(int(s[1:]) for s in STATISTICS if s.startswith("p"))


@dataclass(frozen=True, slots=True)
class Estimate:
    mean: float
    half_width: float  # t · s/√n, before the interval is cut to the KPI's range; NaN if n < 2
    low: float  # the interval, within the KPI's range
    high: float
    std: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


UNBOUNDED = (-math.inf, math.inf)


def t_interval(
    values: Sequence[float],
    confidence: float = 0.95,
    bounds: tuple[float, float] = UNBOUNDED,
) -> Estimate:
    """The Student-t interval of the mean of ``values``, cut to ``bounds`` (the values the
    quantity can take, e.g. ``simulation.kpi_table.kpi_range``)."""
    data = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    n = len(data)
    if n == 0:
        nan = math.nan
        return Estimate(nan, nan, nan, nan, nan, 0)
    mean = float(data.mean())
    if n == 1:
        return Estimate(mean, math.nan, math.nan, math.nan, math.nan, 1)
    std = float(data.std(ddof=1))
    half = float(stdtrit(n - 1, (1 + confidence) / 2)) * std / math.sqrt(n)
    low, high = bounds
    return Estimate(mean, half, max(mean - half, low), min(mean + half, high), std, n)


def describe(values: Sequence[float] | np.ndarray, prefix: str) -> dict[str, float]:
    """``prefix.mean``, ``prefix.p50`` … ``prefix.p99`` (NaN when there are no values)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        out = {f"{prefix}.mean": math.nan}
        out.update({f"{prefix}.p{p}": math.nan for p in PERCENTILES})
        return out
    out = {f"{prefix}.mean": float(data.mean())}
    for p, value in zip(PERCENTILES, np.percentile(data, PERCENTILES), strict=True):
        out[f"{prefix}.p{p}"] = float(value)
    return out


def band(
    rows: Sequence[Sequence[float]],
    confidence: float = 0.95,
    bounds: tuple[float, float] = (0.0, math.inf),
) -> dict[str, list[float]]:
    """Pointwise mean and t-interval of time series (one row per replication), cut to
    ``bounds``: every series the runner samples (queues, servers, locks, releases per hour)
    is non-negative."""
    data = np.asarray(rows, dtype=float)
    mean = data.mean(axis=0)
    n = data.shape[0]
    if n < 2:
        return {"mean": mean.tolist(), "low": mean.tolist(), "high": mean.tolist()}
    half = stdtrit(n - 1, (1 + confidence) / 2) * data.std(axis=0, ddof=1) / math.sqrt(n)
    low = np.maximum(mean - half, bounds[0])
    high = np.minimum(mean + half, bounds[1])
    return {"mean": mean.tolist(), "low": low.tolist(), "high": high.tolist()}
