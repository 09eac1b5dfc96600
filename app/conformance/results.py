"""One conformance run: the case results, the unmatched files, and the verdict."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from app.conformance.offline import CaseResult, Outcome, UnmatchedSet


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
    def conformant(self) -> bool:
        """Every mandatory case that was tried passed (skipped ones are "not done", not failed),
        and no loose set is invalid."""
        return not any(r.counts_against for r in self.results) and not self.failed_unmatched

    @property
    def failed_unmatched(self) -> int:
        """Loose sets that are invalid: defects no case asked for."""
        return sum(u.failed for u in self.unmatched)

    @property
    def mandatory_not_done(self) -> int:
        return self.count(Outcome.SKIPPED, mandatory=True)
