"""The capacity planner: the cheapest resources that meet every target, with stated confidence.

Public API::

    parse_target("released_within.9610-import.2h >= 0.95") -> Target      # PlanError if bad
    parse_range("resources.inspectors=2..20") -> Variation                 # PlanError if bad
    plan_capacity(scenario, targets, ranges, *, seed, alpha, ...) -> Plan

**The procedure** (docs/planning.md, "The capacity planner", says it in full). Candidates are
the grid of the varied values, ranked by cost per day (``simulation.cost.daily_cost``; without
a ``costs:`` section every server and lock costs 1). They are examined cheapest first. A
candidate starts with ``n0`` replications and gains ``batch`` more at each look, up to
``n_max``; at each look every target gets a one-sided Student-t bound at level
α / (looks × targets). A target is *met* when its bound clears the threshold (``>=``: the lower
bound is at or above it), *missed* when the opposite bound is on the wrong side. A candidate is
feasible when every target is met, infeasible as soon as one is missed, and undecided if
``n_max`` replications leave a target open. By Bonferroni's inequality over the looks and the
targets, each candidate's verdict is wrong with probability at most α. This is a sequential
feasibility check in the sense of S. Batur and S.-H. Kim, "Finding feasible systems in the
presence of constraints on multiple performance measures", *ACM TOMACS* 20(3), 2010 — but with
Bonferroni-corrected t bounds instead of their indifference-zone procedure, so it is more
conservative and a candidate whose true value sits on the threshold stays undecided.

Every candidate's replication *i* uses the same seed (``simulation.sweep.replication_seed``):
common random numbers, so candidates are compared on the same arrivals and services. More
capacity is assumed never to hurt (monotone targets): a candidate no larger than one found
infeasible in every varied value is ruled out without running. The first feasible candidate in
cost order is the recommendation; cheaper candidates left undecided are reported with it. The
guarantee is per verdict: the recommendation is right when its own verdict and those of the
cheaper candidates are, each wrong with probability at most α.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.special import stdtrit

from simulation.cost import daily_cost
from simulation.kpi_table import hours_label
from simulation.plan import RunPlan, plan_run
from simulation.runner import run_replication
from simulation.scenario import Scenario
from simulation.sweep import Scalar, SweepError, Variation, apply_overrides, replication_seed


class PlanError(ValueError):
    """A plan that cannot run (a bad target or range, an unknown KPI); ``str()`` says why."""


_TARGET = re.compile(r"^\s*(?P<kpi>\S+)\s*(?P<op>>=|<=)\s*(?P<value>[-+0-9.eE]+)\s*$")
# released_within.LABEL.TIME and stage.STAGE.wait_within.TIME, TIME as 2h, 0.5h or 30min
_WITHIN = re.compile(
    r"^(?P<stem>released_within\..+|stage\.[^.]+\.wait_within)\.(?P<n>[0-9.]+)(?P<unit>h|min)$"
)


@dataclass(frozen=True)
class Target:
    kpi: str  # as the run names it, e.g. released_within.9610-import.2h
    op: Literal[">=", "<="]
    threshold: float
    target_hours: float | None  # the scenario's target_hours the KPI needs, if it names one

    def __str__(self) -> str:
        return f"{self.kpi} {self.op} {self.threshold:g}"


def parse_target(text: str) -> Target:
    """``KPI >= X`` or ``KPI <= X``; a ``…within.2h`` or ``…within.30min`` KPI sets the scenario's
    ``target_hours`` to that time."""
    match = _TARGET.match(text)
    if match is None:
        raise PlanError(f"--target {text!r}: expected 'KPI >= VALUE' or 'KPI <= VALUE'")
    kpi, hours = match["kpi"], None
    within = _WITHIN.match(kpi)
    if within is not None:
        hours = float(within["n"]) / (60 if within["unit"] == "min" else 1)
        if hours <= 0:
            raise PlanError(f"--target {text!r}: the time must be positive")
        kpi = f"{within['stem']}.{hours_label(hours)}"
    op: Literal[">=", "<="] = ">=" if match["op"] == ">=" else "<="
    return Target(kpi, op, float(match["value"]), hours)


def parse_range(text: str) -> Variation:
    """``PATH=LOW..HIGH`` (every integer between), ``PATH=LOW..HIGH:STEP`` or ``PATH=A,B,C``;
    ``resources.POOL`` stands for ``resources.POOL.capacity``."""
    path, sep, values = text.partition("=")
    if not sep or not path or not values:
        raise PlanError(f"--vary {text!r}: expected PATH=LOW..HIGH or PATH=V1,V2,...")
    try:
        if ".." in values:
            span, _, step = values.partition(":")
            low, _, high = span.partition("..")
            numbers = tuple(range(int(low), int(high) + 1, int(step or 1)))
        else:
            numbers = tuple(int(v) for v in values.split(","))
    except ValueError:
        raise PlanError(f"--vary {text!r}: the values must be whole numbers") from None
    if not numbers:
        raise PlanError(f"--vary {text!r}: the range is empty")
    if re.fullmatch(r"resources\.[^.]+", path):
        path += ".capacity"
    return Variation(path, numbers)


@dataclass
class Candidate:
    values: dict[str, Scalar]
    cost: float
    scenario: Scenario = field(repr=False)
    samples: dict[str, list[float]] = field(default_factory=dict)  # per target KPI
    verdict: Literal["feasible", "infeasible", "undecided", "ruled out", "not run"] = "not run"
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)  # last look's

    @property
    def replications(self) -> int:
        return min((len(v) for v in self.samples.values()), default=0)

    def mean(self, kpi: str) -> float:
        values = self.samples.get(kpi, [])
        return float(np.mean(values)) if values else math.nan


@dataclass
class Plan:
    targets: list[Target]
    parameters: list[str]
    candidates: list[Candidate]  # in cost order
    recommended: Candidate | None
    alpha: float
    costed: bool  # False: cost counts units (no costs: section)


def _cost(scenario: Scenario, values: dict[str, Scalar], ranges: Sequence[Variation]) -> float:
    if scenario.costs is None:
        return float(sum(float(v) for v in values.values() if isinstance(v, int | float)))
    for variation in ranges:
        kind, name, *_ = variation.path.split(".")
        priced = (
            name in scenario.costs.resources
            if kind == "resources"
            else name in scenario.costs.lock_per_day
        )
        if not priced:
            raise PlanError(
                f"--vary {variation.path}: the scenario's costs: section gives {name!r} no price, "
                f"so more of it would look free"
            )
    return daily_cost(scenario)


def _candidates(
    scenario: Scenario, targets: Sequence[Target], ranges: Sequence[Variation]
) -> list[Candidate]:
    hours = {t.target_hours for t in targets if t.target_hours is not None}
    if len(hours) > 1:
        raise PlanError("targets name different times; one plan has one target_hours")
    base: dict[str, Scalar] = {"target_hours": hours.pop()} if hours else {}
    for variation in ranges:
        parts = variation.path.split(".")
        pool = scenario.resources.get(parts[1]) if parts[0] == "resources" else None
        if pool is not None and pool.schedule is not None and parts[2:] == ["capacity"]:
            steps = ", ".join(
                f"resources.{parts[1]}.schedule.{i}.capacity" for i in range(len(pool.schedule))
            )
            raise PlanError(
                f"--vary {variation.path}: {parts[1]} works shifts (schedule), so its capacity "
                f"is set per shift step: vary {steps}"
            )
    found = []
    for combination in itertools.product(*(v.values for v in ranges)):
        values = dict(zip((v.path for v in ranges), combination, strict=True))
        try:
            variant = apply_overrides(scenario, {**base, **values})
        except SweepError as exc:
            raise PlanError(str(exc)) from None
        found.append(Candidate(values, _cost(variant, values, ranges), variant))
    return sorted(found, key=lambda c: (c.cost, tuple(str(v) for v in c.values.values())))


def _replicate(plan: RunPlan, seed: int, index: int) -> dict[str, float]:
    # Module-level so process pools and Dask can pickle it by reference.
    return run_replication(plan, replication_seed(seed, index), index=index).kpis


def _check_names(kpis: dict[str, float], targets: Sequence[Target]) -> None:
    for target in targets:
        if target.kpi not in kpis:
            valid = sorted(k for k in kpis if not k.startswith(("cycle_time.lodged_hour",)))
            raise PlanError(
                f"--target: the run reports no KPI {target.kpi!r}; valid names are:\n  "
                + "\n  ".join(valid)
            )


def _dominated(small: Candidate, large: Candidate) -> bool:
    return all(
        isinstance(a, int | float) and isinstance(b, int | float) and a <= b
        for a, b in zip(small.values.values(), large.values.values(), strict=True)
    )


def plan_capacity(  # the procedure's knobs, documented above
    scenario: Scenario,
    targets: Sequence[Target],
    ranges: Sequence[Variation],
    *,
    seed: int = 1,
    alpha: float = 0.05,
    n0: int = 5,
    batch: int = 5,
    n_max: int = 40,
    executor: Executor | None = None,
    progress: Callable[[Candidate], None] | None = None,
) -> Plan:
    """Examine candidates cheapest first until one is feasible (see the module's docstring)."""
    if not targets or not ranges:
        raise PlanError("give at least one --target and one --vary")
    if not (0 < alpha < 1) or n0 < 2 or batch < 1 or n_max < n0:
        raise PlanError("need 0 < alpha < 1, n0 >= 2, batch >= 1 and n_max >= n0")
    candidates = _candidates(scenario, targets, ranges)
    looks = 1 + math.ceil((n_max - n0) / batch)
    level = alpha / (looks * len(targets))  # Bonferroni over looks and targets, one-sided
    recommended = None
    for candidate in candidates:
        if any(c.verdict == "infeasible" and _dominated(candidate, c) for c in candidates):
            candidate.verdict = "ruled out"
            continue
        _examine(candidate, targets, seed, level, n0, batch, n_max, executor)
        if progress is not None:
            progress(candidate)
        if candidate.verdict == "feasible":
            recommended = candidate
            break
    return Plan(
        list(targets),
        [v.path for v in ranges],
        candidates,
        recommended,
        alpha,
        scenario.costs is not None,
    )


def _examine(  # noqa: PLR0917
    candidate: Candidate,
    targets: Sequence[Target],
    seed: int,
    level: float,
    n0: int,
    batch: int,
    n_max: int,
    executor: Executor | None,
) -> None:
    plan = plan_run(candidate.scenario)
    candidate.samples = {t.kpi: [] for t in targets}
    done = 0
    while True:
        wanted = range(done, n0 if done == 0 else min(done + batch, n_max))
        if executor is None:
            results = [_replicate(plan, seed, i) for i in wanted]
        else:
            futures = [executor.submit(_replicate, plan, seed, i) for i in wanted]
            results = [f.result() for f in futures]  # in index order: the samples stay paired
        if done == 0:
            _check_names(results[0], targets)
        for kpis in results:
            for t in targets:
                candidate.samples[t.kpi].append(kpis.get(t.kpi, math.nan))
        done = wanted.stop
        for t in targets:  # every target's bounds at this look, for the evidence and plot
            candidate.bounds[t.kpi] = _bounds(candidate.samples[t.kpi], level)
        open_targets = 0
        for t in targets:
            low, high = candidate.bounds[t.kpi]
            if (t.op == ">=" and high < t.threshold) or (t.op == "<=" and low > t.threshold):
                candidate.verdict = "infeasible"
                return
            if not (
                (t.op == ">=" and low >= t.threshold) or (t.op == "<=" and high <= t.threshold)
            ):
                open_targets += 1
        if open_targets == 0:
            candidate.verdict = "feasible"
            return
        if done >= n_max:
            candidate.verdict = "undecided"
            return


def _bounds(values: Sequence[float], level: float) -> tuple[float, float]:
    """One-sided lower and upper Student-t bounds, each at confidence 1 − ``level``. A KPI
    without observations in a replication (NaN) counts as unknown: the bounds are infinite."""
    data = np.asarray(values, dtype=float)
    if data.size < 2 or not np.isfinite(data).all():
        return -math.inf, math.inf
    half = float(stdtrit(data.size - 1, 1 - level)) * float(data.std(ddof=1)) / math.sqrt(data.size)
    mean = float(data.mean())
    return mean - half, mean + half
