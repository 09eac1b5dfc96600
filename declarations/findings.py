"""Findings and reports: what the validation pipeline says about a document or a set.

Every rule has a stable id, registered once in ``RULES`` with its meaning in English and Chinese,
so that the CLI, the HTTP API and the error-code dictionary all speak of the same thing.
Rule ids are lower-case and dotted, the first segment naming the layer or the document:
``parse.*``, ``schema.*``, ``signature.*``, ``order.*``, ``payment.*``, ``waybill.*``,
``inventory.*``, ``limit.*``, ``reconcile.*``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple


class Layer(StrEnum):
    """Where in the pipeline a finding was made; the order of the members is the pipeline's."""

    PARSE = "parse"
    SCHEMA = "schema"
    SIGNATURE = "signature"
    RULE = "rule"
    RECONCILE = "reconcile"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule's identity card: the error-code dictionary is built from these."""

    id: str
    layer: Layer
    title_en: str
    title_zh: str
    severity: Severity = Severity.ERROR
    spec_code: str | None = None  # the spec's own return code where one exists, e.g. "-621005"

    def finding(
        self,
        message_en: str,
        message_zh: str,
        *,
        xpath: str | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
        source: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        return Finding(  # positionally, in the order of Finding's fields: the cheaper call
            self.id,
            self.layer,
            severity or self.severity,
            message_en,
            message_zh,
            xpath,
            line,
            column,
            field,
            source,
            self.spec_code,
        )


RULES: dict[str, RuleInfo] = {}


def define_rule(
    rule_id: str,
    layer: Layer,
    title_en: str,
    title_zh: str,
    *,
    severity: Severity = Severity.ERROR,
    spec_code: str | None = None,
) -> RuleInfo:
    """Register a rule once, at import time; a second rule with the same id is a bug."""
    if rule_id in RULES:
        raise ValueError(f"rule id {rule_id!r} is defined twice")
    info = RuleInfo(rule_id, layer, title_en, title_zh, severity, spec_code)
    RULES[rule_id] = info
    return info


class Finding(NamedTuple):
    """One thing the pipeline says about a document or a set. (A named tuple, immutable like
    the frozen dataclass it was: nearly every set gets one, and a frozen dataclass costs about
    six times as much to build, one ``object.__setattr__`` per field.)"""

    rule: str
    layer: Layer
    severity: Severity
    message_en: str
    message_zh: str
    xpath: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None
    source: str | None = None  # the file name or label of the document the finding is about
    spec_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "layer": self.layer.value,
            "severity": self.severity.value,
            "message": self.message_en,
            "message_zh": self.message_zh,
            "xpath": self.xpath,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "source": self.source,
            "spec_code": self.spec_code,
        }


class DocumentSummary(NamedTuple):
    """What the pipeline learnt about one document, whether or not it was valid. (A named
    tuple: one is made for every document, and a frozen dataclass costs several times as much
    to build.)"""

    source: str
    message_type: str | None = None  # e.g. "CEB311"
    direction: str | None = None
    regime: str | None = None
    guid: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "message_type": self.message_type,
            "direction": self.direction,
            "regime": self.regime,
            "guid": self.guid,
        }


@dataclass(slots=True)
class Report:
    """Every finding about one document or one set, in pipeline order."""

    findings: list[Finding] = field(default_factory=list)
    documents: list[DocumentSummary] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def errors(self) -> Iterator[Finding]:
        for finding in self.findings:
            if finding.severity is Severity.ERROR:
                yield finding

    def by_layer(self, layer: Layer) -> list[Finding]:
        return [f for f in self.findings if f.layer is layer]

    def for_source(self, source: str) -> list[Finding]:
        return [f for f in self.findings if f.source == source]

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "documents": [d.to_dict() for d in self.documents],
            "findings": [f.to_dict() for f in self.findings],
        }
