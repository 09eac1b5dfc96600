"""The national day's report: the national headline, the sites with their headline numbers,
and the national KPI table, in one self-contained HTML file.

``national_lines(head)`` are the headline's lines, shared with the terminal
(``danchuang national``); ``render_national(result, national)`` and ``write_national`` make
the page. Numbers read as in a site's report (``app.report.format``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from app.report.format import duration, format_value
from app.report.headline_view import Line, ci_text
from app.report.scenario_report import kpi_groups, templates, version
from simulation.national import NationalResult
from simulation.national_file import National
from simulation.national_headline import NationalHeadline, SiteRow, national_headline


def _rate(value: float) -> str:
    return f"{value:,.0f}/h" if math.isfinite(value) else "–"


def _time(head: NationalHeadline, name: str) -> str:
    estimate = head.cycle.get(name)
    if estimate is None:
        return "–"
    return format_value(name, estimate.mean) + ci_text(name, estimate)


def _share(value: float) -> str:
    return format_value("released_within_target", value)


def national_lines(head: NationalHeadline) -> list[Line]:
    """The national headline as words: parcels, demand against throughput, within target,
    times, and the slowest site."""
    out = head.throughput_per_hour
    ratio = out.mean / head.demand_per_hour if head.demand_per_hour > 0 else math.nan
    keeping = f", {ratio:.1%} of demand" if math.isfinite(ratio) else ""
    within = head.released_within_target
    slowest = head.slowest
    slow_text = (
        f"{slowest.name}: {_share(slowest.released_within_target)} released within its "
        f"{slowest.target_hours:g} h; its bottleneck: {slowest.bottleneck}"
        if slowest is not None
        else "–"
    )
    return [
        Line("parcels", "Parcels in the day", f"{head.parcels:,.0f} over {len(head.sites)} sites"),
        Line(
            "demand",
            "Demand against throughput",
            f"{_rate(head.demand_per_hour)} lodged, {_rate(out.mean)} released"
            f"{ci_text('throughput_per_hour', out)}{keeping}",
        ),
        Line(
            "within-target",
            "Released within each site's target",
            _share(within.mean) + ci_text("released_within_target", within),
        ),
        Line(
            "times",
            "Cycle time, nationally",
            f"mean {_time(head, 'cycle_time.all.mean')}, 95th percentile "
            f"{_time(head, 'cycle_time.all.p95')}; customs: lodgement → decision "
            f"{_time(head, 'trs.to_decision.mean')}, decision → release "
            f"{_time(head, 'trs.decision_to_release.mean')}",
        ),
        Line("slowest-site", "The site furthest from its target", slow_text),
    ]


def _site_row(row: SiteRow) -> dict[str, Any]:
    def seconds(value: float) -> str:
        return duration(value) if math.isfinite(value) else "–"

    return {
        "name": row.name,
        "scenario": row.scenario,
        "scale": f"{row.scale:g}",
        "parcels": f"{row.parcels:,.0f}",
        "parcels_exact": repr(row.parcels),
        "demand": _rate(row.demand_per_hour),
        "throughput": _rate(row.throughput_per_hour),
        "within": f"{_share(row.released_within_target)} in {row.target_hours:g} h",
        "cycle_mean": seconds(row.cycle_mean),
        "cycle_p95": seconds(row.cycle_p95),
        "bottleneck": row.bottleneck,
    }


def render_national(result: NationalResult, national: National) -> str:
    """The national report of ``result``, a run of ``national``, as one HTML page."""
    head = national_headline(result)
    run = result.national.to_json_dict()
    return (
        templates()
        .get_template("national.html.j2")
        .render(
            name=result.name,
            description=national.description,
            seed=result.seed,
            replications=len(result.national.replications),
            conservation_ok=run["conservation_ok"],
            headline=national_lines(head),
            warnings=head.warnings,
            sites=[_site_row(r) for r in head.sites],
            kpi_groups=kpi_groups(run["kpis"]),
            assumptions=national.assumptions,
            version=version(),
        )
    )


def write_national(result: NationalResult, national: National, path: str | Path) -> Path:
    """Write the national report to ``path`` (UTF-8); ``OSError`` if it cannot."""
    path = Path(path)
    path.write_text(render_national(result, national), encoding="utf-8")
    return path
