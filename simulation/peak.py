"""Utilisation in the peak window: what a pool's busy share is when it matters.

A pool's ``utilisation`` is averaged over the whole arrival window, so quiet hours dilute it
(a site busy 16–22 h shows half its evening load). The **peak window** of a replication is the
``PEAK_HOURS``-long span of its arrival window (warm-up end → horizon) with the most
declarations in the system, on the sampling grid (``sample_every_minutes``); a pool's peak
utilisation is its sampled busy servers over its sampled capacity in that span, and its
busiest sample the highest busy/capacity at one sampling time. Both come from the sampled
series, so they are as fine as the grid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

PEAK_HOURS = 6.0
"""How long the peak window is (the whole arrival window when that is shorter)."""


def peak_window(
    times_h: Sequence[float], in_system: Sequence[float], start_h: float, end_h: float
) -> tuple[int, int]:
    """Indices ``[first, last)`` of the samples in the peak window: the ``PEAK_HOURS`` span of
    ``[start_h, end_h]`` with the highest mean ``in_system``; empty when no sample is inside."""
    times = np.asarray(times_h, dtype=float)
    inside = np.flatnonzero((times >= start_h - 1e-9) & (times <= end_h + 1e-9))
    if inside.size == 0:
        return 0, 0
    first, last = int(inside[0]), int(inside[-1]) + 1
    step = float(times[1] - times[0]) if len(times) > 1 else PEAK_HOURS
    width = max(1, min(last - first, round(PEAK_HOURS / step)))  # a sample per step
    level = np.asarray(in_system, dtype=float)[first:last]
    sums = np.convolve(level, np.ones(width), mode="valid")
    best = first + int(np.argmax(sums))  # the earliest of equal windows
    return best, best + width


def peak_kpis(
    series: Mapping[str, Sequence[float]],
    times_h: Sequence[float],
    start_h: float,
    end_h: float,
    lock_sizes: Mapping[str, int],
) -> dict[str, float]:
    """``resource.POOL.utilisation.peak`` / ``.busiest`` and ``locks.POOL.utilisation.peak``
    / ``.busiest`` of one replication's sampled series, plus ``peak.start_hour``."""
    first, last = peak_window(times_h, series["in_system"], start_h, end_h)
    if last <= first:
        return {}
    kpis = {"peak.start_hour": float(times_h[first])}
    for name, values in series.items():
        if name.startswith("capacity."):
            pool = name.removeprefix("capacity.")
            busy = np.asarray(series[f"busy.{pool}"], dtype=float)[first:last]
            capacity = np.asarray(values, dtype=float)[first:last]
            _shares(kpis, f"resource.{pool}", busy, capacity)
        elif name.startswith("locks_in_use."):
            pool = name.removeprefix("locks_in_use.")
            used = np.asarray(values, dtype=float)[first:last]
            _shares(kpis, f"locks.{pool}", used, np.full(used.shape, float(lock_sizes[pool])))
    return kpis


def _shares(kpis: dict[str, float], prefix: str, busy: np.ndarray, capacity: np.ndarray) -> None:
    total = float(capacity.sum())
    kpis[f"{prefix}.utilisation.peak"] = (
        min(1.0, float(busy.sum()) / total) if total > 0 else math.nan
    )
    staffed = capacity > 0
    # busy may exceed capacity for a moment at a shift end (``at_shift_end: finish``)
    kpis[f"{prefix}.utilisation.busiest"] = (
        float(min(1.0, (busy[staffed] / capacity[staffed]).max())) if staffed.any() else math.nan
    )
