"""The KPI table: every KPI a run reports, with its unit, meaning and which way is better.

``simulation.kpis`` computes the KPIs; this table says what they are. The runner cuts each
confidence interval to the KPI's range, and the command line, the HTML report, ``compare`` and
``sweep`` take units, headlines and meanings from here (docs/simulation.md, "KPI names", is
checked against it by a test). Kept free of SimPy, numpy and the model so that the report's
formatting and the command line can read it without loading them.

Names are templates: the upper-case parts stand for names from the scenario. ``FLOW``,
``LABEL`` (a flow's regime label, ``9610-import``, ``mail``), ``POOL`` (a resource or e-lock
pool) and ``CORRIDOR`` are the scenario's own names and may hold any text; ``STAGE``,
``CREDIT`` and ``KIND`` (an alarm kind) are single words the schema fixes. So
``stage.review.wait.mean`` is the KPI ``stage.STAGE.wait.mean``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

Unit = Literal["seconds", "per hour", "count", "share", "hours per day", "money"]
"""Durations are seconds, rates per hour, shares fractions of 1 (0 … 1); server-hours a day
and money (in the scenario's ``costs.currency``) are the cost KPIs'."""

Better = Literal["higher", "lower"] | None
"""Which way a planner wants the KPI to move; ``None`` where neither is better (how many
declarations came, how busy the staff is)."""

STATISTICS = ("mean", "p50", "p90", "p95", "p99")
"""What ``simulation.stats.describe`` reports of a list of observations."""

_ANY_TEXT = ("FLOW", "LABEL", "POOL", "CORRIDOR")
_ONE_WORD = ("STAGE", "CREDIT", "KIND", "HOUR")
_HOURS = r"[0-9.e+-]+h"  # HOURS: ``target_hours`` as ``hours_label`` writes it (``0.5h``)


@dataclass(frozen=True, slots=True)
class KPI:
    name: str  # a template: upper-case parts stand for the scenario's names
    unit: Unit
    better: Better
    description: str
    headline: bool = False  # a planner looks at it first: terminal tables, sweep plots
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = []
        for part in self.name.split("."):
            if part in _ANY_TEXT:
                parts.append(".+")
            elif part in _ONE_WORD:
                parts.append("[^.]+")
            elif part == "HOURS":
                parts.append(_HOURS)
            else:
                parts.append(re.escape(part))
        object.__setattr__(self, "pattern", re.compile(r"\.".join(parts)))

    @property
    def range(self) -> tuple[float, float]:
        """The values the KPI can take: none is negative, and a share is at most 1."""
        return (0.0, 1.0) if self.unit == "share" else (0.0, math.inf)


_STATISTIC_TEXT = {
    "mean": "mean",
    "p50": "median",
    "p90": "90th percentile",
    "p95": "95th percentile",
    "p99": "99th percentile",
}


def _durations(name: str, description: str, headline: tuple[str, ...] = ()) -> list[KPI]:
    """``NAME.mean``, ``NAME.p50`` … ``NAME.p99`` of a list of durations (lower is better)."""
    return [
        KPI(
            f"{name}.{statistic}",
            "seconds",
            "lower",
            f"{description} ({_STATISTIC_TEXT[statistic]})",
            statistic in headline,
        )
        for statistic in STATISTICS
    ]


_HEADLINE = ("mean", "p95")

_TABLE: list[KPI] = [
    KPI(
        "throughput_per_hour",
        "per hour",
        "higher",
        "releases (800) per hour in the arrival window (warm-up end → horizon)",
        headline=True,
    ),
    KPI("drain.released", "count", None, "releases during the drain", headline=True),
    KPI("drain.throughput_per_hour", "per hour", None, "releases per hour of the drain"),
    KPI(
        "drain.resource.POOL.utilisation",
        "share",
        None,
        "utilisation of a resource during the drain",
    ),
    KPI(
        "drain.locks.POOL.utilisation",
        "share",
        None,
        "utilisation of an e-lock pool during the drain",
    ),
    KPI(
        "released_within_target",
        "share",
        "higher",
        "of declarations lodged after the warm-up and at least `target_hours` before the run's "
        "end, the share released within `target_hours`",
        headline=True,
    ),
    KPI(
        "released_within.LABEL.HOURS",
        "share",
        "higher",
        "of one regime's declarations lodged after the warm-up and at least `target_hours` "
        "before the run's end, the share released within `target_hours` (HOURS is it, e.g. "
        "`2h`)",
        headline=True,
    ),
    KPI("arrived_after_warmup", "count", None, "declarations lodged after the warm-up"),
    *_durations("cycle_time.all", "lodgement → release", _HEADLINE),
    *_durations("cycle_time.flow.FLOW", "lodgement → release of one flow"),
    *_durations(
        "cycle_time.regime.LABEL",
        "lodgement → release of one regime (`9610-import`, `9710-export`, `mail`…)",
        _HEADLINE,
    ),
    KPI(
        "cycle_time.lodged_hour.HOUR.mean",
        "seconds",
        "lower",
        "mean lodgement → release of the declarations lodged in one hour of the day (HOUR "
        "`00` … `23`), released ones only",
    ),
    *_durations("end_to_end.all", "lodgement → exit (899)"),
    *_durations(
        "trs.to_decision",
        "Time Release Study split of the cycle time: lodgement → risk decision (399), "
        "released declarations",
        _HEADLINE,
    ),
    *_durations(
        "trs.decision_to_release",
        "Time Release Study split of the cycle time: risk decision (399) → release (800)",
        _HEADLINE,
    ),
    KPI("stage.STAGE.served", "count", None, "services completed at the stage"),
    *_durations("stage.STAGE.sojourn", "wait + service at the stage", ("p95",)),
    KPI("stage.STAGE.wait.mean", "seconds", "lower", "mean wait before service", headline=True),
    KPI(
        "stage.STAGE.wait_within.HOURS",
        "share",
        "higher",
        "of the services at the stage (declarations lodged after the warm-up), the share that "
        "waited at most `target_hours` (HOURS is it, e.g. `2h`): 1 − P(wait > target)",
    ),
    KPI("stage.STAGE.wait.CREDIT.mean", "seconds", "lower", "mean wait of one credit class"),
    KPI(
        "stage.STAGE.queue.mean",
        "count",
        "lower",
        "time-average waiting line (stages with a limited pool)",
        headline=True,
    ),
    KPI(
        "stage.STAGE.queue.max",
        "count",
        "lower",
        "longest waiting line (stages with a limited pool)",
        headline=True,
    ),
    KPI(
        "resource.POOL.utilisation",
        "share",
        None,
        "busy-server time / capacity time in the arrival window",
        headline=True,
    ),
    KPI(
        "resource.POOL.utilisation.peak",
        "share",
        None,
        "sampled busy servers / sampled capacity in the peak window (the 6 h of the arrival "
        "window with the most declarations in the system)",
        headline=True,
    ),
    KPI(
        "resource.POOL.utilisation.busiest",
        "share",
        None,
        "the highest sampled busy servers / capacity in the peak window",
    ),
    KPI("peak.start_hour", "count", None, "the hour the peak window starts (hours of the run)"),
    KPI("resource.POOL.busy.mean", "count", None, "time-average busy servers"),
    KPI("resource.POOL.preemptions", "count", "lower", "services interrupted at a shift end"),
    KPI(
        "share.review",
        "share",
        None,
        "of decided declarations, the share sent to review",
        headline=True,
    ),
    KPI(
        "share.inspection",
        "share",
        None,
        "of decided declarations, the share sent to inspection",
        headline=True,
    ),
    KPI("share.CREDIT.review", "share", None, "the share sent to review, of one credit class"),
    KPI("share.CREDIT.inspection", "share", None, "the share inspected, of one credit class"),
    KPI(
        "locks.POOL.utilisation",
        "share",
        None,
        "time-average locks in use / pool size in the arrival window",
        headline=True,
    ),
    KPI(
        "locks.POOL.utilisation.peak",
        "share",
        None,
        "sampled locks in use / pool size in the peak window",
    ),
    KPI(
        "locks.POOL.utilisation.busiest",
        "share",
        None,
        "the highest sampled locks in use / pool size in the peak window",
    ),
    KPI("locks.POOL.in_use.max", "count", None, "most locks in use at once", headline=True),
    KPI("locks.POOL.waited_share", "share", "lower", "share of trucks that waited for a lock"),
    *_durations("locks.POOL.wait", "a truck's wait for a lock", ("mean",)),
    KPI("corridor.CORRIDOR.trucks", "count", None, "trucks dispatched after the warm-up"),
    KPI(
        "corridor.CORRIDOR.load.mean",
        "count",
        None,
        "declarations per truck dispatched after the warm-up",
    ),
    KPI(
        "corridor.CORRIDOR.alarms.KIND",
        "count",
        "lower",
        "alarms of one kind (`tamper`, `low_battery`, `route_deviation`) on the way",
    ),
    *_durations("corridor.CORRIDOR.transit", "a truck's seal → unseal time"),
    *_durations(
        "corridor.CORRIDOR.release_to_departure",
        "trader time in the corridor: release → the truck's departure (the loading bay, the "
        "wait for a lock, sealing), declarations lodged after the warm-up",
        ("mean",),
    ),
    *_durations(
        "corridor.CORRIDOR.lodgement_to_destination",
        "lodgement → unsealed at the destination, declarations lodged after the warm-up",
        ("mean", "p95"),
    ),
    KPI(
        "cost.staff_hours",
        "hours per day",
        None,
        "scheduled server-hours a day of the pools costed as staff (`costs:`)",
        headline=True,
    ),
    KPI(
        "cost.equipment_hours",
        "hours per day",
        None,
        "scheduled server-hours a day of the pools costed as equipment",
        headline=True,
    ),
    KPI(
        "cost.per_day",
        "money",
        "lower",
        "cost of the costed pools' scheduled hours and of the e-locks, per day",
        headline=True,
    ),
    KPI(
        "cost.per_declaration",
        "money",
        "lower",
        "cost per day / releases per day (arrival window)",
        headline=True,
    ),
]

KPIS: Mapping[str, KPI] = {kpi.name: kpi for kpi in _TABLE}
"""The table, by name template, in the order the documentation lists it."""


@cache
def find_kpi(name: str) -> KPI | None:
    """The table's entry for KPI ``name`` (e.g. ``stage.review.wait.mean``); ``None`` when the
    name is not one a run reports (a file from another version, say)."""
    return next((kpi for kpi in _TABLE if kpi.pattern.fullmatch(name)), None)


def kpi(name: str) -> KPI:
    """The table's entry for KPI ``name``; ``KeyError`` if the table has none."""
    found = find_kpi(name)
    if found is None:
        raise KeyError(f"KPI {name!r} is not in simulation/kpi_table.py")
    return found


def hours_label(hours: float) -> str:
    """How ``target_hours`` reads in a KPI's name: ``2h``, ``0.5h``."""
    return f"{hours:g}h"


def duration(seconds: float) -> str:
    """A duration for a person: seconds, minutes or hours, whichever reads best."""
    if abs(seconds) < 120:
        return f"{seconds:.1f} s"
    if abs(seconds) < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def kpi_unit(name: str) -> Unit:
    return kpi(name).unit


def kpi_range(name: str) -> tuple[float, float]:
    """The values KPI ``name`` can take (``simulation.stats.t_interval`` cuts to them)."""
    return kpi(name).range
