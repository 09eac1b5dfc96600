"""How a KPI reads, from its name: its unit and the range of its values.

Kept apart from ``simulation.kpis`` (which computes the KPIs from a model and needs SimPy and
numpy) so that the report's formatting and the command line can read it without loading the
model. The confidence intervals of ``simulation.stats`` never leave a KPI's range.
"""

from __future__ import annotations

import math
from typing import Literal

Unit = Literal["duration", "share", "number"]


def kpi_unit(name: str) -> Unit:
    """Durations (seconds), shares (fractions of 1), or numbers (counts and rates)."""
    if "utilisation" in name or "share" in name or name == "released_within_target":
        return "share"
    counted = (".queue.", ".served", ".busy.", ".in_use.", ".load.", ".trucks", ".alarms.")
    if any(part in name for part in counted) or name.endswith(".preemptions"):
        return "number"
    timed = ("cycle_time.", "end_to_end.", "trs.", ".sojourn.", ".wait.", ".transit.")
    if name.startswith(timed[:3]) or any(part in name for part in timed[3:]):
        return "duration"
    return "number"


def kpi_range(name: str) -> tuple[float, float]:
    """The values KPI ``name`` can take. Every KPI is a duration, a count, a rate or a share:
    none is negative, and a share is at most 1. (A KPI that could be negative would need a unit
    of its own here.)"""
    return (0.0, 1.0) if kpi_unit(name) == "share" else (0.0, math.inf)
