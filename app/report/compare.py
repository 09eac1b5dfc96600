"""Runs side by side: every KPI of each ``danchuang simulate --json`` file against the first.

A KPI differs *significantly* from the baseline when Welch's t-test on the replication values
(``per_replication[].kpis``) gives p < 0.05; when a file lacks those values, when the CIs do
not overlap. Welch's test does not assume equal variances, which variants of a queueing site
rarely have. With hundreds of KPIs a few will pass p < 0.05 by chance between runs that differ
only a little: read the marks as "look here", and lower ``alpha`` for a stricter screen.
Runs made with the same seed share random numbers (docs/simulation.md), so the
test is conservative for them: it ignores the pairing.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scipy import stats as scipy_stats

from app.report.format import exact, format_change, format_value
from app.report.scenario_report import templates, version

ALPHA = 0.05


class CompareError(ValueError):
    """A file that is not a readable ``danchuang simulate --json`` result."""


@dataclass(frozen=True)
class RunFile:
    path: Path
    label: str
    data: dict[str, Any] = field(repr=False)

    def estimate(self, kpi: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.data["kpis"].get(kpi)
        return found

    def values(self, kpi: str) -> list[float]:
        """The KPI's value in each replication (finite ones only)."""
        out = []
        for replication in self.data.get("per_replication", []):
            value = replication.get("kpis", {}).get(kpi)
            if isinstance(value, int | float) and math.isfinite(value):
                out.append(float(value))
        return out


def load_run(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CompareError(f"{path}: cannot read the file: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        where = f"{path}:{line}" if line else str(path)
        raise CompareError(f"{where}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != "danchuang-simulate":
        raise CompareError(
            f"{path}: not a 'danchuang simulate --json' result (its \"format\" is not "
            '"danchuang-simulate")'
        )
    if not isinstance(data.get("kpis"), dict):
        raise CompareError(f'{path}: the result has no "kpis" object')
    return data


def load_runs(paths: Sequence[Path]) -> list[RunFile]:
    """Read the files; labels are the file names (without folders unless two names clash)."""
    stems = [p.stem for p in paths]
    labels = [str(p) if stems.count(p.stem) > 1 else p.stem for p in paths]
    return [RunFile(p, label, load_run(p)) for p, label in zip(paths, labels, strict=True)]


@dataclass(frozen=True)
class Cell:
    """One KPI of one run; ``change`` and ``significant`` are against the baseline run."""

    estimate: dict[str, Any] | None
    change: float | None = None
    significant: bool = False
    p_value: float | None = None
    method: str = ""  # "welch", "ci" (intervals do not overlap), or "" (baseline, untestable)

    @property
    def mean(self) -> float | None:
        return None if self.estimate is None else self.estimate.get("mean")


@dataclass(frozen=True)
class Row:
    kpi: str
    cells: list[Cell]

    @property
    def significant(self) -> bool:
        return any(c.significant for c in self.cells)


def _relative(base: float | None, other: float | None) -> float | None:
    if base is None or other is None:
        return None
    if base == 0:
        return 0.0 if other == 0 else None
    return (other - base) / abs(base)


def _welch(a: list[float], b: list[float]) -> float | None:
    """Two-sided p-value of Welch's t-test; ``None`` with fewer than two values a side."""
    if len(a) < 2 or len(b) < 2:
        return None
    if sorted(a) == sorted(b):
        return 1.0  # the same values (a run compared with itself)
    if max(a) == min(a) and max(b) == min(b):
        # No spread on either side (a count that never varies): plainly different.
        return 0.0
    with warnings.catch_warnings():
        # Nearly equal samples make scipy warn about precision; the p-value is still ~1.
        warnings.simplefilter("ignore", RuntimeWarning)
        p_value = float(scipy_stats.ttest_ind(a, b, equal_var=False).pvalue)
    return p_value if math.isfinite(p_value) else None


def _ci_apart(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool | None:
    if a is None or b is None or None in (a.get("low"), a.get("high"), b.get("low"), b.get("high")):
        return None
    return bool(a["high"] < b["low"] or b["high"] < a["low"])


def compare_cell(base: RunFile, other: RunFile, kpi: str, alpha: float = ALPHA) -> Cell:
    a, b = base.estimate(kpi), other.estimate(kpi)
    change = _relative(a["mean"] if a else None, b["mean"] if b else None)
    p_value = _welch(base.values(kpi), other.values(kpi))
    if p_value is not None:
        return Cell(b, change, p_value < alpha, p_value, "welch")
    apart = _ci_apart(a, b)
    if apart is not None:
        return Cell(b, change, apart, None, "ci")
    return Cell(b, change)


def compare(runs: Sequence[RunFile], alpha: float = ALPHA) -> list[Row]:
    """One row per KPI found in any run (sorted by name); the first run is the baseline."""
    names = sorted({k for run in runs for k in run.data["kpis"]})
    rows = []
    for name in names:
        cells = [Cell(runs[0].estimate(name))]
        cells += [compare_cell(runs[0], other, name, alpha) for other in runs[1:]]
        rows.append(Row(name, cells))
    return rows


def _cell_view(kpi: str, cell: Cell) -> dict[str, Any]:
    estimate = cell.estimate or {}
    return {
        "mean": format_value(kpi, estimate.get("mean")),
        "exact": exact(estimate.get("mean")),
        "ci": (
            f"{format_value(kpi, estimate['low'])} … {format_value(kpi, estimate['high'])}"
            if estimate.get("low") is not None and estimate.get("high") is not None
            else "–"
        ),
        "change": format_change(cell.change),
        "significant": cell.significant,
        "p": "" if cell.p_value is None else f"{cell.p_value:.3g}",
        "method": cell.method,
    }


def render_comparison(runs: Sequence[RunFile], rows: Sequence[Row], alpha: float = ALPHA) -> str:
    """The comparison as one self-contained HTML page (significant rows highlighted)."""
    return (
        templates()
        .get_template("compare.html.j2")
        .render(
            runs=runs,
            rows=[
                {
                    "kpi": row.kpi,
                    "significant": row.significant,
                    "cells": [_cell_view(row.kpi, c) for c in row.cells],
                }
                for row in rows
            ],
            alpha=alpha,
            version=version(),
        )
    )
