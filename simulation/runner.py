"""Batch runs: one replication, or many with confidence intervals.

Public API::

    run_replication(plan_or_scenario, seed, *, on_transition=None, horizon_hours=None)
        -> ReplicationResult
    run(scenario, replications, seed, *, executor=None, progress=None, horizon_hours=None)
        -> RunResult
    RunResult.to_json() -> str      # format documented in docs/simulation.md
    RunResult.plan                  # the scenario as run and its traces (simulation.plan)

Replication i draws from ``numpy.random.SeedSequence(seed).spawn(replications)[i]``, so its
results do not depend on which process ran it or how many workers there were. ``executor`` is
any ``concurrent.futures.Executor`` (a ``ProcessPoolExecutor`` for local cores); ``None`` runs
the replications one after another in this process.
"""

from __future__ import annotations

import gc
import json
import math
import time
from collections.abc import Callable
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy
from simpy.core import StopSimulation

from declarations import ReturnStatus
from simulation.kpi_table import kpi_range
from simulation.kpis import ArrivalWindow, replication_kpis
from simulation.lifecycle import OnTransition
from simulation.model import HOUR, ClearanceModel
from simulation.peak import peak_kpis
from simulation.plan import RunPlan, plan_run
from simulation.scenario import Scenario
from simulation.stats import Estimate, band, t_interval

FORMAT_VERSION = 1


@dataclass
class ReplicationResult:
    index: int
    kpis: dict[str, float]
    series: dict[str, list[float]]
    series_times_h: list[float]
    arrived: int
    finished: dict[int, int]  # final returnStatus -> count
    in_system: int
    # of ``in_system``: those not yet released (the rest await departure, closing or transit)
    unreleased: int
    conservation_ok: bool
    events: int  # SimPy events processed in the replication (``run_counting``)
    wall_seconds: float  # informational only; never asserted

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "arrived": self.arrived,
            "finished": {str(k): v for k, v in sorted(self.finished.items())},
            "in_system": self.in_system,
            "unreleased": self.unreleased,
            "conservation_ok": self.conservation_ok,
            "events": self.events,
            "wall_seconds": self.wall_seconds,
            "kpis": self.kpis,
        }


@dataclass
class RunResult:
    scenario: str
    seed: int
    replications: list[ReplicationResult]
    kpis: dict[str, Estimate] = field(default_factory=dict)
    series_times_h: list[float] = field(default_factory=list)
    series: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    # The scenario as run and its traces (not part of the JSON); None for a result put
    # together from replications run elsewhere (sweeps).
    plan: RunPlan | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "danchuang-simulate",
            "version": FORMAT_VERSION,
            "scenario": self.scenario,
            "seed": self.seed,
            "replications": len(self.replications),
            "conservation_ok": all(r.conservation_ok for r in self.replications),
            "kpis": {k: v.as_dict() for k, v in self.kpis.items()},
            "series": {"times_h": self.series_times_h, **self.series},
            "per_replication": [r.to_dict() for r in self.replications],
        }

    def to_json_dict(self) -> dict[str, Any]:
        """``to_dict()`` as ``to_json()`` writes it: NaN is not JSON, so KPIs without
        observations are ``None`` (null)."""
        data: dict[str, Any] = _nan_to_none(self.to_dict())
        return data

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_json_dict(), indent=indent, ensure_ascii=False)


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    return value


# --- one replication -----------------------------------------------------------------------


def run_counting(env: simpy.Environment, stop: simpy.Event) -> int:
    """Run ``env`` until ``stop`` (an event scheduled before any other of its time, e.g. a
    timeout made before the model: then nothing due at the stop time runs, as with SimPy's
    ``run(until=...)``); returns how many events were processed. The loop is SimPy's own
    (``step`` until ``StopSimulation``), so counting costs no call per event."""
    stop.callbacks.append(StopSimulation.callback)
    step = env.step
    processed = 0
    try:
        while True:
            step()
            processed += 1
    except StopSimulation:
        return processed


def _reader(obj: object, attribute: str = "value") -> Callable[[], float]:
    return lambda: float(getattr(obj, attribute))


def _sampler(
    model: ClearanceModel, every: float, end: float
) -> tuple[list[float], dict[str, list[float]], Callable[[], None]]:
    """Schedule the regular-grid sampling of levels; returns the lists it fills and the
    function that takes the last sample at the end (``env.run(until=end)`` stops before
    events due at ``end``)."""
    env = model.env
    times: list[float] = []
    series: dict[str, list[float]] = {"in_system": [], "throughput_per_hour": []}
    probes: list[tuple[list[float], Callable[[], float]]] = [
        (series["in_system"], model.in_system_count)
    ]
    for name, stage in model.stages.items():
        if not stage.pool.unlimited:  # an unlimited stage never has a queue
            probes.append((series.setdefault(f"queue.{name.value}", []), _reader(stage.queue)))
    for pool_name, pool in model.pools.items():
        probes.append((series.setdefault(f"busy.{pool_name}", []), _reader(pool, "busy")))
        if not pool.unlimited:
            probes.append(
                (series.setdefault(f"capacity.{pool_name}", []), _reader(pool, "capacity"))
            )
    for lock_name, locks in model.lock_pools.items():
        probes.append((series.setdefault(f"locks_in_use.{lock_name}", []), _reader(locks.in_use)))
        probes.append((series.setdefault(f"trucks_waiting_lock.{lock_name}", []), locks.waiting))
    throughput = series["throughput_per_hour"]
    last_released = [0]

    def take() -> None:
        model.settle()
        now = env.now
        times.append(now / HOUR)
        for target, probe in probes:
            target.append(probe())
        released = model.released_total - last_released[0]
        last_released[0] = model.released_total
        throughput.append(released / (every / HOUR) if now > 0 else 0.0)

    def sample(_event: simpy.Event | None) -> None:
        take()
        if env.now + every < end - 1e-9:
            simpy.Timeout(env, every).callbacks.append(sample)

    def last() -> None:
        if env.now > times[-1] * HOUR:
            take()

    sample(None)
    return times, series, last


def run_replication(
    plan: RunPlan | Scenario,
    seed: int | np.random.SeedSequence,
    *,
    on_transition: OnTransition | None = None,
    horizon_hours: float | None = None,
    index: int = 0,
    inspect: Callable[[ClearanceModel], None] | None = None,
) -> ReplicationResult:
    """Run one replication of a plan (batch mode) and summarise it. A scenario is planned
    first (``plan_run``: its traces are read, ``horizon_hours`` applied); a plan already has
    its horizon, so ``horizon_hours`` is refused with it. ``inspect`` is given the finished
    model before it is dropped (``simulation.national`` takes its observations' digest)."""
    started = time.perf_counter()
    if isinstance(plan, Scenario):
        plan = plan_run(plan, horizon_hours)
    elif horizon_hours is not None:
        raise ValueError("a RunPlan has its horizon: give horizon_hours to plan_run")
    scenario = plan.scenario
    if isinstance(seed, np.random.SeedSequence):
        # The model spawns child streams, which advances the sequence's spawn counter: work on
        # a fresh copy so the same SeedSequence always gives the same replication.
        seed = np.random.SeedSequence(
            seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size
        )
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    end = (scenario.horizon_hours + scenario.drain_hours) * HOUR
    stop = env.timeout(end)  # first of its time: nothing due at the end runs
    cutoff = end - scenario.target_hours * HOUR
    model = ClearanceModel(
        env, scenario, rng, traces=plan.traces, target_cutoff=cutoff, on_transition=on_transition
    )
    planned = model.start()
    window = ArrivalWindow(model, scenario.horizon_hours * HOUR, cutoff)
    times, series, last_sample = _sampler(model, scenario.sample_every_minutes * 60.0, end)
    # Nothing in the model makes reference cycles at a rate worth collecting; the cyclic GC
    # would only rescan the growing heap.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        events = run_counting(env, stop)
    finally:
        if gc_was_enabled:
            gc.enable()
    last_sample()
    model.settle()
    in_system = len(model.live)
    finished_total = sum(model.finished.values())
    conservation_ok = (
        model.arrived == finished_total + in_system
        and model.arrived == planned
        and all(not d.status.is_final for d in model.live.values())
    )
    kpis = replication_kpis(model, window)
    sizes = {name: pool.size for name, pool in scenario.lock_pools.items()}
    kpis.update(peak_kpis(series, times, scenario.warmup_hours, scenario.horizon_hours, sizes))
    if inspect is not None:
        inspect(model)
    return ReplicationResult(
        index=index,
        kpis=kpis,
        series=series,
        series_times_h=times,
        arrived=model.arrived,
        finished={int(k): v for k, v in model.finished.items()},
        in_system=in_system,
        conservation_ok=conservation_ok,
        unreleased=sum(1 for d in model.live.values() if d.status != ReturnStatus.RELEASED),
        events=events,
        wall_seconds=time.perf_counter() - started,
    )


# --- many replications ---------------------------------------------------------------------


def _replicate(plan: RunPlan, seed: np.random.SeedSequence, index: int) -> ReplicationResult:
    return run_replication(plan, seed, index=index)


def summarise(
    scenario_name: str,
    seed: int,
    results: list[ReplicationResult],
    plan: RunPlan | None = None,
) -> RunResult:
    results = sorted(results, key=lambda r: r.index)
    names = sorted({k for r in results for k in r.kpis})
    kpis = {
        k: t_interval([r.kpis.get(k, math.nan) for r in results], bounds=kpi_range(k))
        for k in names
    }
    series: dict[str, dict[str, list[float]]] = {}
    times = results[0].series_times_h if results else []
    for key in results[0].series if results else []:
        series[key] = band([r.series[key] for r in results])
    return RunResult(scenario_name, seed, results, kpis, times, series, plan)


def run(
    scenario: Scenario,
    replications: int,
    seed: int,
    *,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    horizon_hours: float | None = None,
) -> RunResult:
    """Independent replications with their own seeds, summarised with 95 % t-intervals
    (within each KPI's range, ``simulation.stats``). The run's plan (``plan_run``: the
    horizon applied, the traces read) is made once and shared by every replication."""
    if replications < 1:
        raise ValueError("replications must be at least 1")
    plan = plan_run(scenario, horizon_hours)
    seeds = np.random.SeedSequence(seed).spawn(replications)
    results: list[ReplicationResult] = []
    if executor is None:
        for i, child in enumerate(seeds):
            results.append(_replicate(plan, child, i))
            if progress is not None:
                progress(len(results), replications)
    else:
        futures = [executor.submit(_replicate, plan, child, i) for i, child in enumerate(seeds)]
        for future in as_completed(futures):
            results.append(future.result())
            if progress is not None:
                progress(len(results), replications)
    return summarise(scenario.name, seed, results, plan)
