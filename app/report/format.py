"""How KPI values read: durations in s/min/h, shares in %, counts with separators.

The unit of a KPI follows from its name, as ``simulation.kpi_units.kpi_unit`` defines it: cycle
times, sojourns, waits and transit times are seconds; utilisations and shares are fractions;
everything else is a count or a rate.
"""

from __future__ import annotations

import math

from simulation.kpi_units import kpi_unit


def duration(seconds: float) -> str:
    if abs(seconds) < 120:
        return f"{seconds:.1f} s"
    if abs(seconds) < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def format_value(name: str, value: float | None) -> str:
    """The value of KPI ``name`` for a person; ``–`` when there is none (NaN or null)."""
    if value is None or not math.isfinite(value):
        return "–"
    unit = kpi_unit(name)
    if unit == "duration":
        return duration(value)
    if unit == "share":
        return f"{100 * value:.1f} %"
    return f"{value:,.2f}"


def format_change(relative: float | None) -> str:
    """A relative change as a signed percentage (``+12.3 %``); ``–`` when undefined."""
    if relative is None or not math.isfinite(relative):
        return "–"
    return f"{100 * relative:+.1f} %"


def exact(value: float | None) -> str:
    """The value as written in ``data-*`` attributes: ``repr`` round-trips a float exactly;
    empty when there is none."""
    if value is None or not math.isfinite(value):
        return ""
    return repr(float(value))


def headline(name: str) -> bool:
    """The KPIs a planner looks at first (terminal tables, sweep plots); files have them all."""
    if name in {
        "throughput_per_hour",
        "drain.released",
        "released_within_target",
        "share.review",
        "share.inspection",
    }:
        return True
    if name.startswith(("cycle_time.regime.", "cycle_time.all.", "trs.")):
        return name.endswith((".mean", ".p95"))
    if name.startswith("stage."):
        return name.endswith((".wait.mean", ".sojourn.p95", ".queue.mean", ".queue.max"))
    if name.startswith(("resource.", "locks.")):
        return name.endswith((".utilisation", ".wait.mean", ".in_use.max"))
    return False
