"""``danchuang simulate SCENARIO [--replications N] [--seed S] [--json FILE] [--report FILE]
[--horizon H] [--workers W] [--what-if] [--schema]``.

A thin layer over ``simulation.runner.run``: replications run on local processes (a
``ProcessPoolExecutor``; ``--workers 1`` runs them in this process), a rich progress bar counts
them, a table shows the main KPIs with 95 % confidence intervals, and the headline
(``simulation.headline``) follows it; ``--what-if`` (the default with ``--report``) measures the
change that helps most (``simulation.sensitivity``). ``--json`` writes the
full result (format in docs/simulation.md); it and ``--report`` say what they wrote. SCENARIO
is a file or the name of a shipped scenario (``--help`` lists them; a typo gets the nearest).
``--schema`` prints the scenario JSON Schema instead of running.

Exit codes: 0 done, 2 usage error (missing or invalid scenario, bad option), with a message on
stderr: one line per problem of the scenario, each naming the file, line and field.
"""

from __future__ import annotations

import json
import math
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.cli import cli, usage_error
from app.report.format import format_value, headline

if TYPE_CHECKING:  # the model pulls in numpy, SciPy and SimPy: load it only when simulating
    from simulation.runner import RunResult
    from simulation.scenario import Scenario
    from simulation.sensitivity import Change
    from simulation.stats import Estimate


def scenario_help() -> str:
    """The SCENARIO argument's help, naming the shipped scenarios."""
    from simulation.paths import shipped_scenarios

    try:
        names = ", ".join(shipped_scenarios())
    except FileNotFoundError:  # no scenarios folder: files only
        return "Scenario file."
    return f"Scenario file, or a shipped scenario's name: {names}."


def kpi_table(result: RunResult, title: str | None = None) -> Table:
    """The headline KPIs of ``result`` with their intervals (``title``: the scenario's line)."""
    table = Table(
        title=title
        or f"{result.scenario}: {len(result.replications)} replications, "
        f"seed {result.seed} (mean and 95 % CI)"
    )
    table.add_column("KPI")
    table.add_column("mean", justify="right")
    table.add_column("95 % CI", justify="right")
    estimate: Estimate
    for name, estimate in result.kpis.items():
        if not headline(name) or estimate.n == 0:
            continue
        ci = (
            f"{format_value(name, estimate.low)} … {format_value(name, estimate.high)}"
            if math.isfinite(estimate.half_width)
            else "–"
        )
        table.add_row(name, format_value(name, estimate.mean), ci)
    return table


def _what_if(result: RunResult, progress: Progress, executor: Executor | None) -> list[Change]:
    """The sensitivity run: each waiting pool a step larger, on the run's first seeds."""
    from simulation.sensitivity import best_changes

    assert result.plan is not None
    with progress:
        progress.add_task(f"{result.scenario}: sensitivity run", total=None)
        return best_changes(
            result,
            result.plan.scenario,
            replications=min(3, len(result.replications)),
            executor=executor,
        )


def _print_headline(result: RunResult, changes: list[Change] | None) -> None:
    from app.report.headline_view import headline_lines
    from simulation.headline import headline as make_headline

    assert result.plan is not None
    head = make_headline(result, result.plan.scenario)
    for line in headline_lines(head, changes):
        typer.echo(f"{line.label}: {line.text}")
    for warning in head.warnings:
        typer.echo(f"warning: {warning}", err=True)


@cli.command()
def simulate(  # noqa: PLR0917  # Typer maps each parameter to an option
    scenario: str | None = typer.Argument(None, help=scenario_help()),
    replications: int = typer.Option(5, "--replications", "-n", min=1, help="Replications."),
    seed: int = typer.Option(1, "--seed", help="Seed of the whole run."),
    json_file: Path | None = typer.Option(None, "--json", help="Write the results as JSON."),
    horizon: float | None = typer.Option(None, "--horizon", help="Override horizon (hours)."),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=1, help="Worker processes (default: min(N, cpu count))."
    ),
    schema: bool = typer.Option(False, "--schema", help="Print the scenario JSON Schema."),
    report: Path | None = typer.Option(
        None, "--report", help="Write a self-contained HTML report (plots, KPIs, sources)."
    ),
    what_if: bool | None = typer.Option(
        None,
        "--what-if/--no-what-if",
        help="Measure the change that helps most (a short sensitivity run; default: with "
        "--report).",
    ),
) -> None:
    """Run a clearance scenario: replications, KPIs with 95 % confidence intervals."""
    from simulation.paths import find_scenario
    from simulation.runner import run
    from simulation.scenario import ScenarioError, load_scenario, scenario_json_schema

    if schema:
        typer.echo(json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False))
        return
    if scenario is None:
        raise usage_error("simulate", "missing SCENARIO (a file or a shipped scenario's name)")
    if horizon is not None and horizon <= 0:
        raise usage_error("simulate", "--horizon must be positive")
    try:
        spec = load_scenario(find_scenario(scenario))
    except FileNotFoundError as exc:
        raise usage_error("simulate", str(exc)) from None
    except ScenarioError as exc:
        raise usage_error("simulate", str(exc)) from None
    if horizon is not None and horizon <= spec.warmup_hours:
        raise usage_error("simulate", f"--horizon must exceed the warm-up ({spec.warmup_hours} h)")
    workers = workers or min(replications, os.cpu_count() or 1)
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    executor: Executor | None = ProcessPoolExecutor(workers) if workers > 1 else None
    try:
        with progress:
            task = progress.add_task(f"{spec.name}: replications", total=replications)
            result = run(
                spec,
                replications,
                seed,
                executor=executor,
                progress=lambda done, _total: progress.update(task, completed=done),
                horizon_hours=horizon,
            )
        measure = what_if if what_if is not None else report is not None
        changes = _what_if(result, progress, executor) if measure else None
    except ScenarioError as exc:  # e.g. a trace file that changed since it was checked
        raise usage_error("simulate", str(exc)) from None
    finally:
        if executor is not None:
            executor.shutdown()
    Console().print(kpi_table(result))
    _print_headline(result, changes)
    if not all(r.conservation_ok for r in result.replications):
        typer.echo("warning: a replication failed its conservation check", err=True)
    _write_files(result, spec, json_file, report, changes)


def _write_files(
    result: RunResult,
    spec: Scenario,
    json_file: Path | None,
    report: Path | None,
    changes: list[Change] | None,
) -> None:
    if json_file is not None:
        try:
            json_file.write_text(result.to_json(), encoding="utf-8")
        except OSError as exc:
            raise usage_error("simulate", f"cannot write {json_file}: {exc.strerror}") from None
        typer.echo(f"wrote {json_file}")
    if report is not None:
        from app.report import write_report

        try:
            write_report(result, spec, report, changes)
        except OSError as exc:
            raise usage_error("simulate", f"cannot write {report}: {exc.strerror}") from None
        typer.echo(f"wrote {report}")
