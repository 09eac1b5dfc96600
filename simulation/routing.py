"""Risk routing: the path a declaration takes through the risk channel, drawn in one go.

    paths = draw_paths(profile, rows, code, rules=rules)     # one path per row of uniforms
    path = draw_path(profile, uniforms, code)                 # the same, for one declaration
    path.rejected, path.review, path.inspect, path.manual, path.ending

The one place the risk channel's rules are written (``RiskProfile`` and a flow's
``rule_hits`` in the scenario file, docs/simulation.md "Risk"). Two callers draw with it:

- the batch model (``simulation.model``) takes the path of each declaration when it is lodged
  from a ``path_stream`` of its flow and credit class (paths drawn in blocks, vectorised), and
  then walks it;
- the live engine (``app.engine.outcomes``) draws one path with a generator seeded by (engine
  seed, declaration id), so that a declaration replayed after a restart takes the same path.

A path is a pure function of its row of uniforms: five, one per choice whether or not the path
reaches it (rejection, review, inspection, manual inspection, detention or return), then one per
risk rule of the flow; and of one more uniform, drawn from ``code`` only for a detention, for
its code. So a choice keeps its uniform when a scenario's probabilities change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate, repeat
from typing import cast

import numpy as np

from declarations import ReturnStatus
from simulation.distributions import block_stream
from simulation.scenario import RiskProfile

UNIFORMS = 5  # the uniforms one path takes (see the module docstring)
Draw = Callable[[], float]
"""A source of Uniform(0, 1) numbers: ``draw()`` returns the next one."""
Rule = tuple[float, bool]
"""A risk rule of a flow: (the probability it hits a declaration, whether it orders a manual
inspection)."""

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


def draw_paths(
    profile: RiskProfile,
    rows: np.ndarray,
    code: Draw,
    *,
    review_stage: bool = True,
    rules: Sequence[Rule] = (),
    rule_hit: bool = False,
    rule_manual: bool = False,
    forced: Forced | None = None,
) -> list[RiskPath]:
    """The paths of declarations of ``profile``'s flow and credit class, one per row of
    ``rows``: its five uniforms (Uniform(0, 1), in the order of the module docstring), then one
    per risk rule of ``rules``. ``code`` is drawn once per detention, in row order, for its code.

    ``review_stage``: the site reviews (else ``inspect_direct`` applies to everyone).
    ``rules``: the flow's risk rules (probability, manual), each hitting a declaration with its
    probability; a rule that hits orders an inspection, and a manual one if the rule says so.
    ``rule_hit``/``rule_manual``: a rule named by the caller hit every row. ``forced``: choices
    imposed on every row (live mode), which win over the drawn ones. ``manual`` is drawn
    whether or not the path is inspected (a forced inspection takes it), ``ending`` only
    applies to an inspected path."""
    if rows.ndim != 2 or rows.shape[1] != UNIFORMS + len(rules):
        raise ValueError(f"each row takes {UNIFORMS} + {len(rules)} uniforms, not {rows.shape}")
    if forced is not None and forced.reject_code is not None:
        return [_REJECTED] * len(rows)
    u_reject, u_review, u_inspect, u_manual, u_ending, *u_rules = rows.T
    hit = np.full(len(rows), rule_hit)
    manual = np.full(len(rows), rule_manual)
    for (probability, demands_manual), u_rule in zip(rules, u_rules, strict=True):
        fired = u_rule < probability
        hit |= fired
        if demands_manual:
            manual |= fired
    review = u_review < profile.review
    if forced is not None and forced.review is not None:
        review[:] = forced.review
    review &= review_stage
    inspect = hit | (
        u_inspect < np.where(review, profile.inspect_after_review, profile.inspect_direct)
    )
    manual |= u_manual < profile.manual_after_machine
    ending: ReturnStatus | None = None  # drawn per inspected row unless forced
    if forced is not None:
        if forced.inspection is not None:
            inspect[:] = forced.inspection
        if forced.manual_inspection is not None:
            manual[:] = forced.manual_inspection
        if forced.detention is not None:
            inspect[:], ending = True, forced.detention
        elif forced.return_goods:
            inspect[:], ending = True, ReturnStatus.RETURNED
    rejected = u_reject < profile.reject
    paths = [STRAIGHT] * len(rows)  # most declarations: one shared path (paths are immutable)
    off = np.flatnonzero(rejected | review | inspect | manual)
    detain, detain_or_return = profile.detain, profile.detain + profile.return_goods
    for i, is_rejected, is_reviewed, is_inspected, is_manual, u in zip(
        off.tolist(),
        rejected[off].tolist(),
        review[off].tolist(),
        inspect[off].tolist(),
        manual[off].tolist(),
        u_ending[off].tolist(),
        strict=True,
    ):
        end = _RELEASED
        if is_inspected:
            if ending is not None:
                end = ending
            elif u < detain:
                end = _detention_code(profile, code())
            elif u < detain_or_return:
                end = ReturnStatus.RETURNED
        paths[i] = RiskPath(is_rejected, is_reviewed, is_inspected, is_manual, end)
    return paths


def draw_path(
    profile: RiskProfile,
    uniforms: Sequence[float],
    code: Draw,
    *,
    review_stage: bool = True,
    rules: Sequence[Rule] = (),
    rule_hit: bool = False,
    rule_manual: bool = False,
    forced: Forced | None = None,
) -> RiskPath:
    """The path of one declaration: ``draw_paths`` with one row of ``uniforms``."""
    (path,) = draw_paths(
        profile,
        np.asarray([uniforms], dtype=float),
        code,
        review_stage=review_stage,
        rules=rules,
        rule_hit=rule_hit,
        rule_manual=rule_manual,
        forced=forced,
    )
    return path


_RELEASED = ReturnStatus.RELEASED
STRAIGHT = RiskPath(False, False, False, False, _RELEASED)
"""Straight through: accepted, decided and released without review or inspection."""
_REJECTED = RiskPath(True, False, False, False, _RELEASED)  # a forced rejection


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


def path_stream(
    profile: RiskProfile,
    rules: Sequence[Rule],
    rng: np.random.Generator,
    code: Draw,
    *,
    review_stage: bool,
) -> Callable[[], RiskPath]:
    """The batch model's paths of one flow and credit class, one per call: ``draw_paths``
    over blocks of rows (``distributions.block_stream``) from a generator spawned from ``rng``.
    A profile that routes nowhere, with no rule that can hit, gives ``STRAIGHT`` without
    drawing."""
    child = rng.spawn(1)[0]
    if not (routes(profile) or any(probability > 0 for probability, _ in rules)):
        return repeat(STRAIGHT).__next__
    width = UNIFORMS + len(rules)
    return block_stream(
        lambda n: draw_paths(
            profile, child.random((n, width)), code, review_stage=review_stage, rules=rules
        )
    )


def uniform_rows(rng: np.random.Generator, width: int) -> Callable[[], list[float]]:
    """Rows of ``width`` uniforms, one per call, from a generator spawned from ``rng``: what
    ``draw_path`` takes for one declaration."""
    child = rng.spawn(1)[0]
    return block_stream(lambda n: cast(list[list[float]], child.random((n, width)).tolist()))
