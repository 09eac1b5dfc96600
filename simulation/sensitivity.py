"""The one change that helps most, measured: a quick sensitivity run on the pools that hold
declarations waiting.

For each of the (up to) ``CANDIDATES`` pools with the most waiting (``simulation.headline``),
the scenario is run again with that pool a step larger — one more server (a tenth more when it
has more than ten), on every shift step of a schedule; a tenth more locks, at least one — with
the base run's seeds, replication for replication (common random numbers: replication *i* of
any run with seed *s* draws from ``SeedSequence(s).spawn(n)[i]`` whatever *n*). The measure is
the mean lodgement → exit time (``end_to_end.all.mean``), which every wait shortens, whether
at a stage or for an e-lock. Its change is the paired difference, variant minus base, per
replication, with a Student-t interval over the pairs (no range cut: a change may have either
sign). The change with the largest mean reduction is the headline's.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import dataclass

from simulation.headline import PoolLoad, pool_loads
from simulation.kpi_table import duration as _duration
from simulation.runner import RunResult, run
from simulation.scenario import Scenario
from simulation.stats import Estimate, t_interval
from simulation.sweep import Scalar, apply_overrides

CANDIDATES = 3
MEASURE = "end_to_end.all.mean"


@dataclass(frozen=True)
class Change:
    pool: PoolLoad
    overrides: dict[str, Scalar]
    description: str  # e.g. "resource inspectors 4 → 5"
    difference: Estimate  # of MEASURE, variant − base, paired by replication (seconds)

    def text(self) -> str:
        d = self.difference
        ci = (
            f" (95 % CI of the cut {_duration(-d.mean - d.half_width)} … "
            f"{_duration(-d.mean + d.half_width)}, {d.n} paired replications)"
            if math.isfinite(d.half_width)
            else f" ({d.n} replication, no interval)"
        )
        verb = "cuts" if d.mean <= 0 else "adds to"
        return (
            f"{self.description}: {verb} the mean lodgement → exit time by "
            f"{_duration(abs(d.mean))}{ci}"
        )


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
        pairs = [
            after.kpis.get(MEASURE, math.nan) - before.kpis.get(MEASURE, math.nan)
            for before, after in zip(base, variant.replications, strict=True)
        ]
        changes.append(Change(pool, overrides, description, t_interval(pairs)))
    return sorted(
        changes, key=lambda c: c.difference.mean if math.isfinite(c.difference.mean) else 0.0
    )
