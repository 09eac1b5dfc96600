"""Summaries of replications: Student-t confidence intervals and percentiles.

Replications are independent and identically distributed, so for a KPI with values
x_1..x_n the 95 % interval is mean ± t_{0.975, n-1} · s / √n (s the sample standard
deviation). Non-finite values (a KPI with no observations in some replication, e.g. no
inspections) are left out, and ``n`` says how many replications counted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import stdtrit  # Student t quantile; far lighter to import than scipy.stats

PERCENTILES = (50, 90, 95, 99)


@dataclass(frozen=True, slots=True)
class Estimate:
    mean: float
    half_width: float  # NaN with fewer than two replications
    low: float
    high: float
    std: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def t_interval(values: Sequence[float], confidence: float = 0.95) -> Estimate:
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
    return Estimate(mean, half, mean - half, mean + half, std, n)


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


def band(rows: Sequence[Sequence[float]], confidence: float = 0.95) -> dict[str, list[float]]:
    """Pointwise mean and t-interval of time series (one row per replication)."""
    data = np.asarray(rows, dtype=float)
    mean = data.mean(axis=0)
    n = data.shape[0]
    if n < 2:
        return {"mean": mean.tolist(), "low": mean.tolist(), "high": mean.tolist()}
    half = stdtrit(n - 1, (1 + confidence) / 2) * data.std(axis=0, ddof=1) / math.sqrt(n)
    return {"mean": mean.tolist(), "low": (mean - half).tolist(), "high": (mean + half).tolist()}
