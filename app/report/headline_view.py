"""The headline as words: the same lines in the HTML report and on the terminal."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from app.report.format import format_value
from simulation.headline import Headline
from simulation.sensitivity import MEASURE, Change
from simulation.stats import Estimate


@dataclass(frozen=True)
class Line:
    id: str  # stable, for the report's ``data-headline`` attribute
    label: str
    text: str


def ci_text(name: str, estimate: Estimate) -> str:
    """`` (95 % CI low … high)`` in the KPI's units; empty without an interval."""
    if not math.isfinite(estimate.half_width):
        return ""
    return f" (95 % CI {format_value(name, estimate.low)} … {format_value(name, estimate.high)})"


def _rate(estimate: Estimate) -> str:
    return f"{estimate.mean:,.1f}/h" if math.isfinite(estimate.mean) else "–"


def _times(head: Headline) -> str:
    def mean(name: str) -> str:
        e = head.times.get(name)
        return format_value(name, e.mean) if e is not None else "–"

    text = (
        f"customs: lodgement → decision {mean('trs.to_decision.mean')}, decision → release "
        f"{mean('trs.decision_to_release.mean')} (for exports this includes waiting for the "
        f"goods' arrival)"
    )
    corridors = sorted(
        k.removeprefix("corridor.").removesuffix(".release_to_departure.mean")
        for k in head.times
        if k.endswith(".release_to_departure.mean")
    )
    for c in corridors:
        bay = mean(f"corridor.{c}.release_to_departure.mean")
        whole = mean(f"corridor.{c}.lodgement_to_destination.mean")
        text += f"; corridor {c}: release → truck departure {bay}, lodgement → destination {whole}"
    return text


def _cost(head: Headline) -> str:
    def value(name: str, suffix: str = "") -> str:
        e = head.cost.get(name)
        return f"{e.mean:,.2f}{suffix}" if e is not None and math.isfinite(e.mean) else "–"

    per = head.cost.get("cost.per_declaration")
    ci = ""
    if per is not None and math.isfinite(per.half_width):
        ci = f" (95 % CI {per.low:,.3f} … {per.high:,.3f})"
    return (
        f"{value('cost.per_day')} {head.currency} a day, "
        f"{value('cost.per_declaration')} {head.currency} per declaration{ci}; "
        f"{value('cost.staff_hours', ' staff-hours')} and "
        f"{value('cost.equipment_hours', ' equipment-hours')} a day"
    )


def headline_lines(head: Headline, changes: Sequence[Change] | None) -> list[Line]:
    """Demand against throughput, the share released within target, the bottleneck and the
    change that helps most (``changes`` None: not measured)."""
    demand, out = head.demand_per_hour, head.throughput_per_hour
    ratio = out.mean / demand.mean if demand.mean and math.isfinite(demand.mean) else math.nan
    keeping = f", {ratio:.1%} of demand" if math.isfinite(ratio) else ""
    rate = "throughput_per_hour"
    lines = [
        Line(
            "demand",
            "Demand against throughput",
            f"{_rate(demand)} lodged, {_rate(out)} released{ci_text(rate, out)}{keeping}",
        )
    ]
    share = "released_within_target"
    parts = [
        f"{label} {format_value(share, e.mean)}{ci_text(share, e)}"
        for label, e in head.released_within.items()
    ]
    lines.append(
        Line("within-target", f"Released within {head.target_hours:g} h", "; ".join(parts))
    )
    lines.append(Line("times", "Customs time and trader time", _times(head)))
    lines.append(Line("bottleneck", "Bottleneck", head.bottleneck_text()))
    if head.cost:
        lines.append(Line("cost", "Cost", _cost(head)))
    if changes is None:
        best = "not measured (the sensitivity run was skipped)"
    elif not changes:
        best = "none to try: no declaration waited for a pool"
    elif changes[0].difference.mean + changes[0].difference.half_width < 0:
        best = changes[0].text()  # the whole interval of the paired difference is a cut
    else:
        best = (
            "no one-step enlargement of a waiting pool makes a measurable difference to "
            f"{MEASURE} (the most hopeful: {changes[0].text()})"
        )
    lines.append(Line("best-change", "The change that helps most", best))
    return lines
