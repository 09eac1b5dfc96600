"""``danchuang validate FILE... [--regime CODE] [--format text|json|junit]``.

A thin layer over ``declarations.validate_batch``: files that form a set (same orderNo;
an export waybill through its 清单's logisticsNo) are also reconciled, and reconciliation
findings are listed under the files they concern.

Exit codes: 0 every file valid, 1 some file invalid, 2 usage error (unknown regime, missing or
unreadable file; also a missing or broken installed schema), each with a one-line message on
stderr and no traceback.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import typer
from lxml import etree

from app.cli import cli, usage_error
from declarations import (
    DEFAULT_LIMITS,
    Finding,
    Report,
    SchemaNotFoundError,
    parse_regime,
    validate_batch,
)


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"


def _read(path: Path) -> bytes:
    """The file's bytes, but never more than one byte over the size limit: the pipeline refuses
    an oversized document by its size, and a 50 MB file need not be read whole for that."""
    with path.open("rb") as handle:
        return handle.read(DEFAULT_LIMITS.max_bytes + 1)


def _location(finding: Finding, fallback: str) -> str:
    where = finding.source or fallback
    if finding.line:
        where += f":{finding.line}"
        if finding.column:
            where += f":{finding.column}"
    return where


def _text(names: list[str], reports: list[Report]) -> str:
    lines: list[str] = []
    for name, report in zip(names, reports, strict=True):
        summary = report.documents[0]
        what = " ".join(p for p in (summary.message_type, summary.regime) if p)
        verdict = "valid" if report.valid else "INVALID"
        lines.append(f"{name}: {verdict}" + (f" ({what})" if what else ""))
        for finding in report.findings:
            lines.append(
                f"  {_location(finding, name)} {finding.severity.value} {finding.rule}: "
                f"{finding.message_en} / {finding.message_zh}"
                + (f" [{finding.xpath}]" if finding.xpath else "")
            )
    valid = sum(r.valid for r in reports)
    lines.append(f"{valid} of {len(reports)} file(s) valid")
    return "\n".join(lines)


def _json_lines(names: list[str], reports: list[Report]) -> str:
    rows = []
    for name, report in zip(names, reports, strict=True):
        row = {"file": name, **report.documents[0].to_dict(), "valid": report.valid}
        row["findings"] = [f.to_dict() for f in report.findings]
        rows.append(json.dumps(row, ensure_ascii=False))
    return "\n".join(rows)


def _junit(names: list[str], reports: list[Report]) -> str:
    failures = sum(not r.valid for r in reports)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuite name="danchuang validate" tests="{len(reports)}" failures="{failures}">',
    ]
    for name, report in zip(names, reports, strict=True):
        out.append(f'  <testcase classname="danchuang.validate" name={quoteattr(name)}>')
        errors = list(report.errors())
        if errors:
            body = "\n".join(
                f"{_location(f, name)} {f.rule}: {f.message_en} / {f.message_zh}" for f in errors
            )
            summary = f"{len(errors)} finding(s); first: {errors[0].rule}"
            out.append(f"    <failure message={quoteattr(summary)}>{escape(body)}</failure>")
        out.append("  </testcase>")
    out.append("</testsuite>")
    return "\n".join(out)


_RENDER = {OutputFormat.TEXT: _text, OutputFormat.JSON: _json_lines, OutputFormat.JUNIT: _junit}


def _expand(paths: list[Path]) -> list[Path]:
    """The files named, a folder standing for the .xml files under it (sorted, recursive)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".xml" and p.is_file())
            if not found:
                raise usage_error("validate", f"{path}: a folder without .xml files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise usage_error("validate", f"{path}: no such file or folder")
    return files


@cli.command()
def validate(
    files: list[Path] = typer.Argument(
        ...,
        help="CEB XML messages to check; a folder stands for the .xml files under it.",
        show_default=False,
    ),
    regime: str | None = typer.Option(
        None, "--regime", help="Supervision code 9610, 1210, 9710 or 9810 (default: from the file)."
    ),
    output: OutputFormat = typer.Option(
        OutputFormat.TEXT, "--format", help="text, json (one object per file) or junit."
    ),
) -> None:
    """Check CEB messages: parse, schema, business rules, and reconciliation of sets."""
    try:
        chosen = parse_regime(regime)
    except ValueError as error:
        raise usage_error("validate", str(error)) from None
    documents: list[tuple[str, bytes]] = []
    for path in _expand(files):
        try:
            documents.append((str(path), _read(path)))
        except OSError as error:
            raise usage_error("validate", f"{path}: cannot be read ({error.strerror})") from None
    try:
        reports = validate_batch(documents, chosen)
    except (SchemaNotFoundError, FileNotFoundError, etree.XMLSchemaParseError) as error:
        # An installation problem, not the user's files: said plainly, without a traceback.
        raise usage_error("validate", f"cannot load danchuang's schemas: {error}") from None
    typer.echo(_RENDER[output]([name for name, _ in documents], reports))
    raise typer.Exit(0 if all(r.valid for r in reports) else 1)
