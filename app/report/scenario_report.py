"""One self-contained HTML report of a scenario run: plots, the KPI table, sources, parameters.

The report reads the run in its JSON form (``RunResult.to_json_dict()``, what ``--json``
writes), so every number in it is the number in ``--json`` — the KPI table's ``data-value``
attributes hold them exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import jinja2

from app.report import plots
from app.report.arrivals import expected_arrivals
from app.report.format import exact, format_value
from app.report.headline_view import headline_lines
from simulation.headline import headline
from simulation.kpi_table import find_kpi
from simulation.runner import RunResult
from simulation.scenario import Scenario
from simulation.sensitivity import Change
from simulation.stats import PERCENTILES
from simulation.sweep import path_children


@cache
def templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("app.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def version() -> str:
    try:
        return metadata.version("danchuang")
    except metadata.PackageNotFoundError:
        return "(checkout)"


@dataclass(frozen=True)
class Plot:
    id: str  # stable: the figure's id is ``plot-<id>`` and its data-plot attribute ``<id>``
    title: str
    svg: str | None
    empty: str = "Nothing to draw for this scenario."


# The plots every report carries, in order: (id, title, drawing function, text when empty).
PLOT_IDS = (
    "queues",
    "in-system",
    "cycle-times",
    "utilisation",
    "utilisation-over-time",
    "resources",
    "locks",
    "throughput",
)


def _plots(
    run: Mapping[str, Any], scenario: Scenario, result: RunResult | None = None
) -> list[Plot]:
    # The expected arrivals come from the run's plan, whose traces were read once for the run;
    # a result without one (a sweep's point) has its scenario planned here.
    plan = result.plan if result is not None else None
    edges, arrivals = expected_arrivals(plan if plan is not None else scenario)
    drawn: dict[str, tuple[str, Callable[[], str | None], str]] = {
        "queues": (
            "Queue length per stage over simulated time",
            lambda: plots.queues(run),
            "No stage has a limited pool, so no queue forms.",
        ),
        "in-system": (
            "Declarations in the system",
            lambda: plots.in_system(run),
            "No time series in this run.",
        ),
        "cycle-times": (
            "Cycle time per regime: mean and percentiles",
            lambda: plots.cycle_times(run, PERCENTILES),
            "No declaration was released after the warm-up.",
        ),
        "utilisation": (
            "Utilisation per resource and e-lock pool: arrival window and peak window",
            lambda: plots.utilisation(run),
            "Every pool is unlimited.",
        ),
        "utilisation-over-time": (
            "Utilisation over time (busy / scheduled servers), with the peak window",
            lambda: plots.utilisation_over_time(run),
            "Every pool is unlimited.",
        ),
        "resources": (
            "Servers in use against the shift schedule",
            lambda: plots.resources_over_time(run),
            "Every pool is unlimited.",
        ),
        "locks": (
            "E-lock fleet: locks in use and trucks waiting for a lock",
            lambda: plots.locks(run),
            "This scenario has no e-lock pools.",
        ),
        "throughput": (
            "Releases per hour against the expected arrivals per hour",
            lambda: plots.throughput(run, edges, arrivals),
            "No time series in this run.",
        ),
    }
    return [Plot(i, drawn[i][0], drawn[i][1](), drawn[i][2]) for i in PLOT_IDS]


# The KPI table's groups, by the first part of a KPI's name, in the order a planner reads them.
GROUPS = {
    "site": "Demand, throughput and target",
    "released_within": "Released within target, per regime",
    "cycle_time": "Cycle times (lodgement → release)",
    "trs": "Time Release Study split: customs time",
    "end_to_end": "Lodgement → exit",
    "stage": "Stages: waits, sojourns, queues",
    "resource": "Resources: utilisation",
    "peak": "Peak window",
    "share": "Risk routing shares",
    "locks": "E-lock pools",
    "corridor": "Corridors",
    "cost": "Cost",
    "drain": "The drain (after the last arrival)",
}


def kpi_groups(kpis: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The KPI table's rows, grouped (templates/kpi_table.html.j2; the national report too)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(kpis):
        estimate = kpis[name]
        fields = ("mean", "low", "high", "half_width")
        entry = find_kpi(name)
        row = {
            "name": name,
            "n": estimate["n"],
            "exact": {f: exact(estimate[f]) for f in fields},
            "text": {f: format_value(name, estimate[f]) for f in fields},
            "unit": entry.unit if entry is not None else "",
            "description": entry.description if entry is not None else "",
        }
        group = name.split(".")[0] if "." in name else "site"
        groups.setdefault(group if group in GROUPS else "site", []).append(row)
    order = list(GROUPS)
    return [(GROUPS[g], groups[g]) for g in sorted(groups, key=order.index)]


def _parameter_rows(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """(dotted path, value) rows: a list of numbers (an hourly profile) or a mapping of plain
    values (a distribution, a credit mix) is one row. Paths are the ones ``sweep --vary``
    takes, list items by their ``name`` (which is then not repeated)."""
    if not isinstance(node, dict | list):
        yield path, _scalar(node)
    elif not node:
        yield path, "(defaults)" if isinstance(node, dict) else "none"
    elif isinstance(node, list) and not any(isinstance(v, dict | list) for v in node):
        yield path, ", ".join(_scalar(v) for v in node)
    elif isinstance(node, dict) and not any(isinstance(v, dict | list) for v in node.values()):
        yield path, ", ".join(f"{k}: {_scalar(v)}" for k, v in node.items())
    else:
        for key, value in path_children(node):
            if not (isinstance(node, list) and isinstance(value, dict)):
                yield from _parameter_rows(value, f"{path}.{key}" if path else key)
                continue
            rest = {k: v for k, v in value.items() if k != "name" or v != key}
            yield from _parameter_rows(rest, f"{path}.{key}")


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _parameters(scenario: Scenario) -> list[tuple[str, str]]:
    data = scenario.model_dump(
        mode="json", exclude={"sources", "assumptions", "description"}, exclude_defaults=True
    )
    return [row for key, value in data.items() for row in _parameter_rows(value, key)]


def render_report(
    result: RunResult, scenario: Scenario, changes: list[Change] | None = None
) -> str:
    """The report of ``result`` (a run of ``scenario``) as one self-contained HTML page. A
    result that carries its plan (``runner.run``) is reported on the scenario as run, with the
    horizon it was run with. ``changes`` are the sensitivity run's (``simulation.sensitivity``;
    None when it was not run)."""
    if result.plan is not None:
        scenario = result.plan.scenario
    head = headline(result, scenario)
    run = result.to_json_dict()
    run.update(
        horizon_hours=scenario.horizon_hours,
        warmup_hours=scenario.warmup_hours,
        drain_hours=scenario.drain_hours,
        lock_pool_sizes={name: pool.size for name, pool in scenario.lock_pools.items()},
    )
    return (
        templates()
        .get_template("report.html.j2")
        .render(
            run=run,
            description=scenario.description,
            plots=_plots(run, scenario, result),
            kpi_groups=kpi_groups(run["kpis"]),
            headline=headline_lines(head, changes),
            warnings=head.warnings,
            sources=scenario.sources,
            assumptions=scenario.assumptions,
            parameters=_parameters(scenario),
            version=version(),
        )
    )


def write_report(
    result: RunResult, scenario: Scenario, path: str | Path, changes: list[Change] | None = None
) -> Path:
    """Write the report to ``path`` (UTF-8) and return the path; ``OSError`` if it cannot."""
    path = Path(path)
    path.write_text(render_report(result, scenario, changes), encoding="utf-8")
    return path
