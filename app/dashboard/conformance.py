"""The conformance page's work: split what was pasted or uploaded into documents, validate
them as ``danchuang validate`` does (sets among them reconciled), and lay each document out as
numbered lines with the lines that findings point at marked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from declarations import RULES, Finding, validate_batch

# A new document starts at each XML declaration (several pasted one after the other).
_DECLARATION = re.compile(rb"<\?xml\b")


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    marked: bool


@dataclass
class CheckedDocument:
    index: int  # 1-based, for anchors: line N of document I is #d{I}-L{N}
    source: str
    valid: bool
    message_type: str | None
    regime: str | None
    findings: list[Finding]
    lines: list[Line] = field(default_factory=list)

    def anchor(self, line: int | None) -> str | None:
        return f"d{self.index}-L{line}" if line else None


def split_pasted(data: bytes) -> list[bytes]:
    """Several documents pasted together are cut at each ``<?xml`` declaration; text before
    the first one (blank lines) is dropped. Without any declaration it is one document."""
    starts = [m.start() for m in _DECLARATION.finditer(data)]
    if len(starts) <= 1:
        return [data.strip()] if data.strip() else []
    ends = [*starts[1:], len(data)]
    return [data[s:e].rstrip() for s, e in zip(starts, ends, strict=True)]


def _lines(data: bytes, marked: set[int]) -> list[Line]:
    text = data.decode("utf-8", errors="replace")
    return [Line(n, t, n in marked) for n, t in enumerate(text.splitlines() or [""], start=1)]


def check(documents: list[tuple[str, bytes]]) -> list[CheckedDocument]:
    """Validate the documents (``(source, bytes)``) and lay them out for the page."""
    reports = validate_batch(documents)
    checked: list[CheckedDocument] = []
    for index, ((source, data), report) in enumerate(zip(documents, reports, strict=True), 1):
        summary = report.documents[0] if report.documents else None
        marked = {f.line for f in report.findings if f.line}
        checked.append(
            CheckedDocument(
                index=index,
                source=source,
                valid=report.valid,
                message_type=summary.message_type if summary else None,
                regime=summary.regime if summary else None,
                findings=list(report.findings),
                lines=_lines(data, marked),
            )
        )
    return checked


def rule_title(rule_id: str) -> tuple[str, str]:
    info = RULES.get(rule_id)
    return (info.title_en, info.title_zh) if info else (rule_id, rule_id)
