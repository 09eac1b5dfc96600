"""Per-party submission: each party sends its own document, the set reconciles, the 清单 waits
for the clearance engine (``clearance_ready``); refusals name their rule or spec code."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from service_support import PartyFactory
from sqlalchemy import select
from submission_helpers import (
    REGIMES,
    document,
    kind,
    register,
    sample,
    send,
    send_set,
    set_field,
    statuses,
    xml,
)

from app.accounts import Principal
from app.db.engine import Database
from app.db.models import Declaration
from app.services.submission import submit_document
from declarations.messages import Direction, Kind, Regime


@pytest.mark.parametrize(("regime", "direction"), REGIMES, ids=str)
async def test_each_party_submits_and_the_set_becomes_clearance_ready(
    client: httpx.AsyncClient, make_party: PartyFactory, regime: Regime, direction: Direction
) -> None:
    sample_set = sample(regime, direction)
    parties = register(make_party, sample_set)
    answers = await send_set(client, parties, sample_set)

    *others, inventory = answers
    for answer in others:  # order, payment (or receipt of payment), waybill
        assert statuses(answer) == [2, 3, 120], answer["receipts"]
        assert answer["report"]["valid"] is True
    # The 清单 is sent to customs (2 → 3); the clearance engine records 120 onwards.
    assert statuses(inventory) == [2, 3]
    declaration = inventory["declaration"]
    assert declaration["state"] == "clearance_ready"
    assert declaration["regime"] == regime.value
    assert declaration["direction"] == direction.value
    assert inventory["document"]["invt_no"]

    # Every document, the export waybill too (linked through the 清单), is in the set.
    response = await client.get(
        f"/api/v1/declarations/{declaration['id']}", headers=parties.agent.headers
    )
    assert response.status_code == 200
    body = response.json()
    documents = [e for e in body["history"] if e["event"] == "document"]
    assert len(documents) == len(sample_set.documents)
    receipts = [e for e in body["history"] if e["event"] == "receipt"]
    assert len(receipts) == 3 * (len(sample_set.documents) - 1) + 2
    # A document comes before its receipts; receipt codes follow the message family.
    assert body["history"][0]["event"] == "document"
    expected = {"CEB312", "CEB412", "CEB512", "CEB622"} if direction is Direction.IMPORT else {
        "CEB304", "CEB404", "CEB506", "CEB604"}  # fmt: skip
    assert {r["message_code"] for r in receipts} <= expected


async def test_the_list_may_come_first_and_waits_for_the_rest(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.EXPORT, seed=3)
    parties = register(make_party, sample_set)
    roots = list(sample_set.documents.values())
    inventory = document(sample_set, Kind.INVENTORY)
    first = (await send(client, parties.agent, inventory)).json()
    assert statuses(first) == [2, 3]
    assert first["declaration"]["state"] == "incomplete"
    for root in roots[:-1]:
        response = await send(client, parties.sender(kind(root)), root)
        assert response.status_code == 201
    listed = await client.get(
        "/api/v1/declarations", params={"state": "clearance_ready"}, headers=parties.carrier.headers
    )
    assert [d["id"] for d in listed.json()["declarations"]] == [first["declaration"]["id"]]


async def test_a_mismatched_consignee_refuses_the_list_naming_the_rule(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=5)
    parties = register(make_party, sample_set)
    set_field(document(sample_set, Kind.WAYBILL), "consignee", "张冒名")
    *others, inventory = await send_set(client, parties, sample_set)
    assert all(statuses(a) == [2, 3, 120] for a in others)  # each is valid on its own
    assert statuses(inventory) == [2, 3, 100]
    info = inventory["receipts"][-1]["return_info"]
    assert "reconcile.consignee" in info and "张冒名" in info
    assert inventory["declaration"]["state"] == "rejected"


async def test_a_mismatched_amount_refuses_the_list(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sample_set = sample(Regime.BONDED, Direction.IMPORT, seed=6)
    parties = register(make_party, sample_set)
    payment = document(sample_set, Kind.PAYMENT)
    set_field(payment, "amountPaid", "1.00")
    *_, inventory = await send_set(client, parties, sample_set)
    assert statuses(inventory) == [2, 3, 100]
    assert "reconcile.payment-amount" in inventory["receipts"][-1]["return_info"]


async def test_an_invalid_document_is_stored_and_refused_with_its_findings(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=7)
    parties = register(make_party, sample_set)
    order = document(sample_set, Kind.ORDER)
    set_field(order, "goodsValue", "abc")
    response = await send(client, parties.seller, order)
    assert response.status_code == 201
    answer = response.json()
    # a schema failure: answered by the format check (CEB900), not by 2 -> 3 -> 100
    assert [(r["message_code"], r["return_status"]) for r in answer["receipts"]] == [("CEB900", -2)]
    assert answer["report"]["valid"] is False
    # Chinese first, with the rule id
    info = answer["receipts"][-1]["return_info"]
    assert info.startswith("[")
    raw = await client.get(
        f"/api/v1/documents/{answer['document']['id']}/xml", headers=parties.seller.headers
    )
    assert raw.content == xml(order)


def test_parties_submitting_at_the_same_moment_complete_their_sets(
    database: Database, make_party: PartyFactory
) -> None:
    """Four parties send their documents of several sets concurrently (threads, as the
    threadpool runs the routes): every set still ends clearance-ready, none stuck waiting."""
    samples = [sample(Regime.DIRECT, Direction.EXPORT, seed=s) for s in range(81, 85)]
    work = []
    for sample_set in samples:
        parties = register(make_party, sample_set)
        for root in sample_set.documents.values():
            sender = parties.sender(kind(root))
            principal = Principal(sender.id, sender.code, "t", _roles(kind(root)), "aeo")
            work.append((principal, xml(root)))
    random.Random(8).shuffle(work)
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda w: submit_document(database, w[0], w[1]), work))
    assert all(o.http_status == 201 for o in outcomes)
    with database.read() as session:
        states = session.scalars(select(Declaration.state)).all()
    assert sorted(states) == ["clearance_ready"] * len(samples)


def _roles(what: Kind) -> tuple[str, ...]:
    return {Kind.ORDER: ("ebc",), Kind.PAYMENT: ("pay",), Kind.WAYBILL: ("logistics",),
            Kind.INVENTORY: ("agent",)}[what]  # fmt: skip
