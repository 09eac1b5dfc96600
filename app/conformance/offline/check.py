"""The offline check of one conformance case: do the integrator's documents show what it asks?

A positive case passes when its set is valid (warnings it expects are present, none else
matter); a negative case passes when every rule it names is reported at its severity and no
other error is, apart from the few it tolerates (``exhibit.also_allowed``). Either way the
documents must be of the case's regime and direction and hold every message the case sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase

from lxml import etree

from app.conformance.documents import NamedFile, app_type_of, is_follow_up, root_name
from app.conformance.offline.catalogue import Case, CaseKind, Group
from declarations import (
    BY_CODE,
    CEB_NS,
    Finding,
    Kind,
    Layer,
    Report,
    Severity,
    SignatureMode,
    SignaturePolicy,
    check,
    parse_xml,
    validate,
    validate_set,
)

_C = "{" + CEB_NS + "}"


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # no documents supplied for the case


@dataclass(slots=True)
class CaseResult:
    group: Group
    case: Case
    outcome: Outcome
    problems: list[str] = field(default_factory=list)  # why it failed, one line each
    notes: list[str] = field(default_factory=list)  # what a passing case still wants to say
    findings: list[Finding] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def counts_against(self) -> bool:
        """A mandatory case that was tried and failed: the run is not conformant."""
        return self.case.mandatory and self.outcome is Outcome.FAILED


def matches(rule: str, patterns: Sequence[str]) -> bool:
    """``rule`` is one of ``patterns``; ``schema.*`` names a whole family."""
    return any(fnmatchcase(rule, p) for p in patterns)


def inventory_notes(files: Sequence[NamedFile]) -> list[str]:
    """The ``note`` texts of every 清单 among the files."""
    notes: list[str] = []
    for _, data in files:
        root = parse_xml(data, source="<note>").root
        if root is None or not isinstance(root.tag, str):
            continue
        message = BY_CODE.get(etree.QName(root).localname.removesuffix("Message"))
        if message is None or message.kind is not Kind.INVENTORY:
            continue
        notes.extend(node.text or "" for node in root.iter(_C + "note"))
    return notes


def check_case(group: Group, case: Case, files: Sequence[NamedFile]) -> CaseResult:
    """Check the integrator's files for ``case`` (an empty list: skipped)."""
    result = CaseResult(group, case, Outcome.SKIPPED, files=[name for name, _ in files])
    if not files:
        result.notes.append("no documents supplied")
        return result
    follow_ups = [f for f in files if is_follow_up(f[1])]
    base = [f for f in files if app_type_of(f[1]) == "1" and f not in follow_ups]
    variants = [f for f in files if app_type_of(f[1]) != "1" and f not in follow_ups]
    report = validate_set(base) if base else Report()
    # The messages after the 清单 stand alone (their invtNo is a sample's, replaced live by the
    # one customs gives): each is checked on its own, and its findings count like the set's.
    result.findings = [
        *report.findings,
        *(f for name, data in follow_ups for f in validate(data, source=name).findings),
    ]
    problems = result.problems
    problems += _belongs(group, case, report, follow_ups)
    problems += _verdict(case, result.findings)
    problems += _marker(case, base, result.notes)
    problems += _variants(case, variants)
    problems += _transport(case, base)
    result.outcome = Outcome.FAILED if problems else Outcome.PASSED
    return result


def _belongs(
    group: Group, case: Case, report: Report, follow_ups: Sequence[NamedFile] = ()
) -> list[str]:
    problems = []
    present = {d.message_type for d in report.documents}
    present |= {root_name(data).removesuffix("Message") for _, data in follow_ups}
    unreadable_expected = "parse.*" in case.exhibit.rules  # such a file names no message
    for spec in case.documents:
        if spec.app_type == "1" and spec.message not in present and not unreadable_expected:
            problems.append(f"no {spec.message} document ({BY_CODE[spec.message].name_en})")
    for summary in report.documents:
        if summary.direction and summary.direction != group.direction.value:
            problems.append(f"{summary.source} is an {summary.direction} message")
        message = BY_CODE.get(summary.message_type or "")
        named = message is not None and message.kind is Kind.INVENTORY
        if named and summary.regime and summary.regime != group.regime.value:
            problems.append(f"{summary.source} is for regime {summary.regime}, not {group.label}")
    return problems


def _verdict(case: Case, findings: Sequence[Finding]) -> list[str]:
    exhibit = case.exhibit
    severity = Severity(exhibit.severity)
    problems = []
    for wanted in exhibit.rules:
        if not any(matches(f.rule, [wanted]) and f.severity is severity for f in findings):
            problems.append(f"expected rule {wanted} ({severity.value}) was not reported")
    tolerated = [*exhibit.rules, *exhibit.also_allowed] if case.kind is CaseKind.NEGATIVE else []
    for finding in (f for f in findings if f.severity is Severity.ERROR):
        if not matches(finding.rule, tolerated):
            problems.append(describe(finding))
    return problems


def _marker(case: Case, base: Sequence[NamedFile], notes: list[str]) -> list[str]:
    wanted = case.exhibit.note_marker
    if wanted is None:
        return []
    found = [n for n in inventory_notes(base) if "DANCHUANG:" in n.upper()]
    if not found:
        notes.append(f"no {wanted} in the 清单 note: --server forces the outcome through the API")
        return []
    if any(wanted.upper() in n.upper() for n in found):
        return []
    return [f"the 清单 note carries {found[0]!r}, but this case needs {wanted}"]


def _variants(case: Case, variants: Sequence[NamedFile]) -> list[str]:
    problems = []
    held = {app_type_of(data): (name, data) for name, data in variants}
    for app_type in case.exhibit.app_types:
        if app_type not in held:
            problems.append(f"no document with appType {app_type} (the change/delete to send)")
            continue
        name, data = held[app_type]
        problems += [describe(f) for f in validate(data, source=name).errors()]
    for app_type in held.keys() - set(case.exhibit.app_types):
        problems.append(f"{held[app_type][0]}: appType {app_type} is not used by this case")
    return problems


def _transport(case: Case, base: Sequence[NamedFile]) -> list[str]:
    """The envelope and the signature a transport case asks of every new document."""
    wanted, problems = case.exhibit.transport, []
    strict = SignaturePolicy(SignatureMode.REQUIRE)
    for name, data in base if wanted or case.exhibit.signed else ():
        root = parse_xml(data, source=name).root
        found = etree.QName(root).localname if root is not None else "?"
        if wanted and found != wanted:
            problems.append(f"{name}: sent as {found}, this case wants it in a {wanted}")
        if case.exhibit.signed:
            checked = check(data, source=name, signatures=strict).report.findings
            problems += [describe(f) for f in checked if f.layer is Layer.SIGNATURE]
    return problems


def describe(finding: Finding) -> str:
    """One line naming file, line, field and rule, as the house rules ask."""
    where = finding.source or "?"
    if finding.line:
        where += f":{finding.line}"
    field_name = f" [{finding.field}]" if finding.field else ""
    return f"{where}{field_name} {finding.rule} ({finding.severity.value}): {finding.message_en}"
