"""Forced outcomes: the grammar, every branch through the engine, the note marker, the API."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update
from test_engine_support import instant_engine, make_ready, state_of, statuses

from app import states
from app.db.engine import Database
from app.db.models import Declaration, DocumentRow, Role
from app.engine.outcomes import OutcomeError, normalise, parse_outcome
from declarations.codes import ReturnStatus
from simulation.routing import REJECT_WITHOUT_CODE, Forced

BRANCHES = [
    # outcome, receipt statuses, final state
    ("RELEASE", [120, 399, 800, 899], states.CLEARED),
    ("INSPECT", [120, 399, 500, 800, 899], states.CLEARED),
    ("REVIEW", [120, 300, 399, 800, 899], states.CLEARED),
    ("REVIEW+INSPECT", [120, 300, 399, 500, 800, 899], states.CLEARED),
    ("REJECT", [100], states.REJECTED),
    ("REJECT=-621005", [-621005], states.REJECTED),
    ("DETAIN", [120, 399, 500, 599], states.DETAINED),
    ("DETAIN=501", [120, 399, 500, 501], states.DETAINED),
    ("DETAIN=502", [120, 399, 500, 502], states.DETAINED),
    ("DETAIN=503", [120, 399, 500, 503], states.DETAINED),
    ("RETURN", [120, 399, 500, 700], states.RETURNED),
]


@pytest.mark.parametrize(("outcome", "expected", "final"), BRANCHES)
def test_each_forced_branch_gives_its_receipts(
    database: Database, outcome: str, expected: list[int], final: str
) -> None:
    # Low credit: without forcing, this declaration could take any branch.
    ident = make_ready(database, "9610", "import", forced=outcome, credit_class="low_credit")
    instant_engine(database).run_until_idle()
    assert statuses(database, ident) == expected
    assert state_of(database, ident) == (final, expected[-1])


@pytest.mark.parametrize(("regime", "direction"), [("9610", "export"), ("1210", "import")])
def test_a_marker_in_the_note_forces_the_outcome(
    database: Database, regime: str, direction: str
) -> None:
    inspected = make_ready(database, regime, direction, note="请查验 DANCHUANG:INSPECT")
    rejected = make_ready(database, regime, direction, note="danchuang:reject=-621018")
    instant_engine(database).run_until_idle()
    assert statuses(database, inspected) == [120, 399, 500, 800, 899]
    assert statuses(database, rejected) == [-621018]


def test_the_api_outcome_wins_over_the_note(database: Database) -> None:
    ident = make_ready(database, "9610", "import", note="DANCHUANG:INSPECT", forced="RELEASE")
    instant_engine(database).run_until_idle()
    assert statuses(database, ident) == [120, 399, 800, 899]


def test_a_bad_marker_means_no_forcing(database: Database) -> None:
    ident = make_ready(database, "9610", "import", note="DANCHUANG:EXPLODE", credit_class="aeo")
    instant_engine(database).run_until_idle()
    assert state_of(database, ident)[0] in states.FINAL_STATES


def test_forced_rejection_and_return_give_the_quota_back(database: Database) -> None:
    from app.db.models import QuotaEntry  # noqa: PLC0415

    idents = [
        make_ready(database, "9610", "import", forced=outcome)
        for outcome in ("REJECT=-621005", "RETURN", "RELEASE")
    ]
    with database.write() as session:
        for ident in idents:
            session.add(
                QuotaEntry(buyer_id_number="X", year=2026, amount_fen=100, declaration_id=ident)
            )
    instant_engine(database).run_until_idle()
    with database.read() as session:
        left = [q.declaration_id for q in session.query(QuotaEntry).all()]
    assert left == [idents[2]]  # only the released one still counts


@pytest.mark.parametrize(
    ("text", "forced"),
    [
        ("INSPECT", Forced(inspection=True)),
        ("DANCHUANG:review + inspect", Forced(review=True, inspection=True)),
        ("REJECT=-621005", Forced(reject_code="-621005")),
        ("REJECT", Forced(reject_code=REJECT_WITHOUT_CODE)),
        ("DETAIN=502", Forced(inspection=True, detention=ReturnStatus(502))),
        ("RETURN", Forced(inspection=True, return_goods=True)),
        ("RELEASE", Forced(review=False, inspection=False)),
        ("REVIEW+RELEASE", Forced(review=True, inspection=False)),
    ],
)
def test_outcome_grammar(text: str, forced: Forced) -> None:
    assert parse_outcome(text) == forced


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("EXPLODE", "unknown outcome"),
        ("REJECT=621005", "negative business code"),
        ("DETAIN=504", "501, 502, 503 or 599"),
        ("INSPECT=1", "takes no code"),
        ("REJECT+RETURN", "contradictory"),
        ("RELEASE+INSPECT", "RELEASE means no inspection"),
        ("INSPECT+INSPECT", "twice"),
    ],
)
def test_outcome_grammar_errors_say_why(text: str, problem: str) -> None:
    with pytest.raises(OutcomeError, match=problem):
        normalise(text)


def test_normalise_strips_the_prefix_and_spaces() -> None:
    assert normalise(" danchuang:Review + Detain=501 ") == "REVIEW+DETAIN=501"


# --- the API --------------------------------------------------------------------------------


def _sent_by(database: Database, declaration_id: int, enterprise_id: int) -> None:
    with database.write() as session:
        session.execute(
            update(DocumentRow)
            .where(DocumentRow.declaration_id == declaration_id)
            .values(sender_id=enterprise_id)
        )


async def test_a_party_forces_the_outcome_before_clearance(
    client: httpx.AsyncClient, database: Database, make_party
) -> None:
    declarant = make_party("3301960001", Role.AGENT)
    stranger = make_party("3301960002", Role.AGENT)
    ident = make_ready(database, "9610", "import", state="incomplete")
    _sent_by(database, ident, declarant.id)
    url = f"/api/v1/declarations/{ident}/outcome"

    answer = await client.post(
        url, json={"outcome": "danchuang:detain=502"}, headers=declarant.headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "declaration_id": ident,
        "outcome": "DETAIN=502",
        "state": "incomplete",
    }

    bad = await client.post(url, json={"outcome": "EXPLODE"}, headers=declarant.headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "outcome.invalid"
    assert "无法识别" in bad.json()["error"]["message_zh"]

    other = await client.post(url, json={"outcome": "INSPECT"}, headers=stranger.headers)
    assert other.status_code == 404
    missing = await client.post(
        "/api/v1/declarations/999999/outcome",
        json={"outcome": "INSPECT"},
        headers=declarant.headers,
    )
    assert missing.status_code == 404
    anonymous = await client.post(url, json={"outcome": "INSPECT"})
    assert anonymous.status_code == 401

    # The set completes; the engine takes it with the forced outcome.
    with database.write() as session:
        session.execute(
            update(Declaration).where(Declaration.id == ident).values(state=states.CLEARANCE_READY)
        )
    instant_engine(database).run_until_idle()
    assert statuses(database, ident) == [120, 399, 500, 502]

    late = await client.post(url, json={"outcome": "RELEASE"}, headers=declarant.headers)
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "outcome.too_late"


async def test_null_clears_a_forced_outcome(
    client: httpx.AsyncClient, database: Database, make_party
) -> None:
    declarant = make_party("3301960003", Role.AGENT)
    ident = make_ready(database, "9610", "import", state="incomplete", forced="REJECT")
    _sent_by(database, ident, declarant.id)
    answer = await client.post(
        f"/api/v1/declarations/{ident}/outcome", json={"outcome": None}, headers=declarant.headers
    )
    assert answer.status_code == 200
    with database.read() as session:
        row = session.get(Declaration, ident)
        assert row is not None and row.forced_outcome is None


def test_unforced_outcomes_follow_the_risk_profile() -> None:
    """Drawn paths have the profile's shares (fixed seed, 3-sigma tolerances)."""
    import numpy as np  # noqa: PLC0415

    from app.engine.outcomes import draw_outcome  # noqa: PLC0415
    from simulation.scenario import RiskProfile  # noqa: PLC0415

    profile = RiskProfile(
        reject=0.05, review=0.3, inspect_direct=0.2, inspect_after_review=0.5, detain=0.1,
        return_goods=0.05, detention_codes={501: 0.5, 599: 0.5},
    )  # fmt: skip
    rng = np.random.default_rng(11)
    n = 40_000
    draws = [draw_outcome(profile, rng) for _ in range(n)]

    def share(predicate: object) -> float:
        return sum(1 for d in draws if predicate(d)) / n  # type: ignore[operator]

    def close(observed: float, p: float) -> bool:
        return abs(observed - p) < 3 * (p * (1 - p) / n) ** 0.5 + 1e-9

    assert close(share(lambda d: d.reject_code is not None), 0.05)
    assert close(share(lambda d: d.review), 0.3)
    inspected = 0.3 * 0.5 + 0.7 * 0.2
    assert close(share(lambda d: d.inspection), inspected)
    assert close(share(lambda d: d.detention is not None), inspected * 0.1)
    assert close(share(lambda d: d.return_goods), inspected * 0.05)
    assert close(share(lambda d: d.detention == ReturnStatus(501)), inspected * 0.05)
