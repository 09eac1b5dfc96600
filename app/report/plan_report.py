"""The capacity planner's outputs: the frontier plot (cost against each target's measure) as a
standalone SVG file, and the plan as words for the terminal."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from app.report.format import format_value
from app.report.plots import to_svg
from simulation.capacity_plan import Candidate, Plan

_STYLE = {
    "feasible": ("tab:green", "o"),
    "infeasible": ("tab:red", "x"),
    "undecided": ("tab:orange", "s"),
}


def frontier_svg(plan: Plan) -> str:
    """One panel per target: each examined candidate's mean of the target's KPI against its
    cost, with the last look's one-sided bounds as error bars, the threshold dashed and the
    recommendation ringed."""
    figure = Figure(figsize=(6.4, 2.8 * len(plan.targets)), layout="constrained")
    axes = figure.subplots(len(plan.targets), 1, squeeze=False)[:, 0]
    examined = [c for c in plan.candidates if c.verdict in _STYLE]
    for ax, target in zip(axes, plan.targets, strict=True):
        for verdict, (colour, marker) in _STYLE.items():
            chosen = [c for c in examined if c.verdict == verdict]
            if not chosen:
                continue
            x = np.asarray([c.cost for c in chosen])
            y = np.asarray([c.mean(target.kpi) for c in chosen])
            low = np.asarray([c.bounds.get(target.kpi, (math.nan, math.nan))[0] for c in chosen])
            high = np.asarray([c.bounds.get(target.kpi, (math.nan, math.nan))[1] for c in chosen])
            errors = np.vstack([np.clip(y - low, 0, None), np.clip(high - y, 0, None)])
            errors = np.nan_to_num(errors, nan=0.0, posinf=0.0)
            ax.errorbar(
                x,
                y,
                yerr=errors,
                color=colour,
                marker=marker,
                linestyle="none",
                capsize=3,
                label=verdict,
            )
        if plan.recommended is not None:
            ax.plot(
                [plan.recommended.cost],
                [plan.recommended.mean(target.kpi)],
                marker="o",
                markersize=14,
                markerfacecolor="none",
                color="black",
                linestyle="none",
                label="recommended",
            )
        ax.axhline(target.threshold, color="grey", linestyle="--", linewidth=1)
        ax.set_title(str(target), fontsize=9)
        ax.set_xlabel("cost per day" if plan.costed else "units (servers + locks)")
        ax.set_ylabel(target.kpi, fontsize=8)
        ax.legend(fontsize=7, loc="best")
    return to_svg(figure)


def _values(candidate: Candidate) -> str:
    return ", ".join(f"{path}={value}" for path, value in candidate.values.items())


def plan_lines(plan: Plan) -> list[str]:
    """The recommendation with its evidence, then every candidate examined."""
    confidence = f"{1 - plan.alpha:.0%}"
    lines: list[str] = []
    best = plan.recommended
    if best is None:
        lines.append("No candidate in the ranges meets every target: widen the ranges.")
    else:
        cost = f"{best.cost:,.2f} a day" if plan.costed else f"{best.cost:g} units"
        lines.append(f"Recommended: {_values(best)} (cost {cost})")
        for target in plan.targets:
            low, high = best.bounds[target.kpi]
            bound = low if target.op == ">=" else high
            lines.append(
                f"  {target}: mean {format_value(target.kpi, best.mean(target.kpi))} over "
                f"{best.replications} replications; one-sided bound "
                f"{format_value(target.kpi, bound)} clears it (each verdict wrong with "
                f"probability at most {plan.alpha:g}, i.e. {confidence} confidence)"
            )
    cheaper_open = [
        c
        for c in plan.candidates
        if c.verdict == "undecided" and (best is None or c.cost < best.cost)
    ]
    for c in cheaper_open:
        lines.append(f"  undecided, cheaper: {_values(c)} after {c.replications} replications")
    lines.append("Candidates examined (cheapest first):")
    for c in plan.candidates:
        if c.verdict == "not run":
            continue
        means = "; ".join(f"{format_value(t.kpi, c.mean(t.kpi))}" for t in plan.targets)
        detail = f" [{means}, n = {c.replications}]" if c.replications else ""
        lines.append(f"  {_values(c)}: cost {c.cost:,.2f}, {c.verdict}{detail}")
    return lines
