"""``danchuang plan SCENARIO --target 'KPI >= X' [--target ...] --vary PATH=LOW..HIGH [...]
[--seed S] [--alpha A] [--n0 N] [--batch B] [--max-replications M]
[--executor local|dask://HOST:PORT] [--workers W] [--out FILE.svg]``.

The capacity planner (``simulation.capacity_plan``): the cheapest combination of the varied
resources that meets every target, each candidate's verdict wrong with probability at most
``--alpha``. Prints the recommendation with its evidence and the candidates examined, and
writes the frontier plot (cost against each target's measure) as SVG.

Exit codes: 0 a recommendation, 1 none in the ranges, 2 usage error (a bad target, range,
KPI name or executor), with a message on stderr.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from app.cli import cli, usage_error
from app.cli.planning import _executor
from app.cli.simulate import scenario_help

if TYPE_CHECKING:
    from simulation.capacity_plan import Candidate


@cli.command("plan")
def plan_command(  # noqa: PLR0917  # Typer maps each parameter to an option
    scenario: str = typer.Argument(..., help=scenario_help()),
    target: list[str] = typer.Option(
        [],
        "--target",
        help="'KPI >= VALUE' or 'KPI <= VALUE', e.g. "
        "'released_within.9610-import.2h >= 0.95'. Repeat for several.",
    ),
    vary: list[str] = typer.Option(
        [],
        "--vary",
        help="PATH=LOW..HIGH[:STEP] or PATH=V1,V2,...; resources.POOL means its capacity.",
    ),
    seed: int = typer.Option(1, "--seed", help="Seed: replication i of every candidate shares it."),
    alpha: float = typer.Option(0.05, "--alpha", help="Each verdict's error probability."),
    n0: int = typer.Option(5, "--n0", min=2, help="First replications of a candidate."),
    batch: int = typer.Option(5, "--batch", min=1, help="Replications added per look."),
    max_replications: int = typer.Option(40, "--max-replications", min=2, help="Per candidate."),
    executor: str = typer.Option(
        "local", "--executor", help="'local' (processes) or 'dask://HOST:PORT'."
    ),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=1, help="Local processes (default: cpu count; 1 = inline)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Frontier plot (SVG; default plan-NAME.svg)."
    ),
) -> None:
    """Find the cheapest resources that meet every target, with stated confidence."""
    from app.report.plan_report import frontier_svg, plan_lines
    from simulation.capacity_plan import PlanError, parse_range, parse_target, plan_capacity
    from simulation.paths import find_scenario
    from simulation.scenario import ScenarioError, load_scenario
    from simulation.sweep import SweepError

    try:
        spec = load_scenario(find_scenario(scenario))
    except (FileNotFoundError, ScenarioError) as exc:
        raise usage_error("plan", str(exc)) from None

    def examined(candidate: Candidate) -> None:
        values = ", ".join(f"{k}={v}" for k, v in candidate.values.items())
        typer.echo(
            f"  {values}: {candidate.verdict} after {candidate.replications} replications",
            err=True,
        )

    try:
        targets = [parse_target(t) for t in target]
        ranges = [parse_range(v) for v in vary]
        with _executor(executor, workers or os.cpu_count() or 1) as pool:
            plan = plan_capacity(
                spec,
                targets,
                ranges,
                seed=seed,
                alpha=alpha,
                n0=n0,
                batch=batch,
                n_max=max_replications,
                executor=pool,
                progress=examined,
            )
    except (PlanError, SweepError, ScenarioError) as exc:
        raise usage_error("plan", str(exc)) from None
    for line in plan_lines(plan):
        typer.echo(line)
    path = out or Path(f"plan-{spec.name}.svg")
    try:
        path.write_text(frontier_svg(plan), encoding="utf-8")
    except OSError as exc:
        raise usage_error("plan", f"cannot write {path}: {exc.strerror}") from None
    typer.echo(f"wrote {path}")
    if plan.recommended is None:
        raise typer.Exit(1)
