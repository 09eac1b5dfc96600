"""``danchuang conformance DIR [--regime CODE] [--junit FILE] [--html FILE]
[--server URL --key KEY...] [--dictionary FILE]``.

Checks an integrator's generated XML against the numbered test-case catalogue
(``scenarios/conformance``; docs/conformance.md). DIR holds ``<case-id>/*.xml`` folders, or
loose sets matched to cases by what they show. Offline, each case's documents go through the
validation core; with ``--server`` they are also sent to a running danchuang and the receipts
that come back are checked against the case's expected sequence.

The last line is the verdict (``app.conformance.results.Verdict``) and sets the exit code:
0 CONFORMANT (every mandatory case of the regimes checked was run and passed), 1 NOT
CONFORMANT (a mandatory case failed, or a loose set is invalid), 3 INCOMPLETE (nothing failed,
but mandatory cases were not run), 2 usage error.
``--dictionary FILE`` writes the error-code dictionary (JSON) and needs no DIR.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from app.cli import cli, usage_error

if TYPE_CHECKING:  # the validation core, pydantic and httpx load only when the command runs
    from app.conformance.offline import Group
    from app.conformance.results import Run

_SHOWN = 8  # findings printed per invalid loose set; the reports hold them all
_STYLE = {"passed": "green", "failed": "bold red", "skipped": "dim"}


def _groups(regimes: list[str]) -> list[Group]:
    from app.conformance.offline import CatalogueError, load_catalogue
    from declarations import Regime

    try:
        groups = load_catalogue()
    except (CatalogueError, FileNotFoundError) as error:
        raise usage_error("conformance", str(error)) from None
    if not regimes:
        return groups
    chosen: set[Regime] = set()
    for code in regimes:
        try:
            chosen.add(Regime(code.strip()))
        except ValueError:
            known = ", ".join(r.value for r in Regime)
            raise usage_error("conformance", f"unknown regime {code!r} (known: {known})") from None
    return [g for g in groups if g.regime in chosen]


def _print(run: Run, console: Console) -> None:
    from app.conformance.offline import Outcome
    from app.conformance.offline.check import describe
    from app.conformance.results import Verdict

    for label, results in run.by_group():
        tried = [r for r in results if r.outcome is not Outcome.SKIPPED]
        skipped = len(results) - len(tried)
        table = Table(title=f"conformance {label}", title_justify="left")
        for column in ("case", "title", "mandatory", "result", "detail"):
            table.add_column(column, overflow="fold")
        for r in tried:
            detail = r.problems[0] if r.problems else (r.notes or [""])[-1]
            more = len(r.problems) - 1
            if more > 0:
                detail += f" (+{more} more)"
            outcome = f"[{_STYLE[r.outcome.value]}]{r.outcome.value}[/]"
            mandatory = "yes" if r.case.mandatory else "no"
            table.add_row(r.case.id, r.case.title, mandatory, outcome, detail)
        if tried:
            console.print(table)
        console.print(f"{label}: {len(tried)} case(s) tried, {skipped} without documents")
    for unmatched in run.unmatched:
        files = ", ".join(unmatched.files)
        style = "bold red" if unmatched.failed else "yellow"
        console.print(f"[{style}]unmatched[/] {files}: {unmatched.reason}")
        if unmatched.failed:
            for finding in unmatched.findings[:_SHOWN]:
                console.print(f"    {describe(finding)}")
            if len(unmatched.findings) > _SHOWN:
                console.print(f"    … {len(unmatched.findings) - _SHOWN} more finding(s)")
    for name in run.unknown_folders:
        console.print(f"[yellow]unknown case folder[/] {name}: not a case of the regimes checked")
    verdict = run.verdict
    style = {Verdict.CONFORMANT: "green", Verdict.INCOMPLETE: "yellow"}.get(verdict, "bold red")
    console.print(
        f"[{style}]{verdict.value}[/]: {run.count(Outcome.PASSED)} passed, "
        f"{run.count(Outcome.FAILED)} failed "
        f"({run.count(Outcome.FAILED, mandatory=True)} mandatory), "
        f"{run.mandatory_not_done} mandatory case(s) not done, "
        f"{run.failed_unmatched} invalid loose set(s)"
    )


@cli.command()
def conformance(  # noqa: PLR0917  # Typer maps each parameter to an option
    folder: Path | None = typer.Argument(
        None, help="Folder of the integrator's XML: <case-id>/*.xml, or loose sets."
    ),
    regime: list[str] = typer.Option(
        [], "--regime", "-r", help="Only this regime's cases (repeatable): 9610, 1210, 9710, 9810."
    ),
    junit: Path | None = typer.Option(None, "--junit", help="Write a JUnit XML report here."),
    html: Path | None = typer.Option(None, "--html", help="Write an HTML report here."),
    server: str | None = typer.Option(
        None, "--server", help="Also send each case's documents to this danchuang (base URL)."
    ),
    key: list[str] = typer.Option(
        [], "--key", help="API key for --server (repeatable: one per sending enterprise)."
    ),
    timeout: float = typer.Option(
        60.0, "--timeout", min=1, help="Seconds to wait for a live declaration to finish."
    ),
    dictionary: Path | None = typer.Option(
        None, "--dictionary", help="Write the error-code dictionary (JSON) to this file."
    ),
) -> None:
    """Check an integrator's XML against the numbered conformance test cases."""
    from app.conformance.html import write_html
    from app.conformance.junit import write_junit
    from app.conformance.live import LiveClient, LiveError, check_live
    from app.conformance.offline import run_offline
    from app.conformance.results import Run
    from declarations.dictionary import write_json

    if dictionary is not None:
        write_json(dictionary)
        typer.echo(f"wrote the error-code dictionary to {dictionary}")
        if folder is None:
            return
    if folder is None:
        raise usage_error(
            "conformance", "give the folder of documents to check (or --dictionary FILE)"
        )
    if not folder.is_dir():
        raise usage_error("conformance", f"{folder} is not a folder")
    if server is not None and not key:
        raise usage_error("conformance", "--server needs at least one --key")
    groups = _groups(regime)
    results, assignment = run_offline(folder, groups)
    run = Run(results, assignment.unmatched, assignment.unknown_folders)
    if server is not None:
        with LiveClient(server, key, timeout=timeout) as client:
            try:
                client.ping()
            except LiveError as error:
                raise usage_error("conformance", f"cannot use --server {server}: {error}") from None
            check_live(client, run, assignment.by_case)
    _print(run, Console(soft_wrap=False))
    try:
        if junit is not None:
            write_junit(run, junit)
        if html is not None:
            write_html(run, html)
    except OSError as error:
        raise usage_error(
            "conformance", f"cannot write the report: {error.strerror or error}"
        ) from None
    raise typer.Exit(run.verdict.exit_code)
