"""The KPIs of one replication: ``replication_kpis`` computes them from a finished model.

This module is the one place a KPI is computed; ``simulation.kpi_table`` lists every KPI it
reports, with its unit, range, meaning and which way is better (docs/simulation.md, "KPI
names").

Measured windows. Observations (cycle times, waits, trucks, alarms) count what started after
the warm-up. Rates and time averages (throughput, utilisation, mean queue, locks in use) cover
the arrival window, from the end of the warm-up to the horizon, where arrivals stop; the drain
after it is reported apart, under ``drain.``.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from simulation.cost import cost_kpis
from simulation.durations import HOUR
from simulation.kpi_table import hours_label
from simulation.runtime import CREDITS, PathCounts
from simulation.stats import describe

if TYPE_CHECKING:
    from simulation.model import ClearanceModel
    from simulation.runtime import Lodgement
    from simulation.transit import Port


class TimedSamples(array):  # type: ignore[type-arg]  # array("d"); generic only in 3.12
    """A flow's cycle times (``array("d")``) that also note when each was appended: the
    release time, so that the lodgement time is ``at - cycle``."""

    at: array  # type: ignore[type-arg]
    clock: simpy.Environment

    def append(self, value: float) -> None:
        super().append(value)
        self.at.append(self.clock.now)


def _timed(env: simpy.Environment) -> TimedSamples:
    samples = TimedSamples("d")
    samples.at = array("d")
    samples.clock = env
    return samples


class ArrivalWindow:
    """Marks the horizon (the end of arrivals) so that rates and time averages are taken over
    the arrival window and the drain separately, and notes what the per-regime target shares
    need: each release's time and each flow's lodgements by the target cut-off. Create it
    after ``model.start()`` and before the run starts."""

    def __init__(self, model: ClearanceModel, horizon: float, cutoff: float) -> None:
        self.model = model
        self.horizon = horizon
        self.cutoff = cutoff  # lodged by then: eligible for "released within target"
        self.released = -1  # releases by the horizon; -1 until marked
        self.eligible = [0 for _ in model.flows]  # lodged after warm-up, by the cut-off
        for flow in model.flows:
            flow.cycle = _timed(model.env)
        # Per corridor, of declarations lodged after the warm-up: release → departure (the
        # loading bay, the wait for a lock, sealing) and lodgement → destination (unsealed).
        self.to_departure: dict[str, list[float]] = {}
        self.to_destination: dict[str, list[float]] = {}
        for name, corridor in model.corridors.items():
            corridor.departed = self._note(corridor.departed, self.to_departure, name, True)
            corridor.arrived = self._note(corridor.arrived, self.to_destination, name, False)
        # At the horizon itself (no drain) the run stops before events due then: the KPIs mark
        # it at the end instead.
        simpy.Timeout(model.env, horizon).callbacks.append(lambda _e: self.mark())
        if cutoff >= model.warmup:
            simpy.Timeout(model.env, cutoff).callbacks.append(lambda _e: self._count_eligible())
        self.counted = cutoff < model.warmup  # nothing lodged after the warm-up is eligible

    def _note(
        self, port: Port[Lodgement], into: dict[str, list[float]], name: str, released: bool
    ) -> Port[Lodgement]:
        """``port`` (a corridor's, ``simulation.transit``), also noting each cargo's times."""
        times = into.setdefault(name, [])
        env, warmup = self.model.env, self.model.warmup

        def noted(cargo: list[Lodgement], info: Mapping[str, Any]) -> None:
            now = env.now
            times.extend(
                now - (d.released if released else d.lodged) for d in cargo if d.lodged >= warmup
            )
            port(cargo, info)

        return noted

    def _count_eligible(self) -> None:
        self.eligible = [flow.arrived for flow in self.model.flows]
        self.counted = True

    def mark(self) -> None:
        self.released = self.model.released_total
        self.model.site.mark(self.model.env.now)


def replication_kpis(model: ClearanceModel, window: ArrivalWindow) -> dict[str, float]:
    """Every KPI of a finished replication, by name."""
    if window.released < 0:
        window.mark()
    kpis: dict[str, float] = {}
    hours = (window.horizon - model.warmup) / HOUR
    kpis["throughput_per_hour"] = (window.released - model.released_total_at_warmup) / hours
    drain_hours = (model.env.now - window.horizon) / HOUR
    if drain_hours > 0:
        kpis["drain.released"] = float(model.released_total - window.released)
        kpis["drain.throughput_per_hour"] = kpis["drain.released"] / drain_hours
    kpis["released_within_target"] = (
        model.released_in_target / model.target_eligible if model.target_eligible else math.nan
    )
    kpis["arrived_after_warmup"] = float(sum(f.arrived for f in model.flows))
    _cycle_kpis(model, kpis)
    _target_kpis(model, window, kpis)
    _stage_kpis(model, kpis, drain_hours > 0)
    _path_kpis(model, kpis)
    _transit_kpis(model, kpis, drain_hours > 0)
    for name in model.corridors:
        prefix = f"corridor.{name}"
        kpis.update(describe(window.to_departure[name], f"{prefix}.release_to_departure"))
        kpis.update(describe(window.to_destination[name], f"{prefix}.lodgement_to_destination"))
    kpis.update(cost_kpis(model.scenario, kpis["throughput_per_hour"]))
    return kpis


def _cycle_kpis(model: ClearanceModel, kpis: dict[str, float]) -> None:
    all_cycles: list[float] = []
    all_e2e: list[float] = []
    by_label: dict[str, list[float]] = {}
    for flow in model.flows:
        kpis.update(describe(flow.cycle, f"cycle_time.flow.{flow.name}"))
        by_label.setdefault(flow.label, []).extend(flow.cycle)
        all_cycles.extend(flow.cycle)
        all_e2e.extend(flow.end_to_end)
    for label, cycles in by_label.items():
        kpis.update(describe(cycles, f"cycle_time.regime.{label}"))
    kpis.update(describe(all_cycles, "cycle_time.all"))
    # Time Release Study split of the cycle time (released declarations).
    kpis.update(describe([t for f in model.flows for t in f.to_decision], "trs.to_decision"))
    kpis.update(
        describe([t for f in model.flows for t in f.decision_to_release], "trs.decision_to_release")
    )
    kpis.update(describe(all_e2e, "end_to_end.all"))


def _target_kpis(model: ClearanceModel, window: ArrivalWindow, kpis: dict[str, float]) -> None:
    """Per regime, the share released within the target, counted as ``released_within_target``
    counts it; and the mean cycle time by hour of day of lodgement."""
    if not window.counted:  # the run ended before the cut-off: every lodgement is eligible
        window.eligible = [flow.arrived for flow in model.flows]
    hours = hours_label(model.target / HOUR)
    eligible: dict[str, int] = {}
    within: dict[str, int] = {}
    by_hour: dict[int, list[float]] = {}
    for flow, counted in zip(model.flows, window.eligible, strict=True):
        cycles = np.asarray(flow.cycle, dtype=float)
        samples = flow.cycle
        released_at = (
            np.asarray(samples.at, dtype=float)
            if isinstance(samples, TimedSamples)
            else np.full(cycles.shape, math.nan)
        )
        lodged = released_at - cycles
        eligible[flow.label] = eligible.get(flow.label, 0) + counted
        hit = (cycles <= model.target) & (lodged <= window.cutoff)
        within[flow.label] = within.get(flow.label, 0) + int(hit.sum())
        hour_of_day = np.floor(lodged / HOUR) % 24
        for hour in np.unique(hour_of_day[np.isfinite(hour_of_day)]):
            by_hour.setdefault(int(hour), []).extend(cycles[hour_of_day == hour].tolist())
    for label, count in eligible.items():
        kpis[f"released_within.{label}.{hours}"] = _ratio(within[label], count)
    for hour, cycles_in_hour in sorted(by_hour.items()):
        kpis[f"cycle_time.lodged_hour.{hour:02d}.mean"] = float(np.mean(cycles_in_hour))


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def _stage_kpis(model: ClearanceModel, kpis: dict[str, float], drained: bool) -> None:
    now = model.env.now
    for name, stage in model.stages.items():
        prefix = f"stage.{name.value}"
        kpis[f"{prefix}.served"] = float(len(stage.sojourn))
        kpis.update(describe(stage.sojourn, f"{prefix}.sojourn"))
        kpis[f"{prefix}.wait.mean"] = float(np.mean(stage.waits)) if stage.waits else math.nan
        kpis[f"{prefix}.wait_within.{hours_label(model.target / HOUR)}"] = (
            float((np.asarray(stage.waits) <= model.target).mean()) if stage.waits else math.nan
        )
        for credit, waits in zip(CREDITS, stage.by_credit_wait, strict=True):
            if waits:
                kpis[f"{prefix}.wait.{credit.value}.mean"] = float(np.mean(waits))
        if not stage.pool.unlimited:
            kpis[f"{prefix}.queue.mean"] = stage.queue.mean_to_mark()
            kpis[f"{prefix}.queue.max"] = stage.queue.maximum
    for pool_name, pool in model.pools.items():
        if pool.unlimited:
            continue
        busy, capacity = pool.busy_level, pool.capacity_level
        kpis[f"resource.{pool_name}.utilisation"] = _ratio(busy.marked, capacity.marked)
        kpis[f"resource.{pool_name}.busy.mean"] = busy.mean_to_mark()
        kpis[f"resource.{pool_name}.preemptions"] = float(pool.preemptions)
        if drained:
            kpis[f"drain.resource.{pool_name}.utilisation"] = _ratio(
                busy.integral(now) - busy.marked, capacity.integral(now) - capacity.marked
            )


def _path_kpis(model: ClearanceModel, kpis: dict[str, float]) -> None:
    """Shares of decided declarations sent to review and to inspection, per credit class."""
    total = PathCounts()
    for credit_index, credit in enumerate(CREDITS):
        counts = PathCounts()
        for flow in model.flows:
            counts.add(flow.path_counts[credit_index])
        total.add(counts)
        if counts.decided:
            kpis[f"share.{credit.value}.review"] = counts.reviewed / counts.decided
            kpis[f"share.{credit.value}.inspection"] = counts.inspected / counts.decided
    if total.decided:
        kpis["share.review"] = total.reviewed / total.decided
        kpis["share.inspection"] = total.inspected / total.decided


def _transit_kpis(model: ClearanceModel, kpis: dict[str, float], drained: bool) -> None:
    now = model.env.now
    for lock_name, locks in model.lock_pools.items():
        prefix = f"locks.{lock_name}"
        kpis[f"{prefix}.utilisation"] = locks.in_use.mean_to_mark() / locks.size
        if drained:
            kpis[f"drain.{prefix}.utilisation"] = locks.in_use.mean_from_mark(now) / locks.size
        kpis[f"{prefix}.in_use.max"] = locks.in_use.maximum
        waits = np.asarray(locks.waits)
        kpis.update(describe(waits, f"{prefix}.wait"))
        kpis[f"{prefix}.waited_share"] = float((waits > 0).mean()) if waits.size else math.nan
    for corridor_name, corridor in model.corridors.items():
        prefix = f"corridor.{corridor_name}"
        kpis[f"{prefix}.trucks"] = float(len(corridor.loads))
        kpis[f"{prefix}.load.mean"] = float(np.mean(corridor.loads)) if corridor.loads else math.nan
        kpis.update(describe(corridor.transit_times, f"{prefix}.transit"))
        for kind, count in corridor.alarms.items():
            kpis[f"{prefix}.alarms.{kind}"] = float(count)
