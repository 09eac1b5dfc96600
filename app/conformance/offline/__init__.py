"""Conformance testing for integrators: the numbered case catalogue and its offline check.

``load_catalogue`` reads ``scenarios/conformance``; ``run_offline`` matches the integrator's
folder of generated XML to the cases and checks each with the validation core. The live check
over HTTP, the JUnit and HTML reports and the command live beside it in ``app.conformance`` and
``app/cli/conformance.py``; this package stays pure (no HTTP, no database). It sits in ``app/``
rather than ``declarations/`` because it reads YAML through pydantic models, which the domain
core does not depend on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app.conformance.offline.catalogue import (
    Case,
    CaseKind,
    CatalogueError,
    Group,
    all_cases,
    load_catalogue,
)
from app.conformance.offline.check import CaseResult, Outcome, check_case
from app.conformance.offline.folder import Assignment, UnmatchedSet, assign

__all__ = [
    "Assignment",
    "Case",
    "CaseKind",
    "CaseResult",
    "CatalogueError",
    "Group",
    "Outcome",
    "UnmatchedSet",
    "all_cases",
    "assign",
    "check_case",
    "load_catalogue",
    "run_offline",
]


def run_offline(folder: Path, groups: Sequence[Group]) -> tuple[list[CaseResult], Assignment]:
    """One result per case of ``groups`` (in catalogue order), and how the files were matched."""
    assignment = assign(folder, groups)
    results = []
    for group, case in all_cases(list(groups)):
        result = check_case(group, case, assignment.by_case.get(case.id, []))
        why = assignment.matched_from_flat.get(case.id)
        if why:
            result.notes.insert(0, f"matched by content: {why}")
        results.append(result)
    return results, assignment
