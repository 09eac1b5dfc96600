"""Planners' commands: ``danchuang compare`` and ``danchuang sweep``.

``compare A.json B.json [C.json ...] [--html FILE] [--all]`` puts ``simulate --json`` results
side by side, the first as the baseline, and marks KPIs that differ significantly
(``app.report.compare``).

``sweep SCENARIO --vary NAME=V1,V2,... [--vary ...] [--replications N] [--seed S]
[--executor local|dask://HOST:PORT] [--workers W] [--out DIR] [--kpi PATTERN] [--list-params]``
runs the full grid (``simulation.sweep``), prints a table of the headline KPIs that differ
between the points (or the ``--kpi`` ones) and writes ``sweep.csv``, ``sweep.json``,
``sweep.html`` and one result file per point into DIR (``app.report.sweep_report``).

Exit codes: 0 done, 2 usage error (a bad file, ``--vary`` or executor), each with a message on
stderr naming the file, option or parameter.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import Executor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.cli import cli, usage_error
from app.cli.simulate import scenario_help
from app.report.format import format_value, headline

if TYPE_CHECKING:  # the model, SciPy and matplotlib load only when a command runs
    from app.report.compare import RunFile
    from simulation.scenario import Scenario
    from simulation.sweep import PointResult


def _write(command: str, path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise usage_error(command, f"cannot write {path}: {exc.strerror}") from None


# --- compare -------------------------------------------------------------------------------


def _compare_table(runs: list[RunFile], show_all: bool, alpha: float) -> Table:
    from app.report.compare import compare

    table = Table(title="KPIs: mean [95 % CI]; * = significantly different from the baseline")
    table.add_column("KPI", overflow="fold", min_width=40)
    for i, run in enumerate(runs):
        table.add_column(f"{run.label}{' (baseline)' if i == 0 else ''}", justify="right")
        if i:
            table.add_column("change", justify="right")
    for row in compare(runs, alpha):
        if not (show_all or row.significant or headline(row.kpi)):
            continue
        cells: list[str] = []
        for i, cell in enumerate(row.cells):
            e = cell.estimate or {}
            ci = (
                f" [{format_value(row.kpi, e['low'])} … {format_value(row.kpi, e['high'])}]"
                if e.get("low") is not None and e.get("high") is not None
                else ""
            )
            cells.append(format_value(row.kpi, e.get("mean")) + ci)
            if i:
                change = "–" if cell.change is None else f"{100 * cell.change:+.1f} %"
                cells.append(f"[bold yellow]{change} *[/]" if cell.significant else change)
        table.add_row(f"[bold]{row.kpi}[/]" if row.significant else row.kpi, *cells)
    return table


@cli.command("compare")
def compare_command(
    files: list[Path] = typer.Argument(..., help="Two or more `simulate --json` result files."),
    html: Path | None = typer.Option(None, "--html", help="Also write the comparison as HTML."),
    show_all: bool = typer.Option(
        False, "--all", help="Show every KPI (default: headline KPIs and significant ones)."
    ),
    alpha: float = typer.Option(
        0.05, "--alpha", min=1e-9, max=0.5, help="Significance level of the Welch t-test."
    ),
) -> None:
    """Compare simulation results side by side; mark significant differences."""
    from app.report.compare import CompareError, compare, load_runs, render_comparison

    if len(files) < 2:
        raise usage_error("compare", "give at least two result files (the first is the baseline)")
    try:
        runs = load_runs(files)
    except CompareError as exc:
        raise usage_error("compare", str(exc)) from None
    Console(width=max(130, 50 + 40 * len(runs))).print(_compare_table(runs, show_all, alpha))
    if html is not None:
        _write("compare", html, render_comparison(runs, compare(runs, alpha), alpha))


# --- sweep ---------------------------------------------------------------------------------


def _executor(spec: str, workers: int) -> AbstractContextManager[Executor | None]:
    from simulation.sweep import SweepError, dask_executor, local_executor

    if spec == "local":
        return local_executor(workers)
    if spec.startswith("dask://") and len(spec) > len("dask://"):
        return dask_executor(spec.removeprefix("dask://"))
    raise SweepError(f"--executor {spec!r}: expected 'local' or 'dask://HOST:PORT'")


_COLUMNS = 5  # KPI columns of the terminal table; sweep.csv and sweep.json have them all


def _sweep_table(results: list[PointResult], parameters: list[str], kpis: list[str]) -> Table:
    table = Table(title="Sweep: mean ± 95 % CI half-width per grid point")
    table.add_column("point", justify="right")
    for p in parameters:
        table.add_column(p, justify="right")
    for k in kpis:
        table.add_column(k, justify="right")
    for r in results:
        cells = []
        for k in kpis:
            e = r.result.kpis.get(k)
            if e is None:
                cells.append("–")
                continue
            half = f" ± {format_value(k, e.half_width)}" if math.isfinite(e.half_width) else ""
            cells.append(format_value(k, e.mean) + half)
        values = [str(r.point.overrides[p]) for p in parameters]
        table.add_row(str(r.point.index), *values, *cells)
    return table


def _load(scenario: str) -> Scenario:
    from simulation.paths import find_scenario
    from simulation.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(find_scenario(scenario))
    except (FileNotFoundError, ScenarioError) as exc:
        raise usage_error("sweep", str(exc)) from None


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )


@cli.command()
def sweep(  # noqa: PLR0917  # Typer maps each parameter to an option
    scenario: str = typer.Argument(..., help=scenario_help()),
    vary: list[str] = typer.Option(
        [], "--vary", help="NAME=V1,V2,...: a dotted path into the scenario and its values."
    ),
    replications: int = typer.Option(5, "--replications", "-n", min=1, help="Per grid point."),
    seed: int = typer.Option(1, "--seed", help="Seed of every grid point."),
    executor: str = typer.Option(
        "local", "--executor", help="'local' (processes) or 'dask://HOST:PORT'."
    ),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=1, help="Local processes (default: cpu count; 1 = inline)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Output folder (default sweep-NAME)."),
    kpi: list[str] = typer.Option(
        [], "--kpi", help="KPIs to plot, shell patterns (default: the headline KPIs)."
    ),
    list_params: bool = typer.Option(
        False, "--list-params", help="Print every parameter NAME the scenario has, and stop."
    ),
) -> None:
    """Run a scenario over a grid of parameter values; write tables and plots."""
    from app.report.sweep_report import (
        DIFFERENCE,
        choose_kpis,
        differing_kpis,
        render_sweep,
        write_tables,
    )
    from simulation.scenario import ScenarioError
    from simulation.sweep import SweepError, build_grid, parameter_paths, parse_vary, run_sweep

    spec = _load(scenario)
    if list_params:
        for path in parameter_paths(spec):
            typer.echo(path)
        return
    if not vary:
        raise usage_error("sweep", "give at least one --vary NAME=V1,V2,... (see --list-params)")
    try:
        variations = [parse_vary(v) for v in vary]
        points = build_grid(spec, variations)
        parameters = [v.path for v in variations]
        out = out or Path(f"sweep-{spec.name}")
        progress = _progress()
        with _executor(executor, workers or os.cpu_count() or 1) as pool, progress:
            task = progress.add_task(
                f"{spec.name}: {len(points)} points × {replications} replications",
                total=len(points) * replications,
            )
            results = run_sweep(
                points,
                replications,
                seed,
                executor=pool,
                progress=lambda done, _total: progress.update(task, completed=done),
            )
    except (SweepError, ScenarioError) as exc:  # ScenarioError: a trace file a worker can't read
        raise usage_error("sweep", str(exc)) from None
    try:
        written = write_tables(results, parameters, seed, replications, out)
    except OSError as exc:
        raise usage_error("sweep", f"cannot write into {out}: {exc.strerror}") from None
    chosen = choose_kpis(results, kpi)
    html = out / "sweep.html"
    _write("sweep", html, render_sweep(results, parameters, chosen))
    # By default the table shows the headline KPIs that differ between the points, most first.
    shown = chosen[:_COLUMNS] if kpi else differing_kpis(results, chosen)[:_COLUMNS]
    if not shown:
        typer.echo(f"no headline KPI differs between the points by {DIFFERENCE:.0%} (see --kpi)")
        shown = ["throughput_per_hour", "released_within_target"]
    Console(width=160).print(_sweep_table(results, parameters, shown))
    if not all(r.conservation_ok for p in results for r in p.result.replications):
        typer.echo("warning: a replication failed its conservation check", err=True)
    for file in [*written, html]:
        typer.echo(f"wrote {file}")
