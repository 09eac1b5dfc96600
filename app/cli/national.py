"""``danchuang national FILE [--replications N] [--seed S] [--executor local|dask://HOST:PORT]
[--workers W] [--json FILE] [--report FILE]``.

The national day (``simulation.national``): every site of a national file (e.g.
``scenarios/national/china-day.yaml``) run as one job, one task per site and replication, on
local processes or a Dask cluster (the executors of ``sweep`` and ``plan``). Prints the
national headline, the national KPIs with 95 % confidence intervals and each site's headline
numbers; ``--json`` writes the whole result (format ``danchuang-national``), ``--report`` the
HTML report (``app.report.national_report``).

Exit codes: 0 done, 2 usage error (a bad file, entry or executor), with a message on stderr
naming the file and the entry.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.cli import cli, usage_error
from app.cli.planning import _executor
from app.cli.simulate import kpi_table
from app.report.format import format_value

if TYPE_CHECKING:
    from simulation.national_headline import NationalHeadline


def _site_table(head: NationalHeadline) -> Table:
    table = Table(title="Sites (means over replications)")
    for column in ("site", "scenario × scale", "parcels", "throughput/h", "within target"):
        table.add_column(column, justify="left" if column.startswith("s") else "right")
    table.add_column("cycle mean", justify="right")
    table.add_column("cycle p95", justify="right")
    for row in head.sites:
        table.add_row(
            row.name,
            f"{row.scenario} × {row.scale:g}",
            f"{row.parcels:,.0f}",
            f"{row.throughput_per_hour:,.0f}",
            f"{format_value('released_within_target', row.released_within_target)} "
            f"({row.target_hours:g} h)",
            format_value("cycle_time.all.mean", row.cycle_mean),
            format_value("cycle_time.all.p95", row.cycle_p95),
        )
    return table


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise usage_error("national", f"cannot write {path}: {exc.strerror}") from None
    typer.echo(f"wrote {path}")


@cli.command("national")
def national_command(  # noqa: PLR0917  # Typer maps each parameter to an option
    file: Path = typer.Argument(..., help="National file, e.g. scenarios/national/china-day.yaml."),
    replications: int | None = typer.Option(
        None, "--replications", "-n", min=1, help="Replications (default: the file's)."
    ),
    seed: int | None = typer.Option(None, "--seed", min=0, help="Seed (default: the file's)."),
    executor: str = typer.Option(
        "local", "--executor", help="'local' (processes) or 'dask://HOST:PORT'."
    ),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=1, help="Local processes (default: cpu count; 1 = inline)."
    ),
    json_file: Path | None = typer.Option(None, "--json", help="Write the results as JSON."),
    report: Path | None = typer.Option(None, "--report", help="Write the HTML report."),
) -> None:
    """Run a national day: its sites as one job, national and per-site KPIs."""
    from app.report.headline_view import Line
    from app.report.national_report import national_lines, render_national
    from simulation.national import run_national
    from simulation.national_file import NationalError, load_national
    from simulation.national_headline import national_headline
    from simulation.scenario import ScenarioError
    from simulation.sweep import SweepError

    try:
        national = load_national(file)
    except NationalError as exc:
        raise usage_error("national", str(exc)) from None
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    try:
        with _executor(executor, workers or os.cpu_count() or 1) as pool, progress:
            task = progress.add_task(f"{national.name}: site replications", total=None)
            result = run_national(
                national,
                replications=replications,
                seed=seed,
                executor=pool,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except (SweepError, ScenarioError) as exc:
        raise usage_error("national", str(exc)) from None
    head = national_headline(result)
    line: Line
    for line in national_lines(head):
        typer.echo(f"{line.label}: {line.text}")
    console = Console(width=140)
    title = (f"{result.name}, national: {len(result.national.replications)} replications, "
             f"seed {result.seed} (mean and 95 % CI)")  # fmt: skip
    console.print(kpi_table(result.national, title))
    console.print(_site_table(head))
    for warning in head.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if not all(r.conservation_ok for r in result.national.replications):
        typer.echo("warning: a site's replication failed its conservation check", err=True)
    if json_file is not None:
        _write(json_file, json.dumps(result.to_json_dict(), indent=2, ensure_ascii=False))
    if report is not None:
        _write(report, render_national(result, national))
