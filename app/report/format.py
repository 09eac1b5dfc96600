"""How KPI values read: durations in s/min/h, shares in %, counts and rates with separators.

The unit of a KPI is the one ``simulation.kpi_table`` gives it. A name the table does not know
(a result file from another version) reads as a plain number.
"""

from __future__ import annotations

import math

from simulation.kpi_table import duration, find_kpi

__all__ = ["duration", "exact", "format_change", "format_value", "headline"]


def format_value(name: str, value: float | None) -> str:
    """The value of KPI ``name`` for a person; ``–`` when there is none (NaN or null)."""
    if value is None or not math.isfinite(value):
        return "–"
    kpi = find_kpi(name)
    unit = kpi.unit if kpi is not None else "count"
    if unit == "seconds":
        return duration(value)
    if unit == "share":
        return f"{100 * value:.1f} %"
    if unit == "hours per day":
        return f"{value:,.1f} h/day"
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
    """The KPIs a planner looks at first (terminal tables, sweep plots); files have them all.
    The table marks them (``simulation.kpi_table.KPI.headline``)."""
    kpi = find_kpi(name)
    return kpi is not None and kpi.headline
