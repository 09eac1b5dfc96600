"""Arrival plans: every arrival epoch of a flow over the horizon, generated up front with numpy.

- Poisson (possibly non-homogeneous): the rate is piecewise constant (hour of day × peak
  multipliers), so the plan is exact without thinning: a Poisson count per piece and, given
  the count, uniform times within the piece (the order-statistics property).
- Batch: fixed clock times every day, or a Poisson stream of batches; sizes from a distribution.
- Trace: a CSV file replayed as is (``read_trace``; errors name the file and line). A run reads
  each trace once, cut at the horizon, into its plan (``simulation.plan.RunPlan``).

The model walks a plan with one SimPy event per epoch (``walk``).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import simpy

from simulation.distributions import block_function
from simulation.durations import HOUR, UNIT_SECONDS, Unit

# From below ``simulation.scenario``, which uses ``read_trace`` to check a scenario's traces.
from simulation.scenario_errors import ScenarioError
from simulation.scenario_schema import (
    BatchArrivals,
    CreditClass,
    Peak,
    PoissonArrivals,
    TraceArrivals,
)


@dataclass(frozen=True, slots=True)
class ArrivalPlan:
    """Epoch times (seconds, sorted), declarations per epoch, optional per-epoch attributes."""

    times: np.ndarray
    counts: np.ndarray
    credit: list[CreditClass | None] | None = None
    rule_hit: list[str | None] | None = None

    @property
    def total(self) -> int:
        return int(self.counts.sum())


def peak_factor(peaks: list[Peak], t_hours: float) -> float:
    """The product of the multipliers of the ``peaks`` under way at ``t_hours``."""
    factor = 1.0
    for peak in peaks:
        if peak.start_hour <= t_hours < peak.end_hour:
            factor *= peak.multiplier
    return factor


def rate_pieces(spec: PoissonArrivals, horizon_hours: float) -> tuple[np.ndarray, np.ndarray]:
    """Piece boundaries (hours, length n+1) and the rate per hour on each of the n pieces."""
    cuts = {0.0, horizon_hours}
    cuts.update(float(h) for h in range(1, math.ceil(horizon_hours)))
    for peak in spec.peaks:
        cuts.update(h for h in (peak.start_hour, peak.end_hour) if 0 < h < horizon_hours)
    bounds = np.array(sorted(cuts))
    profile = spec.hourly_profile
    rates = np.empty(len(bounds) - 1)
    for i, start in enumerate(bounds[:-1]):
        hour_factor = profile[int(start) % 24] if profile else 1.0
        rates[i] = spec.rate_per_hour * hour_factor * peak_factor(spec.peaks, float(start))
    return bounds, rates


def poisson_plan(
    spec: PoissonArrivals, horizon_hours: float, rng: np.random.Generator
) -> ArrivalPlan:
    bounds, rates = rate_pieces(spec, horizon_hours)
    lengths = np.diff(bounds)
    counts = rng.poisson(rates * lengths)
    total = int(counts.sum())
    starts = np.repeat(bounds[:-1], counts)
    spans = np.repeat(lengths, counts)
    times = np.sort(starts + rng.random(total) * spans) * HOUR
    return ArrivalPlan(times, np.ones(total, dtype=np.int64))


def batch_plan(spec: BatchArrivals, horizon_hours: float, rng: np.random.Generator) -> ArrivalPlan:
    if spec.times_of_day is not None:
        days = math.ceil(horizon_hours / 24)
        hours = np.array(
            sorted(day * 24 + t for day in range(days) for t in spec.times_of_day), dtype=float
        )
        hours = hours[hours < horizon_hours]
    else:
        assert spec.batches_per_hour is not None  # the schema demands one of the two
        n = rng.poisson(spec.batches_per_hour * horizon_hours)
        hours = np.sort(rng.random(n) * horizon_hours)
    # Batch sizes are counts: the distribution's unit does not apply.
    sizes = block_function(spec.size.model_copy(update={"unit": "s"}), rng)(len(hours))
    factors = np.array([peak_factor(spec.peaks, float(h)) for h in hours])
    counts = np.maximum(1, np.rint(sizes * factors)).astype(np.int64)
    return ArrivalPlan(hours * HOUR, counts)


def read_trace(path: Path, time_unit: Unit = "s") -> ArrivalPlan:
    """Read a trace CSV (header ``time`` and optional ``credit_class``, ``rule_hit``,
    ``count``). Raises ``ScenarioError`` naming the file, line and column on bad data."""
    scale = UNIT_SECONDS[time_unit]
    times: list[float] = []
    counts: list[int] = []
    credits: list[CreditClass | None] = []
    rules: list[str | None] = []
    known = {"time", "credit_class", "rule_hit", "count"}
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise ScenarioError(str(path), None, "", f"cannot read the trace: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        if "time" not in header:
            raise ScenarioError(str(path), 1, "time", "the trace needs a 'time' column")
        unknown = [name for name in header if name not in known]
        if unknown:
            raise ScenarioError(
                str(path), 1, unknown[0], f"unknown column (known: {sorted(known)})"
            )
        last = -math.inf
        for row in reader:
            line = reader.line_num
            try:
                t = float(row["time"]) * scale
            except (TypeError, ValueError):
                raise ScenarioError(
                    str(path), line, "time", f"not a number: {row['time']!r}"
                ) from None
            if not math.isfinite(t) or t < 0:
                raise ScenarioError(str(path), line, "time", f"must be >= 0, got {row['time']!r}")
            if t < last:
                raise ScenarioError(str(path), line, "time", "times must not decrease")
            last = t
            count_text = (row.get("count") or "1").strip()
            if not count_text.isdigit() or int(count_text) < 1:
                raise ScenarioError(
                    str(path), line, "count", f"must be a whole number >= 1, got {count_text!r}"
                )
            credit_text = (row.get("credit_class") or "").strip()
            try:
                credit = CreditClass(credit_text) if credit_text else None
            except ValueError:
                choices = ", ".join(c.value for c in CreditClass)
                raise ScenarioError(
                    str(path), line, "credit_class", f"{credit_text!r} is not one of {choices}"
                ) from None
            times.append(t)
            counts.append(int(count_text))
            credits.append(credit)
            rules.append((row.get("rule_hit") or "").strip() or None)
    return ArrivalPlan(
        np.array(times, dtype=float), np.array(counts, dtype=np.int64), credits, rules
    )


def until(plan: ArrivalPlan, horizon_hours: float) -> ArrivalPlan:
    """The epochs of ``plan`` before the horizon."""
    keep = int(np.searchsorted(plan.times, horizon_hours * HOUR, side="left"))
    return ArrivalPlan(
        plan.times[:keep],
        plan.counts[:keep],
        plan.credit[:keep] if plan.credit is not None else None,
        plan.rule_hit[:keep] if plan.rule_hit is not None else None,
    )


def arrival_plan(
    spec: PoissonArrivals | BatchArrivals | TraceArrivals,
    horizon_hours: float,
    rng: np.random.Generator,
    trace: ArrivalPlan | Path | None = None,
) -> ArrivalPlan:
    """The plan of one flow over ``horizon_hours``. A trace flow needs its ``trace``: the
    plan of a run's ``RunPlan.traces``, already cut at the horizon (the model passes that, it
    does no I/O), or the file's path, which is read and cut here."""
    if isinstance(spec, PoissonArrivals):
        return poisson_plan(spec, horizon_hours, rng)
    if isinstance(spec, BatchArrivals):
        return batch_plan(spec, horizon_hours, rng)
    if trace is None:
        raise ValueError(f"the trace flow needs its trace ({spec.file})")
    if isinstance(trace, Path):
        return until(read_trace(trace, spec.time_unit), horizon_hours)
    return trace


def walk(
    env: simpy.Environment,
    plan: ArrivalPlan,
    lodge: Callable[[CreditClass | None, str | None], object],
) -> None:
    """Replay ``plan`` on ``env``, one SimPy event per epoch: at each epoch ``lodge(credit
    class, rule hit)`` is called once per declaration (``None``: not given by the plan).
    Plan times are absolute; walked from a later ``env.now``, the past epochs come at once."""
    times = plan.times.tolist()
    counts = plan.counts.tolist()
    credits = plan.credit
    rules = plan.rule_hit
    n = len(times)
    if n == 0:
        return
    position = 0

    def fire(_event: simpy.Event) -> None:
        nonlocal position
        i = position
        credit = credits[i] if credits is not None else None
        rule = rules[i] if rules is not None else None
        for _ in range(counts[i]):
            lodge(credit, rule)
        position = i + 1
        if position < n:
            delay = max(0.0, times[position] - env.now)
            simpy.Timeout(env, delay).callbacks.append(fire)

    simpy.Timeout(env, max(0.0, times[0] - env.now)).callbacks.append(fire)
