"""Risk routing: the path one declaration takes through the risk channel, drawn in one go.

    path = draw_path(profile, uniforms, code, review_stage=True)   # five Uniform(0, 1) + a draw
    path.rejected, path.review, path.inspect, path.manual, path.ending

The one place the risk channel's rules are written (``RiskProfile`` in the scenario file,
docs/simulation.md "Risk"). Two callers draw with it:

- the batch model (``simulation.model``) draws the path of each declaration when it is lodged,
  with five uniforms from its routing stream (taken from numpy in blocks), and then walks it;
- the live engine (``app.engine.outcomes``) draws them with a generator seeded by (engine
  seed, declaration id), so that a declaration replayed after a restart takes the same path.

A path is a pure function of five uniforms, one per choice whether or not the path reaches it
(rejection, review, inspection, manual inspection, detention or return), and of one more
uniform, drawn from ``code`` only for a detention, for its code. So a choice keeps its uniform
when a scenario's probabilities change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import cast

import numpy as np

from declarations import ReturnStatus
from simulation.distributions import stream
from simulation.scenario import RiskProfile

UNIFORMS = 5  # the uniforms one path takes (see the module docstring)
Draw = Callable[[], float]
"""A source of Uniform(0, 1) numbers: ``draw()`` returns the next one."""

# ``Forced.reject_code`` for a rejection at audit (status 100) that names no business code.
REJECT_WITHOUT_CODE = ""


@dataclass(frozen=True, slots=True)
class Forced:
    """Outcomes imposed on one declaration (live mode); ``None`` leaves it to the risk channel."""

    review: bool | None = None
    inspection: bool | None = None
    manual_inspection: bool | None = None
    # Rejected at audit (100) with this negative business code (e.g. "-621005"), or with none
    # (REJECT_WITHOUT_CODE); None: not forced to be rejected.
    reject_code: str | None = None
    detention: ReturnStatus | None = None  # detained after inspection (implies inspection)
    return_goods: bool = False  # shipped back after inspection (implies inspection)


@dataclass(frozen=True, slots=True)
class RiskPath:
    """One declaration's way through the risk channel.

    ``rejected``: rejected at audit (100). The rest is drawn all the same (each choice keeps
    its own probability); the model stops a rejected declaration at audit.
    ``review``: sent to manual review (300) — only where the site has a review stage.
    ``inspect``: inspected; ``manual``: manual inspection after the machine check.
    ``ending``: after an inspection, ``RELEASED``, ``RETURNED`` (700) or a detention (50x).
    """

    rejected: bool
    review: bool
    inspect: bool
    manual: bool
    ending: ReturnStatus


def draw_path(
    profile: RiskProfile,
    uniforms: Sequence[float],
    code: Draw,
    *,
    review_stage: bool = True,
    rule_hit: bool = False,
    rule_manual: bool = False,
    forced: Forced | None = None,
) -> RiskPath:
    """The path of one declaration of ``profile``'s flow and credit class, given its five
    ``uniforms`` (Uniform(0, 1), in the order of the module docstring) and ``code``, drawn
    once for the code of a detention.

    ``review_stage``: the site reviews (else ``inspect_direct`` applies to everyone).
    ``rule_hit``: a risk rule fired at lodgement, which orders an inspection (and a manual one
    with ``rule_manual``). ``forced``: choices imposed on this declaration (live mode), which
    win over the drawn ones. ``manual`` is drawn whether or not the path is inspected (a
    forced inspection takes it), ``ending`` only applies to an inspected path."""
    u_reject, u_review, u_inspect, u_manual, u_ending = uniforms
    if forced is not None and forced.reject_code is not None:
        return RiskPath(True, False, False, False, _RELEASED)
    review = u_review < profile.review
    if forced is not None and forced.review is not None:
        review = forced.review
    review = review and review_stage
    inspect = rule_hit or u_inspect < (
        profile.inspect_after_review if review else profile.inspect_direct
    )
    manual = rule_manual or u_manual < profile.manual_after_machine
    ending = _RELEASED
    if forced is not None:
        if forced.inspection is not None:
            inspect = forced.inspection
        if forced.manual_inspection is not None:
            manual = forced.manual_inspection
        if forced.detention is not None:
            inspect, ending = True, forced.detention
        elif forced.return_goods:
            inspect, ending = True, ReturnStatus.RETURNED
    if inspect and ending is _RELEASED:
        if u_ending < profile.detain:
            ending = _detention_code(profile, code())
        elif u_ending < profile.detain + profile.return_goods:
            ending = ReturnStatus.RETURNED
    rejected = u_reject < profile.reject
    if not (rejected or review or inspect or manual):
        return STRAIGHT  # most declarations: one shared path (paths are immutable)
    return RiskPath(rejected, review, inspect, manual, ending)


_RELEASED = ReturnStatus.RELEASED
STRAIGHT = RiskPath(False, False, False, False, _RELEASED)
"""Straight through: accepted, decided and released without review or inspection."""


def routes(profile: RiskProfile) -> bool:
    """Whether ``profile`` sends anyone off the straight path (rejection, review or
    inspection; detention, return and manual inspection only follow an inspection). One that
    does not gives ``STRAIGHT`` without a draw, unless a rule or a forced outcome says
    otherwise: the batch model then takes no uniforms for the declaration."""
    return any(
        (profile.reject, profile.review, profile.inspect_direct, profile.inspect_after_review)
    )


def _detention_code(profile: RiskProfile, u: float) -> ReturnStatus:
    """The detention status whose share of the ``detention_codes`` weights ``u`` falls in
    (the arithmetic of numpy's ``Generator.choice`` with ``p``: the same ``u``, the same code)."""
    codes = list(profile.detention_codes)
    weights = list(profile.detention_codes.values())
    total = sum(weights)
    cumulative = list(accumulate(w / total for w in weights))
    for code, upper in zip(codes, cumulative, strict=True):
        if upper / cumulative[-1] > u:
            return ReturnStatus(code)
    return ReturnStatus(codes[-1])  # u within rounding of 1


def uniform_rows(rng: np.random.Generator) -> Callable[[], Sequence[float]]:
    """The batch model's routing stream: each call gives the five uniforms of one path, taken
    from numpy in blocks (``distributions.stream`` over rows) by a generator spawned from
    ``rng``."""
    child = rng.spawn(1)[0]
    return cast(Callable[[], Sequence[float]], stream(lambda n: child.random((n, UNIFORMS))))
