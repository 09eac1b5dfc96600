"""The one change that helps most, measured: a quick sensitivity run on the pools that hold
declarations waiting.

For each of the (up to) ``CANDIDATES`` pools with the most waiting (``simulation.headline``),
the scenario is run again with that pool a step larger — one more server (a tenth more when it
has more than ten), on every shift step of a schedule; a tenth more locks, at least one — with
the base run's seeds, replication for replication (common random numbers: replication *i* of
any run with seed *s* draws from ``SeedSequence(s).spawn(n)[i]`` whatever *n*).

The measure is the mean time a declaration spends in the system after the warm-up, by Little's
law: the area under the sampled in-system count from the end of the warm-up to the end of the
run, over the declarations lodged after the warm-up (``time_in_system``). Every wait shortens
it, at a stage or for an e-lock, and unlike the mean lodgement → exit time it counts the
declarations that have not left by the end (the end-to-end KPIs leave those out, so on a short
run a faster pool could even seem to change nothing). Its change is the paired difference,
variant minus base, per replication, with a Student-t interval over the pairs (no range cut: a
change may have either sign). The change with the largest mean reduction is the headline's.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from simulation.headline import PoolLoad, pool_loads
from simulation.kpi_table import duration as _duration
from simulation.runner import ReplicationResult, RunResult, run
from simulation.scenario import Scenario
from simulation.stats import Estimate, t_interval
from simulation.sweep import Scalar, apply_overrides

CANDIDATES = 3
MEASURE = "the mean time in the system"


@dataclass(frozen=True)
class Change:
    pool: PoolLoad
    overrides: dict[str, Scalar]
    description: str  # e.g. "resource inspectors 4 → 5"
    difference: Estimate  # of time_in_system, variant − base, paired by replication (seconds)

    def text(self) -> str:
        d = self.difference
        ci = (
            f" (95 % CI of the cut {_duration(-d.mean - d.half_width)} … "
            f"{_duration(-d.mean + d.half_width)}, {d.n} paired replications)"
            if math.isfinite(d.half_width)
            else f" ({d.n} replication, no interval)"
        )
        verb = "cuts" if d.mean <= 0 else "adds to"
        return f"{self.description}: {verb} {MEASURE} by {_duration(abs(d.mean))}{ci}"


def time_in_system(replication: ReplicationResult, warmup_h: float) -> float:
    """Seconds a declaration lodged after the warm-up spends in the system, on average, by
    Little's law: the area under the sampled in-system count after the warm-up (trapezoids)
    over the declarations lodged after it. NaN without samples or lodgements."""
    times = np.asarray(replication.series_times_h, dtype=float)
    level = np.asarray(replication.series.get("in_system", []), dtype=float)
    after = times >= warmup_h
    lodged = replication.kpis.get("arrived_after_warmup", math.nan)
    if level.size != times.size or after.sum() < 2 or not lodged > 0:
        return math.nan
    area_h = float(np.trapezoid(level[after], times[after]))
    return area_h * 3600.0 / lodged


def _step(count: int) -> int:
    return count + 1 if count <= 10 else math.ceil(count * 1.1)


def enlarged(scenario: Scenario, pool: PoolLoad) -> tuple[dict[str, Scalar], str]:
    """The overrides that make ``pool`` one step larger, and what they say."""
    if pool.kind == "locks":
        size = scenario.lock_pools[pool.name].size
        new = max(size + 1, math.ceil(size * 1.1))
        return {f"lock_pools.{pool.name}.size": new}, f"e-lock pool {pool.name} {size} → {new}"
    resource = scenario.resources[pool.name]
    if resource.schedule is None:
        capacity = resource.capacity or 0
        return (
            {f"resources.{pool.name}.capacity": _step(capacity)},
            f"resource {pool.name} {capacity} → {_step(capacity)}",
        )
    overrides: dict[str, Scalar] = {}
    for i, step in enumerate(resource.schedule):
        overrides[f"resources.{pool.name}.schedule.{i}.capacity"] = _step(step.capacity)
    before = "/".join(str(s.capacity) for s in resource.schedule)
    after = "/".join(str(_step(s.capacity)) for s in resource.schedule)
    return overrides, f"resource {pool.name} (shifts {before} → {after})"


def best_changes(
    result: RunResult,
    scenario: Scenario,
    *,
    replications: int = 3,
    executor: Executor | None = None,
) -> list[Change]:
    """Each candidate change with its measured effect, the most helpful first. ``scenario`` is
    the scenario as run (with the run's horizon)."""
    base = sorted(result.replications, key=lambda r: r.index)[:replications]
    candidates = [p for p in pool_loads(result, scenario) if p.wait_hours > 0][:CANDIDATES]
    changes: list[Change] = []
    for pool in candidates:
        overrides, description = enlarged(scenario, pool)
        variant = run(
            apply_overrides(scenario, overrides), len(base), result.seed, executor=executor
        )
        warmup = scenario.warmup_hours
        pairs = [
            time_in_system(after, warmup) - time_in_system(before, warmup)
            for before, after in zip(base, variant.replications, strict=True)
        ]
        changes.append(Change(pool, overrides, description, t_interval(pairs)))
    return sorted(
        changes, key=lambda c: c.difference.mean if math.isfinite(c.difference.mean) else 0.0
    )
