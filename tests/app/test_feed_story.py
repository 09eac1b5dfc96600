"""The feed and the webhooks tell the same story (docs/api.md, "The receipts", "Webhooks").

Four parties send one set through the API, each with a webhook on a real HTTP receiver on
loopback; the clearance engine clears it and the delivery worker pushes everything due. Each
party's webhook must then have received exactly the receipts its ``GET /api/v1/receipts`` shows
(those recorded before it joined the set included), every document's receipts reach every
party, and ``seq`` numbers the declaration's receipts once each. And the message tells its own
regime: ``?regime=`` never overrides its tradeMode or orderType.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
from lxml import etree
from service_support import Party, PartyFactory, loopback_server, push_everything
from submission_helpers import XML, Parties, document, kind, register, sample, send, set_field
from test_engine_support import instant_engine

from app.db.engine import Database
from declarations.messages import Direction, Kind, Regime


class Receivers:
    """One loopback HTTP server; each party's webhook posts to its own path."""

    def __init__(self) -> None:
        self.bodies: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.lock = threading.Lock()
        self.base = ""

    def url(self, party: Party) -> str:
        return f"{self.base}/hooks/{party.code}"

    def receipt_ids(self, party: Party) -> list[int]:
        return sorted(body["receipt"]["id"] for body in self.bodies[party.code])


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    state = Receivers()

    def answer(request: BaseHTTPRequestHandler) -> None:
        body = json.loads(request.rfile.read(int(request.headers["Content-Length"])))
        with state.lock:
            state.bodies[request.path.rsplit("/", 1)[-1]].append(body)
        request.send_response(204)
        request.end_headers()

    with loopback_server(answer) as state.base:
        yield state


def _everyone(parties: Parties) -> list[Party]:
    return [parties.seller, parties.payer, parties.carrier, parties.agent]


async def _subscribe(client: httpx.AsyncClient, party: Party, url: str) -> None:
    response = await client.post("/api/v1/webhooks", json={"url": url}, headers=party.headers)
    assert response.status_code == 201, response.text


async def _feed(client: httpx.AsyncClient, party: Party) -> list[dict[str, Any]]:
    """The party's whole feed, paged with the cursor as a client would."""
    receipts: list[dict[str, Any]] = []
    cursor = 0
    while True:
        response = await client.get(
            "/api/v1/receipts", params={"after": cursor, "limit": 7}, headers=party.headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        if not page["receipts"]:
            return receipts
        receipts += page["receipts"]
        cursor = page["cursor"]


async def _send(
    client: httpx.AsyncClient, parties: Parties, roots: list[etree._Element]
) -> list[dict[str, Any]]:
    """Each document by its own party; every one accepted (201)."""
    answers = []
    for root in roots:
        response = await send(client, parties.sender(kind(root)), root)
        assert response.status_code == 201, response.text
        answers.append(response.json())
    return answers


def _waybill_first(roots: list[etree._Element]) -> list[etree._Element]:
    """The waybill before anything it could join: it waits for its set (an orphan)."""
    return sorted(roots, key=lambda root: kind(root) is not Kind.WAYBILL)


@pytest.mark.parametrize("arrival", ["as listed", "waybill first"])
@pytest.mark.parametrize("direction", [Direction.IMPORT, Direction.EXPORT])
async def test_each_partys_webhook_pushes_exactly_its_feed(
    *,
    client: httpx.AsyncClient,
    database: Database,
    make_party: PartyFactory,
    receivers: Receivers,
    direction: Direction,
    arrival: str,
) -> None:
    sample_set = sample(Regime.DIRECT, direction)
    parties = register(make_party, sample_set)
    for party in _everyone(parties):
        await _subscribe(client, party, receivers.url(party))
    roots = list(sample_set.documents.values())
    answers = await _send(
        client, parties, roots if arrival == "as listed" else _waybill_first(roots)
    )
    instant_engine(database).run_until_idle()
    push_everything(database)

    [declaration_id] = {a["declaration"]["id"] for a in answers if a["declaration"]}
    # The declaration's history numbers its receipts once each, from 1 without gaps.
    page = await client.get(f"/api/v1/declarations/{declaration_id}", headers=parties.agent.headers)
    assert page.status_code == 200, page.text
    seqs = sorted(e["seq"] for e in page.json()["history"] if e["event"] == "receipt")
    assert seqs == list(range(1, len(seqs) + 1))

    documents = {a["document"]["id"] for a in answers}
    feeds = {party.code: await _feed(client, party) for party in _everyone(parties)}
    for party in _everyone(parties):
        assert receivers.receipt_ids(party) == [r["id"] for r in feeds[party.code]], party
    # An export's master waybill list and departure record (CEB607, CEB509), which danchuang
    # sent as the set's carrier, are the carrier's own messages: their receipts reach the
    # carrier alone, as the records of the site reach the site alone; no part of the set's story.
    carriers = ("CEB608", "CEB510")
    own = {code: [r for r in feed if r["message_code"] in carriers] for code, feed in feeds.items()}
    expected = 6 if direction is Direction.EXPORT else 0  # 2 → 3 → 120 and 2 → 3 → 399
    assert {code: len(found) for code, found in own.items()} == {
        party.code: expected if party is parties.carrier else 0 for party in _everyone(parties)
    }
    feeds = {
        code: [r for r in feed if r["message_code"] not in carriers] for code, feed in feeds.items()
    }
    for party in _everyone(parties):
        feed = feeds[party.code]
        # Every document's receipts reach every party, the waybill's as much as the order's.
        # ... and so do those of the messages danchuang sent playing the site and the carrier
        # (an import's entry record and delivery record, answered with CEB712 and CEB514).
        others = {r["message_code"] for r in feed if r["document_id"] not in documents | {None}}
        assert others <= {"CEB712", "CEB514"}, party
        assert {r["document_id"] for r in feed} >= documents, party
        assert {r["declaration_id"] for r in feed} == {declaration_id}, party
    # One story for all: every party sees the same receipts of the set ...
    assert len({tuple(r["id"] for r in feed) for feed in feeds.values()}) == 1
    # ... the declaration's whole history ...
    feed = feeds[parties.agent.code]
    assert sorted(r["seq"] for r in feed) == seqs
    # ... the clearance engine's receipts (for the declaration, no document) included.
    assert any(r["document_id"] is None for r in feed)


async def test_a_webhook_pushes_what_reaches_the_feed_after_its_registration(
    client: httpx.AsyncClient,
    database: Database,
    make_party: PartyFactory,
    receivers: Receivers,
) -> None:
    """The payer subscribes after the order was answered, then joins the set: the order's
    receipts reach its feed when it joins, so they are pushed. The seller subscribes at the
    same moment, but was in the set already: the order's receipts were in its feed before."""
    sample_set = sample(Regime.DIRECT, Direction.IMPORT)
    parties = register(make_party, sample_set)
    order, *rest = sample_set.documents.values()
    assert kind(order) is Kind.ORDER
    [answered] = await _send(client, parties, [order])
    before = {r["id"] for r in answered["receipts"]}
    for party in (parties.seller, parties.payer):
        await _subscribe(client, party, receivers.url(party))
    await _send(client, parties, rest)
    push_everything(database)

    payer_feed = [r["id"] for r in await _feed(client, parties.payer)]
    seller_feed = [r["id"] for r in await _feed(client, parties.seller)]
    assert before < set(payer_feed)
    assert receivers.receipt_ids(parties.payer) == payer_feed
    assert receivers.receipt_ids(parties.seller) == [i for i in seller_feed if i not in before]


async def test_the_regime_argument_never_overrides_the_message(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT)
    parties = register(make_party, sample_set)
    inventory = document(sample_set, Kind.INVENTORY)
    assert inventory.findtext(".//{*}tradeMode") == "9610"

    refused = await send(client, parties.agent, inventory, regime="1210")
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "request.regime_conflict"
    for text in (error["message_en"], error["message_zh"]):
        assert "9610" in text and "1210" in text
    # Nothing was stored: the same message with a matching argument is a new, accepted one.
    accepted = await send(client, parties.agent, inventory, regime="9610")
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["document"]["regime"] == "9610"


async def test_an_export_order_of_type_e_may_be_declared_under_1210(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    """orderType E is B2C export, which 9610 and 1210 share (CEB spec 202205 §2.1.4 p. 3):
    ``?regime=1210`` does not contradict it; B (9710) does."""
    sample_set = sample(Regime.DIRECT, Direction.EXPORT)
    parties = register(make_party, sample_set)
    order = document(sample_set, Kind.ORDER)
    assert order.findtext(".//{*}orderType") == "E"
    accepted = await send(client, parties.seller, order, regime="1210")
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["document"]["regime"] == "1210"

    set_field(order, "orderType", "B")
    refused = await send(client, parties.seller, order, regime="1210")
    assert refused.status_code == 422, refused.text
    assert "9710" in refused.json()["error"]["message_en"]


async def test_a_format_check_receipt_reaches_the_sender_by_webhook_as_in_its_feed(
    client: httpx.AsyncClient, database: Database, make_party: PartyFactory, receivers: Receivers
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=44)
    parties = register(make_party, sample_set)
    await _subscribe(client, parties.seller, receivers.url(parties.seller))
    order = document(sample_set, Kind.ORDER)
    set_field(order, "goodsValue", "abc")  # fails the schema: a CEB900, no business receipt
    answer = (await send(client, parties.seller, order)).json()
    broken = await client.post(
        "/api/v1/documents", content=b"<x", headers={**parties.seller.headers, **XML}
    )
    assert broken.status_code == 422
    push_everything(database)
    feed = await _feed(client, parties.seller)
    assert [(r["message_code"], r["return_status"]) for r in feed] == [
        ("CEB900", -2),
        ("CEB900", -1),
    ]
    assert receivers.receipt_ids(parties.seller) == [r["id"] for r in feed]
    assert feed[0]["document_id"] == answer["document"]["id"]
