"""Outcomes: forced by an integrator's test, or drawn from the scenario's risk channel.

Integrators test their handling of every branch the way HMRC's and NCTS's test services let
them (hmrc/customs-declarations-stub; HMRC's CTC Traders Test Support API): a marker in the
清单's ``note`` field, or an API call before clearance, names the outcome. The grammar is the
same for both (case-insensitive, ``+`` joins words)::

    DANCHUANG:RELEASE            straight through: 120 → 399 → 800 → 899
    DANCHUANG:REVIEW             manual review first: 120 → 300 → 399 → ...
    DANCHUANG:INSPECT            inspection, then release: ... 399 → 500 → 800 → 899
    DANCHUANG:REJECT[=-621005]   rejected at audit with 100, or with the given negative code
    DANCHUANG:DETAIN[=501]       inspected, then detained (501, 502, 503 or 599; default 599)
    DANCHUANG:RETURN             inspected, then shipped back (700)
    DANCHUANG:REVIEW+INSPECT     words combine where they make sense
    DANCHUANG:RELEASE+TAXFAIL    and the tax bill's guarantee deduction fails
                                 (``app.services.tax_bills``; the model ignores the word)

Without a marker the outcome is drawn from the scenario's risk profile by the model's own
routing (``simulation.routing.draw_path``) with a generator seeded by (engine seed, declaration
id): the same declaration gets the same path after a restart, so a recovered declaration never
contradicts the receipts it already has.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from declarations import DETENTIONS, ReturnStatus
from simulation.distributions import AnyDistribution, block_function
from simulation.routing import REJECT_WITHOUT_CODE, UNIFORMS, Forced, draw_path
from simulation.scenario import RiskProfile

MARKER = "DANCHUANG:"
_WORD = re.compile(r"^(RELEASE|REVIEW|INSPECT|REJECT|DETAIN|RETURN|TAXFAIL)(?:=(-?\d{1,9}))?$")
_MARKER_IN_TEXT = re.compile(r"DANCHUANG:([A-Za-z0-9=+\-]+)", re.IGNORECASE)
MAX_LENGTH = 30  # the width of Declaration.forced_outcome


class OutcomeError(ValueError):
    """An outcome that cannot be understood; the message says why, in English."""


def parse_outcome(text: str) -> Forced:
    """``INSPECT``, ``REJECT=-621005``, ``REVIEW+DETAIN=501`` (the prefix ``DANCHUANG:`` is
    optional) as the model's ``Forced``; raises ``OutcomeError`` for anything else."""
    body = text.strip()
    if body.upper().startswith(MARKER):
        body = body[len(MARKER) :]
    if not body:
        raise OutcomeError("empty outcome")
    forced = Forced()
    seen: set[str] = set()
    for raw in body.split("+"):
        match = _WORD.match(raw.strip().upper())
        if match is None:
            raise OutcomeError(
                f"unknown outcome {raw.strip()!r}: use RELEASE, REVIEW, INSPECT, REJECT[=code], "
                "DETAIN[=501|502|503|599], RETURN or TAXFAIL, joined with '+'"
            )
        word, code = match.group(1), match.group(2)
        if word in seen:
            raise OutcomeError(f"{word} given twice")
        seen.add(word)
        forced = _apply(forced, word, code)
    terminal = seen & {"RELEASE", "REJECT", "DETAIN", "RETURN"}
    if len(terminal) > 1:
        raise OutcomeError(f"contradictory outcomes: {' and '.join(sorted(terminal))}")
    if "RELEASE" in seen and "INSPECT" in seen:
        raise OutcomeError("RELEASE means no inspection; to inspect and release, say INSPECT")
    return forced


def _apply(forced: Forced, word: str, code: str | None) -> Forced:
    if word not in {"REJECT", "DETAIN"} and code is not None:
        raise OutcomeError(f"{word} takes no code")
    if word == "TAXFAIL":  # the tax bill's (app.services.tax_bills), not the model's
        return forced
    if word == "RELEASE":
        return replace(forced, review=forced.review or False, inspection=False)
    if word == "REVIEW":
        return replace(forced, review=True)
    if word == "INSPECT":
        return replace(forced, inspection=True)
    if word == "REJECT":
        if code is not None and not code.startswith("-"):
            raise OutcomeError("a rejection code is a negative business code, e.g. -621005")
        return replace(forced, reject_code=REJECT_WITHOUT_CODE if code is None else code)
    if word == "DETAIN":
        status = int(code) if code is not None else int(ReturnStatus.DETAINED_OTHER)
        if status not in {int(s) for s in DETENTIONS}:
            raise OutcomeError("a detention code is 501, 502, 503 or 599")
        return replace(forced, detention=ReturnStatus(status), inspection=True)
    return replace(forced, return_goods=True, inspection=True)  # RETURN


def normalise(text: str) -> str:
    """The outcome as stored in ``Declaration.forced_outcome`` (checked, upper case, no
    prefix); raises ``OutcomeError``."""
    parse_outcome(text)
    body = text.strip().upper()
    body = body.removeprefix(MARKER)
    body = "+".join(part.strip() for part in body.split("+"))
    if len(body) > MAX_LENGTH:
        raise OutcomeError(f"outcome longer than {MAX_LENGTH} characters")
    return body


def marker_in_note(note: str | None) -> str | None:
    """The ``DANCHUANG:...`` marker in a 清单's note, if there is one."""
    if not note:
        return None
    match = _MARKER_IN_TEXT.search(note)
    return match.group(1) if match else None


def draw_outcome(
    profile: RiskProfile,
    rng: np.random.Generator,
    *,
    rules: Sequence[tuple[float, bool]] = (),
    has_review: bool = True,
) -> Forced:
    """One path through the risk channel, drawn with ``rng`` by the model's routing
    (``simulation.routing.draw_path``, see ``docs/simulation.md``); ``rules`` are the
    (probability, manual) of the flow's risk rules, drawn for this declaration alone. Every
    choice is made (no ``None``), so the model draws nothing.

    The order of the draws is part of the seeding contract (a declaration keeps its path when
    the engine restarts, also on a newer version): the path's five uniforms, then one per rule,
    then a detention's code."""
    uniforms = rng.random(UNIFORMS + len(rules)).tolist()  # the path's, then one per rule
    path = draw_path(
        profile,
        uniforms,
        rng.random,  # a detention's code, after the rules
        review_stage=has_review,
        rules=rules,
    )
    ending = path.ending
    return Forced(
        review=path.review,
        inspection=path.inspect,
        manual_inspection=path.manual,
        reject_code=REJECT_WITHOUT_CODE if path.rejected else None,
        detention=ending if ending not in {ReturnStatus.RELEASED, ReturnStatus.RETURNED} else None,
        return_goods=ending is ReturnStatus.RETURNED,
    )


def complete(forced: Forced, drawn: Forced) -> Forced:
    """A forced outcome with the choices it leaves open taken from the drawn one, so that the
    model has nothing left to draw. A forced outcome is never rejected at random, and one that
    says anything about inspection decides the whole inspection branch."""
    if forced.reject_code is not None:
        return forced
    says_inspection = (
        forced.inspection is not None or forced.detention is not None or forced.return_goods
    )
    after = forced if says_inspection else drawn
    return Forced(
        review=forced.review if forced.review is not None else drawn.review,
        inspection=forced.inspection if says_inspection else drawn.inspection,
        manual_inspection=(
            forced.manual_inspection
            if forced.manual_inspection is not None
            else drawn.manual_inspection
        ),
        reject_code=None,
        detention=after.detention,
        return_goods=after.return_goods,
    )


def delivery_delay(dist: AnyDistribution | None, seed: int, declaration_id: int) -> float | None:
    """Seconds from an import's release to the buyer's signature, drawn from its flow's
    ``delivery`` (``dist``; None: the scenario gives none), the same for a declaration on
    every run."""
    if dist is None:
        return None
    rng = np.random.default_rng([seed, declaration_id, 513])
    return float(block_function(dist, rng)(1)[0])
