"""What a sweep leaves behind in its ``--out`` folder.

- ``sweep.csv``: one row per (grid point, KPI): the varied values, mean, CI and n — a long
  table that spreadsheets and pandas pivot as they like;
- ``sweep.json``: the same, nested by point (format ``danchuang-sweep``, version 1);
- ``points/point-NNN.json``: each point's full ``simulate --json`` result, so
  ``danchuang compare`` works on any two points;
- ``sweep.html``: each chosen KPI plotted against the first varied parameter, one line per
  combination of the others, with 95 % CI error bars (inline SVG, self-contained).
"""

from __future__ import annotations

import csv
import fnmatch
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.report import plots
from app.report.format import exact, format_value, headline
from app.report.scenario_report import templates, version
from simulation.sweep import PointResult, Scalar

FORMAT_VERSION = 1


def _estimate(result: PointResult, kpi: str) -> dict[str, Any]:
    estimate = result.result.kpis[kpi].as_dict()
    return {
        k: (v if not isinstance(v, float) or math.isfinite(v) else None)
        for k, v in estimate.items()
    }


def kpi_names(results: Sequence[PointResult]) -> list[str]:
    return sorted({k for r in results for k in r.result.kpis})


def point_file(result: PointResult) -> str:
    return f"points/point-{result.point.index:03d}.json"


def sweep_document(
    results: Sequence[PointResult], parameters: Sequence[str], seed: int, replications: int
) -> dict[str, Any]:
    return {
        "format": "danchuang-sweep",
        "version": FORMAT_VERSION,
        "scenario": results[0].result.scenario if results else "",
        "seed": seed,
        "replications": replications,
        "parameters": list(parameters),
        "points": [
            {
                "index": r.point.index,
                "values": r.point.overrides,
                "file": point_file(r),
                "kpis": {k: _estimate(r, k) for k in sorted(r.result.kpis)},
            }
            for r in results
        ],
    }


def write_tables(
    results: Sequence[PointResult],
    parameters: Sequence[str],
    seed: int,
    replications: int,
    out: Path,
) -> list[Path]:
    """Write ``sweep.csv``, ``sweep.json`` and ``points/*.json`` into ``out``."""
    (out / "points").mkdir(parents=True, exist_ok=True)
    for r in results:
        (out / point_file(r)).write_text(r.result.to_json(), encoding="utf-8")
    document = sweep_document(results, parameters, seed, replications)
    json_path = out / "sweep.json"
    json_path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    csv_path = out / "sweep.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["point", *parameters, "kpi", "mean", "half_width", "low", "high", "n"])
        for point in document["points"]:
            values = [point["values"][p] for p in parameters]
            for kpi, e in point["kpis"].items():
                numbers = [exact(e[f]) for f in ("mean", "half_width", "low", "high")]
                writer.writerow([point["index"], *values, kpi, *numbers, e["n"]])
    return [csv_path, json_path]


DIFFERENCE = 0.01  # means this far apart (relative to the larger) differ between points


def differing_kpis(results: Sequence[PointResult], names: Sequence[str]) -> list[str]:
    """Those of ``names`` whose mean differs between the points by more than ``DIFFERENCE``
    (of the larger magnitude), the largest relative difference first.

    Every point runs on the same seeds, so a KPI the varied parameters do not touch has the
    same mean at every point; whether a difference is significant is ``compare``'s question."""
    spread: dict[str, float] = {}
    for name in names:
        means = [
            e.mean
            for r in results
            if (e := r.result.kpis.get(name)) is not None and e.n and math.isfinite(e.mean)
        ]
        scale = max((abs(m) for m in means), default=0.0)
        if len(means) > 1 and scale > 0:
            spread[name] = (max(means) - min(means)) / scale
    ranked = sorted(spread, key=lambda name: -spread[name])
    return [name for name in ranked if spread[name] > DIFFERENCE]


def choose_kpis(results: Sequence[PointResult], patterns: Sequence[str]) -> list[str]:
    """KPIs matching any shell-style pattern (``stage.*.wait.mean``), in name order; without
    patterns the headline KPIs, those that differ between the points first (most first)."""
    names = kpi_names(results)
    if patterns:
        return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    chosen = [n for n in names if headline(n)]
    differing = differing_kpis(results, chosen)
    return differing + [n for n in chosen if n not in differing]


def _label(values: dict[str, Scalar]) -> str:
    """``yard.size=3, xray.capacity=2``: the last two parts of each path say enough."""
    return ", ".join(f"{'.'.join(k.split('.')[-2:])}={v}" for k, v in values.items())


def render_sweep(
    results: Sequence[PointResult], parameters: Sequence[str], kpis: Sequence[str]
) -> str:
    """The sweep's plot page: each KPI against ``parameters[0]``."""
    first, others = parameters[0], list(parameters[1:])
    x_values: list[Scalar] = list(dict.fromkeys(r.point.overrides[first] for r in results))
    figures = []
    for kpi in kpis:
        lines: dict[str, list[dict[str, Any]]] = {}
        for combo in dict.fromkeys(tuple(r.point.overrides[o] for o in others) for r in results):
            label = _label(dict(zip(others, combo, strict=True)))
            by_x = {
                r.point.overrides[first]: _estimate(r, kpi)
                for r in results
                if tuple(r.point.overrides[o] for o in others) == combo and kpi in r.result.kpis
            }
            empty = {"mean": None, "half_width": None}
            lines[label] = [by_x.get(x, empty) for x in x_values]
        figures.append({"kpi": kpi, "svg": plots.sweep_kpi(kpi, first, x_values, lines)})
    table = [
        {
            "index": r.point.index,
            "settings": [r.point.overrides[p] for p in parameters],
            "file": point_file(r),
            "kpis": [
                format_value(k, _estimate(r, k)["mean"]) if k in r.result.kpis else "–"
                for k in kpis[:6]
            ],
        }
        for r in results
    ]
    return (
        templates()
        .get_template("sweep.html.j2")
        .render(
            scenario=results[0].result.scenario if results else "",
            replications=len(results[0].result.replications) if results else 0,
            seed=results[0].result.seed if results else 0,
            parameters=parameters,
            figures=figures,
            table=table,
            table_kpis=kpis[:6],
            version=version(),
        )
    )
