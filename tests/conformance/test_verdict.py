"""The verdict of a conformance run: CONFORMANT only when every mandatory case of the regimes
checked was run and passed (docs/conformance.md, "Verdict and exit codes")."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli
from app.conformance.html import write_html
from app.conformance.offline import CaseResult, Group, Outcome
from app.conformance.results import Run, Verdict


def _run(group: Group, outcome_of: dict[str, Outcome]) -> Run:
    """A run of ``group`` where each case has the outcome given, else passed."""
    return Run([CaseResult(group, c, outcome_of.get(c.id, Outcome.PASSED)) for c in group.cases])


def test_every_mandatory_case_passed_is_conformant(catalogue: list[Group]) -> None:
    group = catalogue[0]
    optional = [c.id for c in group.cases if not c.mandatory]
    assert optional, "the catalogue has optional cases"
    # Optional cases without documents (or even failed) do not stand in the way.
    run = _run(group, {optional[0]: Outcome.SKIPPED, optional[-1]: Outcome.FAILED})
    assert run.verdict is Verdict.CONFORMANT and run.verdict.exit_code == 0


def test_a_mandatory_case_not_run_makes_the_run_incomplete(
    catalogue: list[Group], tmp_path: Path
) -> None:
    group = catalogue[0]
    mandatory = next(c.id for c in group.cases if c.mandatory)
    run = _run(group, {mandatory: Outcome.SKIPPED})
    assert run.verdict is Verdict.INCOMPLETE and run.verdict.exit_code == 3
    page = tmp_path / "report.html"
    write_html(run, page)
    assert "<strong>INCOMPLETE</strong>" in page.read_text(encoding="utf-8")


def test_a_failed_mandatory_case_is_not_conformant_even_when_others_were_not_run(
    catalogue: list[Group],
) -> None:
    group = catalogue[0]
    first, second = [c.id for c in group.cases if c.mandatory][:2]
    run = _run(group, {first: Outcome.FAILED, second: Outcome.SKIPPED})
    assert run.verdict is Verdict.NOT_CONFORMANT and run.verdict.exit_code == 1


def test_the_command_never_says_conformant_while_mandatory_cases_were_not_run(
    tmp_path: Path,
) -> None:
    out = tmp_path / "three"
    result = CliRunner().invoke(cli, ["samples", "9710", "--out", str(out), "--count", "3"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        cli, ["conformance", str(out), "--regime", "9710"], env={"COLUMNS": "200"}
    )
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("INCOMPLETE: 3 passed, 0 failed"), last
    assert "mandatory case(s) not done" in last
    assert result.exit_code == 3
