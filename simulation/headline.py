"""A run's answers before its KPI table: demand against throughput, the share released within
the target, the bottleneck with its evidence, and warnings about the run itself.

``headline(result, scenario)`` reads a finished ``RunResult``; ``simulation.sensitivity``
adds the one change that helps most, measured. docs/planning.md, "The headline", says how each
part is decided.

**The bottleneck** is the pool (a resource, or an e-lock pool) that holds declarations
waiting longest in total: for a resource, the sum over the stages it serves of mean wait ×
services; for an e-lock pool, a truck's mean wait for a lock × trucks × declarations per truck
of the corridors drawing on it. Its evidence is that share of all waiting and its utilisation
in the peak window (``simulation.peak``); when another pool is busier in the peak window, the
headline says so too. A pool with no waiting is no bottleneck: with no waiting at all the
headline names none.

**Warnings.** (1) Not drained: declarations still in the system at the end have no cycle time,
so the cycle-time KPIs leave out the slowest ones (right-censoring). (2) Warm-up too short, by
Welch's method (P. D. Welch, "The statistical analysis of simulation results", in *The Computer
Performance Modeling Handbook*, Academic Press, 1983, pp. 268–328; A. M. Law, *Simulation
Modeling and Analysis*, 5th ed., 2015, §9.5.1): the in-system series averaged over
replications, smoothed by a centred moving average, should have reached its steady level by
the end of the warm-up. Welch's method assumes a steady state, so it is applied only when every
flow's arrival rate is constant (Poisson without an hourly profile or peaks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from simulation.runner import RunResult
from simulation.scenario import PoissonArrivals, Scenario, StageName
from simulation.stats import Estimate

NOT_DRAINED_SHARE = 0.005
"""Warn when more than this share of the declarations lodged after the warm-up (and at least
one) is still in the system at the end."""

WELCH_TOLERANCE = 0.05
"""The smoothed in-system curve has settled once it stays within 5 % of its steady level."""


@dataclass(frozen=True)
class PoolLoad:
    """One pool's part in the waiting, and how busy it is."""

    kind: str  # "resource" or "locks"
    name: str
    stages: tuple[str, ...]  # the stages it serves (resources) or corridors (lock pools)
    wait_hours: float  # declaration-hours of waiting it caused, per replication (mean)
    wait_share: float  # of all waiting
    utilisation: float  # over the arrival window
    peak_utilisation: float  # in the peak window (NaN without samples)

    @property
    def label(self) -> str:
        return f"{'e-lock pool' if self.kind == 'locks' else 'resource'} {self.name}"


@dataclass
class Headline:
    demand_per_hour: Estimate  # declarations lodged per hour of the arrival window
    throughput_per_hour: Estimate
    released_within: dict[str, Estimate]  # "all" and each regime label: share within target
    target_hours: float
    pools: list[PoolLoad]  # most waiting first
    bottleneck: PoolLoad | None
    busiest: PoolLoad | None  # highest peak utilisation
    warnings: list[str] = field(default_factory=list)
    cost: dict[str, Estimate] = field(default_factory=dict)  # the cost.* KPIs, if costed
    currency: str = ""
    # customs time (trs.*) and trader time in the corridors (corridor.*), means
    times: dict[str, Estimate] = field(default_factory=dict)

    def bottleneck_text(self) -> str:
        b = self.bottleneck
        if b is None:
            return "none: no declaration waited for a pool"
        text = (
            f"{b.label} ({', '.join(b.stages)}): {b.wait_share:.0%} of all waiting, "
            f"{b.peak_utilisation:.0%} busy in the peak window ({b.utilisation:.0%} overall)"
        )
        other = self.busiest
        if other is not None and (other.kind, other.name) != (b.kind, b.name):
            text += (
                f"; {other.label} is busier in the peak window ({other.peak_utilisation:.0%}) "
                f"but holds {other.wait_share:.0%} of the waiting"
            )
        return text


def _mean(result: RunResult, name: str) -> float:
    estimate = result.kpis.get(name)
    return estimate.mean if estimate is not None and estimate.n else math.nan


def _zero_if_nan(value: float) -> float:
    return 0.0 if math.isnan(value) else value


def pool_loads(result: RunResult, scenario: Scenario) -> list[PoolLoad]:
    """Every limited pool's waiting and utilisation, most waiting first."""
    loads: list[tuple[str, str, tuple[str, ...], float]] = []
    for pool_name, resource in scenario.resources.items():
        if resource.capacity is None and resource.schedule is None:
            continue  # unlimited: nothing waits for it
        stages = tuple(
            s.value
            for s in StageName
            if (stage := getattr(scenario.stages, s.value)) is not None
            and stage.resource == pool_name
        )
        wait = sum(
            _zero_if_nan(_mean(result, f"stage.{s}.wait.mean"))
            * _zero_if_nan(_mean(result, f"stage.{s}.served"))
            for s in stages
        )
        loads.append(("resource", pool_name, stages, wait / 3600.0))
    for lock_name in scenario.lock_pools:
        corridors = tuple(
            c for c, spec in scenario.corridors.items() if spec.lock_pool == lock_name
        )
        wait = _zero_if_nan(_mean(result, f"locks.{lock_name}.wait.mean")) * sum(
            _zero_if_nan(_mean(result, f"corridor.{c}.trucks"))
            * _zero_if_nan(_mean(result, f"corridor.{c}.load.mean"))
            for c in corridors
        )
        loads.append(("locks", lock_name, corridors, wait / 3600.0))
    total = sum(w for *_, w in loads)
    pools = [
        PoolLoad(
            kind,
            name,
            stages,
            wait,
            wait / total if total > 0 else 0.0,
            _mean(result, f"{kind}.{name}.utilisation"),
            _mean(result, f"{kind}.{name}.utilisation.peak"),
        )
        for kind, name, stages, wait in loads
    ]
    return sorted(pools, key=lambda p: (-p.wait_hours, -_zero_if_nan(p.peak_utilisation)))


def _stationary(scenario: Scenario) -> bool:
    return all(
        isinstance(f.arrivals, PoissonArrivals)
        and f.arrivals.hourly_profile is None
        and not f.arrivals.peaks
        for f in scenario.flows
    )


def welch_settling_hour(
    times_h: list[float], in_system: list[float], end_h: float, noise: float = 0.0
) -> float:
    """When the smoothed in-system curve (Welch: the mean over replications, a centred moving
    average over about a twentieth of the arrival window) comes within a tolerance of its level
    over the second half of the window and stays there; NaN when it still leaves that band in
    the second half (no steady state). The tolerance is ``WELCH_TOLERANCE`` of the level, or
    ``noise`` (the replications' own spread: the mean half-width of the pointwise band) when
    that is wider, and at least one declaration."""
    times = np.asarray(times_h, dtype=float)
    level = np.asarray(in_system, dtype=float)[times <= end_h + 1e-9]
    times = times[: level.size]
    if level.size < 10:
        return 0.0
    half = max(1, level.size // 40)
    kernel = np.ones(2 * half + 1) / (2 * half + 1)
    smooth = np.convolve(level, kernel, mode="valid")  # centred: index i ↔ times[i + half]
    steady = float(smooth[smooth.size // 2 :].mean())
    tolerance = max(WELCH_TOLERANCE * steady, noise, 1.0)
    outside = np.flatnonzero(np.abs(smooth - steady) > tolerance)
    if outside.size == 0:
        return float(times[0])
    last_outside = int(outside[-1])
    if last_outside >= smooth.size // 2:
        return math.nan  # never settles: the series does not reach a steady level
    return float(times[min(last_outside + 1 + half, times.size - 1)])


def _warnings(result: RunResult, scenario: Scenario) -> list[str]:
    warnings: list[str] = []
    arrived = _mean(result, "arrived_after_warmup")
    threshold = max(1.0, NOT_DRAINED_SHARE * _zero_if_nan(arrived))
    unreleased = float(np.mean([r.unreleased for r in result.replications]))
    leaving = float(np.mean([r.in_system for r in result.replications])) - unreleased
    if unreleased >= threshold:
        warnings.append(
            f"Not drained: {unreleased:,.0f} declarations (mean over replications) were not "
            f"released by the end. Their release times are missing, so the cycle-time KPIs "
            f"leave out the slowest declarations; give the run a longer drain_hours."
        )
    if leaving >= threshold:
        warnings.append(
            f"Not left: {leaving:,.0f} released declarations (mean over replications) had not "
            f"departed, closed or ended their transit by the end, so the end-to-end KPIs leave "
            f"them out (the cycle-time KPIs, to release, count them); a longer drain_hours "
            f"lets them leave."
        )
    band = result.series.get("in_system", {})
    if band.get("mean") and _stationary(scenario):
        times = np.asarray(result.series_times_h)
        second_half = times >= (scenario.warmup_hours + scenario.horizon_hours) / 2
        spread = (np.asarray(band["high"]) - np.asarray(band["low"]))[second_half] / 2
        settled = welch_settling_hour(
            result.series_times_h,
            band["mean"],
            scenario.horizon_hours,
            float(spread.mean()) if spread.size else 0.0,
        )
        if math.isnan(settled):
            warnings.append(
                "No steady state: the in-system series is still moving in the second half of "
                "the arrival window (Welch's method), so long-run averages are not meaningful; "
                "the site may be overloaded."
            )
        elif settled > scenario.warmup_hours:
            warnings.append(
                f"Warm-up too short: by Welch's method the in-system series settles at about "
                f"{settled:g} h, after the warm-up of {scenario.warmup_hours:g} h; the KPIs "
                f"include part of the start-up. Set warmup_hours to at least {settled:g}."
            )
    return warnings


def headline(result: RunResult, scenario: Scenario) -> Headline:
    """The headline of ``result``, a run of ``scenario`` (the scenario as run)."""
    arrival_hours = scenario.horizon_hours - scenario.warmup_hours
    arrived = result.kpis.get("arrived_after_warmup")
    nan = Estimate(math.nan, math.nan, math.nan, math.nan, math.nan, 0)
    demand = (
        Estimate(
            arrived.mean / arrival_hours,
            arrived.half_width / arrival_hours,
            arrived.low / arrival_hours,
            arrived.high / arrival_hours,
            arrived.std / arrival_hours,
            arrived.n,
        )
        if arrived is not None
        else nan
    )
    within = {"all": result.kpis.get("released_within_target", nan)}
    for name, estimate in sorted(result.kpis.items()):
        if name.startswith("released_within."):
            label = name.removeprefix("released_within.")
            within[label.removesuffix(f".{scenario.target_hours:g}h")] = estimate
    pools = pool_loads(result, scenario)
    waiting = [p for p in pools if p.wait_hours > 0]
    ranked = [p for p in pools if not math.isnan(p.peak_utilisation)]
    busiest = max(ranked, key=lambda p: p.peak_utilisation) if ranked else None
    return Headline(
        demand,
        result.kpis.get("throughput_per_hour", nan),
        within,
        scenario.target_hours,
        pools,
        waiting[0] if waiting else None,
        busiest,
        _warnings(result, scenario),
        {k: e for k, e in result.kpis.items() if k.startswith("cost.")},
        scenario.costs.currency if scenario.costs is not None else "",
        {
            k: e
            for k, e in result.kpis.items()
            if k in {"trs.to_decision.mean", "trs.decision_to_release.mean"}
            or (
                k.startswith("corridor.")
                and k.endswith((".release_to_departure.mean", ".lodgement_to_destination.mean"))
            )
        },
    )
