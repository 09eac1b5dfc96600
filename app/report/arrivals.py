"""The arrival profile a scenario asks for: expected declarations per hour, hour by hour.

Exact, not sampled: a Poisson flow contributes its piecewise-constant rate integrated over
each hour, a batch flow the mean batch size (times its peak factor) at each batch time, a
trace flow its recorded counts — from the run's plan (``simulation.plan.RunPlan``), which read
the trace files once and applied the horizon. Reports plot it behind the measured throughput.
"""

from __future__ import annotations

import math

import numpy as np

from simulation.arrivals import peak_factor, rate_pieces
from simulation.durations import HOUR, mean_seconds
from simulation.plan import RunPlan, plan_run
from simulation.scenario import BatchArrivals, PoissonArrivals, Scenario


def _poisson(spec: PoissonArrivals, edges: np.ndarray, horizon: float) -> np.ndarray:
    bounds, rates = rate_pieces(spec, horizon)
    # Expected count up to each bin edge: the integral of the piecewise-constant rate.
    cumulative = np.concatenate([[0.0], np.cumsum(rates * np.diff(bounds))])
    at_edges = np.interp(np.minimum(edges, horizon), bounds, cumulative)
    return np.diff(at_edges)


def _batch(spec: BatchArrivals, edges: np.ndarray, horizon: float) -> np.ndarray:
    mean_size = mean_seconds(spec.size.model_copy(update={"unit": "s"}))  # sizes are counts
    counts = np.zeros(len(edges) - 1)
    if spec.times_of_day is not None:
        days = math.ceil(horizon / 24)
        for hour in (d * 24 + t for d in range(days) for t in spec.times_of_day):
            if hour < horizon:
                counts[int(hour)] += mean_size * peak_factor(spec.peaks, hour)
    else:
        assert spec.batches_per_hour is not None  # the schema demands one of the two
        for i, start in enumerate(edges[:-1]):
            width = min(edges[i + 1], horizon) - start
            counts[i] = spec.batches_per_hour * width * mean_size * peak_factor(spec.peaks, start)
    return counts


def expected_arrivals(run: RunPlan | Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Hour bin edges (0 … horizon, rounded up) and expected declarations in each bin, for a
    run's plan (a scenario is planned first: its traces are read)."""
    plan = run if isinstance(run, RunPlan) else plan_run(run)
    scenario = plan.scenario
    horizon = scenario.horizon_hours
    edges = np.arange(0.0, math.ceil(horizon) + 1.0)
    total = np.zeros(len(edges) - 1)
    for flow in scenario.flows:
        spec = flow.arrivals
        if isinstance(spec, PoissonArrivals):
            total += _poisson(spec, edges, horizon)
        elif isinstance(spec, BatchArrivals):
            total += _batch(spec, edges, horizon)
        else:  # the plan's trace stops at the horizon already
            trace = plan.traces[flow.name]
            total += np.histogram(trace.times / HOUR, bins=edges, weights=trace.counts)[0]
    return edges, total
