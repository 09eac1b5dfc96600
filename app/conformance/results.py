"""One conformance run: the case results, the unmatched files, and the verdict."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from app.conformance.offline import CaseResult, Outcome, UnmatchedSet


class Verdict(StrEnum):
    """The headline of a run (docs/conformance.md, "Verdict and exit codes")."""

    CONFORMANT = "CONFORMANT"  # every mandatory case was run and passed; no invalid loose set
    INCOMPLETE = "INCOMPLETE"  # nothing failed, but mandatory cases were not run
    NOT_CONFORMANT = "NOT CONFORMANT"  # a mandatory case failed, or a loose set is invalid

    @property
    def exit_code(self) -> int:
        """0 conformant, 1 not conformant, 3 incomplete (2 is the usage-error code)."""
        return {"CONFORMANT": 0, "NOT CONFORMANT": 1, "INCOMPLETE": 3}[self.value]


@dataclass(slots=True)
class Run:
    results: list[CaseResult]
    unmatched: list[UnmatchedSet] = field(default_factory=list)
    unknown_folders: list[str] = field(default_factory=list)

    def by_group(self) -> Iterator[tuple[str, list[CaseResult]]]:
        labels: dict[str, list[CaseResult]] = {}
        for result in self.results:
            labels.setdefault(result.group.label, []).append(result)
        yield from labels.items()

    def count(self, outcome: Outcome, *, mandatory: bool | None = None) -> int:
        return sum(
            r.outcome is outcome and (mandatory is None or r.case.mandatory is mandatory)
            for r in self.results
        )

    @property
    def verdict(self) -> Verdict:
        """NOT CONFORMANT when a mandatory case that was tried failed or a loose set is invalid;
        else INCOMPLETE while mandatory cases were not run (no documents); else CONFORMANT."""
        if any(r.counts_against for r in self.results) or self.failed_unmatched:
            return Verdict.NOT_CONFORMANT
        if self.mandatory_not_done:
            return Verdict.INCOMPLETE
        return Verdict.CONFORMANT

    @property
    def failed_unmatched(self) -> int:
        """Loose sets that are invalid: defects no case asked for."""
        return sum(u.failed for u in self.unmatched)

    @property
    def mandatory_not_done(self) -> int:
        return self.count(Outcome.SKIPPED, mandatory=True)
