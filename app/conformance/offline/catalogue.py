"""The conformance test-case catalogue: numbered cases per regime and direction.

The catalogue lives in ``scenarios/conformance/<regime>-<direction>.yaml`` (one file per group,
e.g. ``9610-import.yaml`` holding ``CT-9610I-001``…), in the manner of the ICS2 conformance test
packs (https://www.clecat.org/en/news/newsletters/get-ready-for-ics2) and the Dutch customs
test sets (http://www.douane.nl/zakelijk/softwareontwikkeling/en/softwareontwikkeling-04.html).
Each case says what the integrator must send, what the documents must exhibit (checked
offline), and which receipts the live service must answer with (checked with ``--server``). The
pydantic models below are the catalogue's schema; ``load_catalogue`` refuses a file that does
not fit it, naming the file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from declarations import Direction, Regime
from simulation.paths import scenarios_root

CASE_ID = r"^CT-(9610|1210|9710|9810)[IE]-\d{3}$"


class CaseKind(StrEnum):
    POSITIVE = "positive"  # the set must be valid (and, live, run the expected receipt path)
    NEGATIVE = "negative"  # the set must break the named rule(s), and nothing else


class Branch(StrEnum):
    """The receipt branches a live declaration can take (app.engine.outcomes; the codes are
    CEB622's, CEB spec 202205 §3.10.4 p. 86), and the lifecycle answers to a resent, changed or
    deleted document (declarations.lifecycle).
    """

    RELEASE = "release"  # 120 → 399 → 800 → 899
    REVIEW = "review"  # 120 → 300 → 399 → 800 → 899
    INSPECT = "inspect"  # 120 → 399 → 500 → 800 → 899
    REJECT = "reject"  # 100 (forced at audit)
    REJECT_CODE = "reject-code"  # a forced negative business code
    DETAIN_501 = "detain-501"
    DETAIN_502 = "detain-502"
    DETAIN_503 = "detain-503"
    DETAIN_599 = "detain-599"
    RETURN = "return"  # 700 shipped back after inspection
    RULE_REFUSAL = "rule-refusal"  # a business rule refuses a document (100 or its spec code)
    RESEND = "resend"  # the same message again: idempotent, no new receipts path
    DUPLICATE = "duplicate"  # a new message (other guid) with the same number: refused
    CHANGE_REFUSED = "change-refused"  # appType 2 after customs decided: -621012
    DELETE_REFUSED = "delete-refused"  # appType 3 after customs accepted: -621012
    ORDER_CHANGE_REFUSED = "order-change-refused"  # order changed after its 清单: -301011
    AFTER_RELEASE = "after-release"  # a message after the released 清单 taken (a return)
    AFTER_REFUSED = "after-refused"  # one refused with the spec's code (cancelling a closed 清单)


class Action(StrEnum):
    SUBMIT = "submit"  # send every document of the case folder whose appType is 1, in set order
    RESEND = "resend"  # send the named message again, byte for byte
    CHANGE = "change"  # send the case folder's message of that type with appType 2
    DELETE = "delete"  # send the case folder's message of that type with appType 3
    DUPLICATE = "duplicate"  # send the named message again with a fresh guid (appType 1)
    # send the folder's message of that type that follows the 清单 (a cancellation, return,
    # delivery or site entry record), naming the invtNo customs gave the 清单
    FOLLOW = "follow"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DocumentSpec(_Strict):
    """One document the integrator sends, and what it must show."""

    message: str = Field(pattern=r"^CEB\d{3}$")
    must_show: str = ""  # in words: "a line whose totalPrice ≠ price × qty"
    app_type: str = Field(default="1", pattern=r"^[123]$")


class Exhibit(_Strict):
    """What the offline check demands of the case's documents."""

    # A negative case: each must be reported… ("schema.*" stands for any rule of that family)
    rules: list[str] = []
    severity: str = Field(default="error", pattern=r"^(error|warning)$")  # …at this severity
    also_allowed: list[str] = []  # errors a faithful example cannot avoid (e.g. an unpaired line)
    note_marker: str | None = None  # e.g. "DANCHUANG:INSPECT", in the 清单's note
    app_types: list[str] = []  # appType values the folder must hold besides 1 (change/delete)
    # Every new document comes in this transport envelope (CEB spec 202205 §4-5); live, its
    # receipts must come back in a DxpMsg signed by customs.
    transport: Literal["DxpMsg", "DxpMsgSv"] | None = None
    signed: bool = False  # every new document carries a sound signature (§6)


class Expected(_Strict):
    """The receipts one step must bring: ``statuses`` appear in this order among the receipts of
    ``message`` (other statuses such as 2 and 3 may come between), and the last is the last."""

    message: str = Field(pattern=r"^CEB\d{3}$")
    statuses: list[int] = Field(min_length=1)


class Step(_Strict):
    action: Action
    message: str | None = Field(default=None, pattern=r"^CEB\d{3}$")  # for all but submit
    forced_outcome: str | None = None  # also set through the API when the note lacks it
    http_refusal: bool = False  # refused at the door (HTTP 4xx), so no receipt at all
    expect: list[Expected] = []


class Case(_Strict):
    id: str = Field(pattern=CASE_ID)
    title: str
    title_zh: str
    kind: CaseKind
    mandatory: bool
    branch: Branch
    rule: str | None = None  # the rule a rule-refusal case is about
    purpose: str
    preconditions: list[str] = []
    documents: list[DocumentSpec] = Field(min_length=1)
    exhibit: Exhibit = Exhibit()
    steps: list[Step] = Field(min_length=1)
    # False where the documents cannot be sent as they are: the live service takes one record
    # per message, and some rules are shown with several (docs/conformance.md, Known limits).
    live: bool = True
    # Run live only against a service in this signature mode (GET /api/v1/signature-policy).
    live_signature_mode: Literal["off", "warn", "require"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if self.kind is CaseKind.NEGATIVE and not self.exhibit.rules:
            raise ValueError(f"{self.id}: a negative case names the rules it must break")
        if (
            self.kind is CaseKind.POSITIVE
            and self.exhibit.rules
            and self.exhibit.severity != "warning"
        ):
            raise ValueError(f"{self.id}: a positive case may expect warnings only")
        if self.branch is Branch.RULE_REFUSAL and self.rule not in self.exhibit.rules:
            raise ValueError(f"{self.id}: rule {self.rule!r} is not among exhibit.rules")
        return self


class Group(_Strict):
    """One catalogue file: the cases of one regime and direction."""

    regime: Regime
    direction: Direction
    title: str
    cases: list[Case]

    @property
    def prefix(self) -> str:
        return f"CT-{self.regime.value}{self.direction.value[0].upper()}"

    @property
    def label(self) -> str:
        return f"{self.regime.value} {self.direction.value}"

    @model_validator(mode="after")
    def _numbered(self) -> Group:
        if self.direction not in self.regime.directions:
            raise ValueError(f"regime {self.regime.value} has no {self.direction.value} direction")
        expected = [f"{self.prefix}-{n:03d}" for n in range(1, len(self.cases) + 1)]
        found = [c.id for c in self.cases]
        if found != expected:
            wrong = next(
                f"{f} (expected {e})" for f, e in zip(found, expected, strict=False) if f != e
            )
            raise ValueError(f"case ids must run {self.prefix}-001… without gaps: {wrong}")
        return self


class CatalogueError(ValueError):
    """A catalogue file that cannot be read or does not fit the schema; names the file."""


@cache
def catalogue_root() -> Path:
    """``DANCHUANG_CONFORMANCE_DIR``, else ``conformance/`` in the shipped scenarios folder
    (the checkout's ``scenarios/`` or the wheel's copy, see ``simulation.paths``)."""
    override = os.environ.get("DANCHUANG_CONFORMANCE_DIR")
    candidates = [Path(override)] if override else []
    with contextlib.suppress(FileNotFoundError):
        candidates.append(scenarios_root() / "conformance")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    searched = ", ".join(str(c) for c in candidates) or "no scenarios folder"
    raise FileNotFoundError(f"the conformance catalogue was not found (looked in {searched})")


def load_group(path: Path) -> Group:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CatalogueError(f"{path}: cannot read the catalogue file: {error}") from None
    try:
        return Group.model_validate(data)
    except ValidationError as error:
        raise CatalogueError(f"{path}: does not fit the catalogue schema:\n{error}") from None


def load_catalogue(root: Path | None = None) -> list[Group]:
    """Every group of the catalogue, in regime order (9610, 1210, 9710, 9810; import first)."""
    folder = root or catalogue_root()
    groups = [load_group(p) for p in sorted(folder.glob("*.yaml"))]
    order = {(r, d): n for n, (r, d) in enumerate((r, d) for r in Regime for d in r.directions)}
    groups.sort(key=lambda g: order[(g.regime, g.direction)])
    seen: set[str] = set()
    for group in groups:
        for case in group.cases:
            if case.id in seen:
                raise CatalogueError(f"{folder}: case id {case.id} appears twice")
            seen.add(case.id)
    return groups


def all_cases(groups: list[Group]) -> Iterator[tuple[Group, Case]]:
    for group in groups:
        for case in group.cases:
            yield group, case


def catalogue_schema() -> dict[str, object]:
    """The JSON Schema of one catalogue file (for editors and other tools)."""
    return Group.model_json_schema()
