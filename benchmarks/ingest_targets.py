"""Issue 15's targets for the ingest benchmark, each figure shown against them as a ratio measured
in the same run, and the closing summary table (MET / NOT MET)."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "≥": operator.ge,
    "≤": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Target:
    """A measure's must and goal (issue 15, "Targets, on this 2-core machine")."""

    measure: str
    unit: str
    sign: str  # "≥", "≤" or "<": how the figure must compare with the bound
    must: float
    goal: float

    def holds(self, value: float, bound: float) -> bool:
        return _COMPARE[self.sign](value, bound)

    def against(self, value: float) -> str:
        """``value`` against both bounds, each with its ratio: value / bound."""
        return (
            f"{_number(value)}{self.unit} — must {self.sign}{_number(self.must)} "
            f"({ratio(value, self.must)}), goal {self.sign}{_number(self.goal)} "
            f"({ratio(value, self.goal)})"
        )


def ratio(value: float, bound: float) -> str:
    """``value / bound`` as ``0.28×``; ∞ for a zero bound."""
    if bound == 0:
        return "∞×" if value else "1.00×"
    shown = value / bound
    return f"{shown:.2f}×" if math.isfinite(shown) else "∞×"


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


BATCH_RATE = Target("100-record messages, sets/s", "", "≥", 700, 1400)
SINGLE_RATE = Target("single-record messages, sets/s", "", "≥", 150, 300)
SINGLE_P99 = Target("p99 per single-record POST", " ms", "<", 100, 50)
SCALING = Target("PostgreSQL 2 processes vs 1: sets per server CPU-second", "×", "≥", 0.9, 1.0)
ENGINE_LAG = Target("engine clock lag at the batched rate (max)", " s", "<", 5, 1)
# The HTTP floor's target is benchmarks/http_floor.py's (FLOOR_MUST_MS, FLOOR_GOAL_MS).


@dataclass(frozen=True)
class Figure:
    """One measured figure of a run, with its target when it has one."""

    run: str  # e.g. "sqlite, batch 100"
    measure: str
    value: float
    unit: str = ""
    target: Target | None = None


@dataclass
class Summary:
    """Every figure of the benchmark, in the order measured."""

    figures: list[Figure] = field(default_factory=list)

    def add(self, run: str, target: Target, value: float) -> str:
        """Record a figure with a target; the figure against it, for the run's report."""
        self.figures.append(Figure(run, target.measure, value, target.unit, target))
        return target.against(value)

    def note(self, run: str, measure: str, value: float, unit: str = "") -> None:
        """Record a figure without a target (it appears in the table for completeness)."""
        self.figures.append(Figure(run, measure, value, unit))

    def table(self) -> str:
        """The figures as a Markdown table: value, must and goal with their ratios, and
        MET / NOT MET (a figure without a target: —)."""
        rows = [
            "| run | measure | figure | must | goal | must | goal |",
            "|---|---|---|---|---|---|---|",
        ]
        for f in self.figures:
            shown = f"{_number(f.value)}{f.unit}"
            t = f.target
            if t is None:
                rows.append(f"| {f.run} | {f.measure} | {shown} | — | — | — | — |")
                continue
            must = f"{t.sign}{_number(t.must)} ({ratio(f.value, t.must)})"
            goal = f"{t.sign}{_number(t.goal)} ({ratio(f.value, t.goal)})"
            rows.append(
                f"| {f.run} | {f.measure} | {shown} | {must} | {goal} | "
                f"{verdict(t.holds(f.value, t.must))} | {verdict(t.holds(f.value, t.goal))} |"
            )
        return "\n".join(rows)


def verdict(held: bool) -> str:
    return "MET" if held else "NOT MET"
