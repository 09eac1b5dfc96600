"""Risk routing, written once (``simulation.routing``): a path is a pure function of its
uniforms, forced choices win, and the batch model and the live engine draw alike."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine.outcomes import draw_outcome
from declarations.codes import ReturnStatus as S
from simulation.routing import (
    STRAIGHT,
    UNIFORMS,
    Forced,
    RiskPath,
    draw_path,
    draw_paths,
    path_stream,
    routes,
)
from simulation.scenario import RiskProfile

PROFILE = RiskProfile(
    reject=0.1, review=0.3, inspect_direct=0.2, inspect_after_review=0.6,
    manual_after_machine=0.5, detain=0.2, return_goods=0.1,
    detention_codes={501: 1.0, 502: 2.0, 599: 1.0},
)  # fmt: skip


def _never() -> float:
    raise AssertionError("no detention, so no code is drawn")


def test_each_choice_has_its_own_uniform() -> None:
    # reject, review, inspection, manual, ending: review (0.2 < 0.3), then the inspection
    # after review (0.5 < 0.6), manual (0.4 < 0.5), return (0.25 in [0.2, 0.3)).
    path = draw_path(PROFILE, [0.9, 0.2, 0.5, 0.4, 0.25], _never)
    assert path == RiskPath(False, True, True, True, S.RETURNED)
    # Without a review stage the direct inspection applies (0.5 >= 0.2: not inspected).
    assert draw_path(PROFILE, [0.9, 0.2, 0.5, 0.4, 0.25], _never, review_stage=False) == (
        RiskPath(False, False, False, True, S.RELEASED)
    )
    assert draw_path(PROFILE, [0.9, 0.9, 0.9, 0.9, 0.9], _never) is STRAIGHT


def test_rules_and_forced_choices_win_over_the_draws() -> None:
    ruled = draw_path(PROFILE, [0.9] * 5, _never, rule_hit=True, rule_manual=True)
    assert (ruled.inspect, ruled.manual, ruled.ending) == (True, True, S.RELEASED)
    forced = Forced(review=False, inspection=True, manual_inspection=False, detention=S(503))
    path = draw_path(PROFILE, [0.0] * 5, _never, forced=forced)
    assert path == RiskPath(True, False, True, False, S(503))
    assert draw_path(PROFILE, [0.9] * 5, _never, forced=Forced(reject_code="-621005")).rejected


@pytest.mark.parametrize("seed", range(40))
def test_a_detention_code_is_the_one_numpy_picks_for_the_same_uniform(seed: int) -> None:
    """The code arithmetic is ``Generator.choice``'s, so the live engine's declarations keep
    the codes they were drawn with before routing moved to ``simulation.routing``."""
    weights = np.array(list(PROFILE.detention_codes.values()))
    expected = list(PROFILE.detention_codes)[
        int(np.random.default_rng(seed).choice(3, p=weights / weights.sum()))
    ]
    code = np.random.default_rng(seed).random
    path = draw_path(PROFILE, [0.9, 0.9, 0.0, 0.9, 0.0], code)  # inspected, then detained
    assert path.ending == S(expected)


def test_the_engine_draws_its_paths_with_the_same_function() -> None:
    drawn = draw_outcome(PROFILE, np.random.default_rng(5))
    uniforms = np.random.default_rng(5)
    five = uniforms.random(5).tolist()
    path = draw_path(PROFILE, five, uniforms.random)
    assert (drawn.review, drawn.inspection, drawn.manual_inspection) == (
        path.review,
        path.inspect,
        path.manual,
    )
    assert (drawn.reject_code is not None) == path.rejected


def test_a_profile_that_routes_nowhere_is_known() -> None:
    assert routes(PROFILE)
    assert not routes(RiskProfile(manual_after_machine=0.5, detain=0.2))


RULES = [(0.3, True), (0.2, False)]  # (probability, orders a manual inspection)


def test_a_rule_that_hits_orders_an_inspection_and_a_manual_one_if_it_says_so() -> None:
    quiet = [0.9] * UNIFORMS  # nothing drawn off the straight path
    assert draw_path(PROFILE, [*quiet, 0.9, 0.9], _never, rules=RULES) is STRAIGHT
    assert draw_path(PROFILE, [*quiet, 0.1, 0.9], _never, rules=RULES) == RiskPath(
        False, False, True, True, S.RELEASED
    )
    assert draw_path(PROFILE, [*quiet, 0.9, 0.1], _never, rules=RULES) == RiskPath(
        False, False, True, False, S.RELEASED
    )
    with pytest.raises(ValueError, match="5 \\+ 2 uniforms"):
        draw_path(PROFILE, quiet, _never, rules=RULES)


@pytest.mark.parametrize("seed", range(5))
def test_paths_drawn_in_a_block_are_the_paths_drawn_one_by_one(seed: int) -> None:
    """The batch model draws blocks of paths; each is the path its row gives alone, and the
    detentions draw their codes in row order."""
    rows = np.random.default_rng(seed).random((2000, UNIFORMS + len(RULES)))
    block = draw_paths(PROFILE, rows, np.random.default_rng(seed + 100).random, rules=RULES)
    codes = np.random.default_rng(seed + 100).random
    alone = [draw_path(PROFILE, row, codes, rules=RULES) for row in rows.tolist()]
    assert block == alone
    assert {p.ending for p in block} >= {S.RELEASED, S.RETURNED, S(501), S(502), S(599)}


def test_the_batch_models_stream_draws_with_the_profiles_probabilities() -> None:
    paths = path_stream(PROFILE, RULES, np.random.default_rng(1), np.random.default_rng(2).random,
                        review_stage=True)  # fmt: skip
    drawn = [paths() for _ in range(40_000)]
    share = np.mean([p.review for p in drawn])
    assert abs(share - PROFILE.review) < 4 * np.sqrt(0.3 * 0.7 / len(drawn))
    # inspected: a rule hit (1 - 0.7 * 0.8 = 0.44) or else the risk channel's own draw
    channel = PROFILE.review * PROFILE.inspect_after_review + (1 - PROFILE.review) * 0.2
    expected = 1 - (1 - 0.44) * (1 - channel)
    assert abs(np.mean([p.inspect for p in drawn]) - expected) < 4 * np.sqrt(0.25 / len(drawn))
    nowhere = path_stream(RiskProfile(), [], np.random.default_rng(1), _never, review_stage=True)
    assert {nowhere() for _ in range(100)} == {STRAIGHT}
