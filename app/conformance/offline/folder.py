"""Finding the integrator's documents for each case.

Two layouts, which may be mixed (docs/conformance.md):

- ``DIR/<case-id>/*.xml``: the files of a folder named after a case are that case's documents;
- any other ``*.xml`` under DIR (flat, or in folders of other names) is grouped into sets by
  their business keys (orderNo; an export waybill through its 清单's logisticsNo, as
  ``validate_batch`` does) and each valid set goes to the first free positive case it fits:
  the one whose outcome marker its 清单 note carries, whose expected warnings it shows, whose
  change/delete copies it holds. An *invalid* loose set is never taken as a negative case —
  an accidental defect must not pass as a deliberate one — but reported as a failed, unmatched
  set with its findings; a negative case needs its case folder.

Receipts (回执) in the folder are ignored: they are what customs sends, not what is tested.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.conformance.documents import NamedFile, app_type_of
from app.conformance.offline.catalogue import CASE_ID, Case, CaseKind, Group
from app.conformance.offline.check import inventory_notes, matches
from declarations import (
    SET_KINDS,
    Document,
    DocumentSummary,
    Finding,
    Kind,
    group_sets,
    identify_document,
    validate_set,
)

_CASE_FOLDER = re.compile(CASE_ID)


@dataclass(slots=True)
class UnmatchedSet:
    files: list[str]
    reason: str
    findings: list[Finding] = field(default_factory=list)
    failed: bool = False  # an invalid set of a tested message type (else merely not matched)


@dataclass(slots=True)
class Assignment:
    by_case: dict[str, list[NamedFile]] = field(default_factory=dict)
    matched_from_flat: dict[str, str] = field(default_factory=dict)  # case id -> why
    unmatched: list[UnmatchedSet] = field(default_factory=list)
    unknown_folders: list[str] = field(default_factory=list)  # case-like names not in catalogue


def _read(paths: Sequence[Path], root: Path) -> list[NamedFile]:
    return [(str(p.relative_to(root)), p.read_bytes()) for p in sorted(paths)]


def assign(folder: Path, groups: Sequence[Group]) -> Assignment:
    """Every case's documents under ``folder``, by case folder first, then by what they show."""
    known = {case.id for group in groups for case in group.cases}
    result = Assignment()
    in_case_folders: dict[str, list[Path]] = {}
    loose: list[Path] = []
    for path in sorted(folder.rglob("*.xml")):
        top = path.relative_to(folder).parts[0] if path.parent != folder else None
        if top is not None and _CASE_FOLDER.match(top):
            if top in known:
                in_case_folders.setdefault(top, []).append(path)
            elif top not in result.unknown_folders:
                result.unknown_folders.append(top)
        else:
            loose.append(path)
    result.by_case = {case_id: _read(paths, folder) for case_id, paths in in_case_folders.items()}
    _match_flat(_read(loose, folder), groups, result)
    return result


def _sets(
    files: Sequence[NamedFile],
) -> tuple[list[list[NamedFile]], list[NamedFile], list[NamedFile]]:
    """The files grouped into sets by their keys; receipts, and the messages no case sends as
    part of a set (a cancellation, a return, ...), left out and returned apart."""
    receipts: list[NamedFile] = []
    untested: list[NamedFile] = []
    keep: list[tuple[NamedFile, Document | None]] = []
    for name, data in files:
        document, _ = identify_document(data, source=name)
        if document is not None and document.message.kind is Kind.RETURN:
            receipts.append((name, data))
        elif document is not None and document.message.kind not in SET_KINDS:
            untested.append((name, data))
        else:
            keep.append(((name, data), document))
    groups = group_sets([document for _, document in keep])
    return [[keep[i][0] for i in g] for g in groups], receipts, untested


def _match_flat(files: Sequence[NamedFile], groups: Sequence[Group], out: Assignment) -> None:
    sets, _receipts, untested = _sets(files)
    for name, _ in untested:
        out.unmatched.append(UnmatchedSet([name], "a message type the catalogue does not test"))
    for members in sets:
        base = [f for f in members if app_type_of(f[1]) == "1"]
        report = validate_set(base or members)
        group, named = _group_of(report.documents, groups)
        names = [name for name, _ in members]
        if group is None:
            out.unmatched.append(_not_in_groups(names, report.findings, named))
            continue
        if not report.valid:
            reason = (
                "an invalid set (to test a negative case, put it in the case's folder): "
                + ", ".join(sorted({f.rule for f in report.errors()}))
            )
            out.unmatched.append(UnmatchedSet(names, reason, list(report.findings), True))
            continue
        free = [c for c in group.cases if c.id not in out.by_case]
        variants = len(base) < len(members)
        case, why = _pick_positive(
            free, report.findings, inventory_notes(base), has_variants=variants
        )
        if case is None:
            out.unmatched.append(UnmatchedSet(names, why, list(report.findings)))
            continue
        out.by_case[case.id] = list(members)
        out.matched_from_flat[case.id] = why


def _group_of(
    summaries: Sequence[DocumentSummary], groups: Sequence[Group]
) -> tuple[Group | None, str | None]:
    """The group of a set (its direction, and the regime its 清单, else any document, names),
    and that regime and direction in words even when no group of ``groups`` is theirs."""
    regimes = [s.regime for s in summaries if s.regime and s.message_type in ("CEB621", "CEB603")]
    regimes += [s.regime for s in summaries if s.regime]
    directions = [s.direction for s in summaries if s.direction]
    if not regimes or not directions:
        return None, None
    for group in groups:
        if group.regime.value == regimes[0] and group.direction.value == directions[0]:
            return group, group.label
    return None, f"{regimes[0]} {directions[0]}"


def _not_in_groups(
    names: list[str], findings: Sequence[Finding], named: str | None
) -> UnmatchedSet:
    """A set of no group checked: another regime (skipped), a message type the catalogue does
    not test (skipped), or documents too broken to tell (failed)."""
    if named is not None:
        reason = f"a {named} set: not among the regimes checked"
        return UnmatchedSet(names, reason, list(findings))
    if any(f.rule == "schema.unknown-message" for f in findings):
        return UnmatchedSet(names, "a message type the catalogue does not test", list(findings))
    reason = "documents whose regime and direction cannot be told: " + ", ".join(
        sorted({f.rule for f in findings if f.severity.value == "error"})
    )
    return UnmatchedSet(names, reason, list(findings), failed=True)


def _pick_positive(
    free: Sequence[Case], findings: Sequence[Finding], notes: Sequence[str], *, has_variants: bool
) -> tuple[Case | None, str]:
    """The first free positive case a valid set fits, and why (or None and why not)."""
    warnings = [f.rule for f in findings if f.severity.value == "warning"]
    marker = next((n.upper() for n in notes if "DANCHUANG:" in n.upper()), None)
    for case in free:
        if case.kind is not CaseKind.POSITIVE or bool(case.exhibit.app_types) != has_variants:
            continue
        expected_warnings = case.exhibit.rules
        if not all(any(matches(w, [e]) for w in warnings) for e in expected_warnings):
            continue
        if warnings and not expected_warnings:
            continue
        wanted = case.exhibit.note_marker
        if marker is not None and (wanted is None or wanted.upper() not in marker):
            continue
        return case, "a valid set" + (f" with {marker.strip()} in the 清单 note" if marker else "")
    return None, "a valid set, but no free positive case is left for it"
