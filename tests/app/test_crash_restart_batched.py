"""The crash test with batched messages: the real server killed with SIGKILL while parties are
still sending batches and declarations are clearing, restarted, the interrupted batch resent.

Thirty sets with the same four parties, sent in three chunks of ten: per chunk each party sends
one message holding its ten records (orders, payments, waybills, then the 清单s, several with
a forced outcome). The server is killed while chunk 3 is being sent; after the restart the
client resends, whole, the last message it saw answered (it must come back as a repeat) and the
one whose answer it lost (one transaction per message: either every record of it was stored,
and it is answered as repeats, or none was, and it is taken whole), then the rest. Afterwards
every record is stored once, every declaration is final and decided once, every receipt is
stored once and reached its webhook — at least once, exactly once after deduplication by
Idempotency-Key (docs/live-clearance.md "Batched messages" and "Crash safety").
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from batch_support import batch_of, party_sets, record_guids
from crash_support import (
    ENGINE_RECEIPTS,
    FORCED_TAILS,
    SENDER_ROLE,
    assert_decided_once,
    assert_delivered_once,
    assert_recovered,
    count,
    receipt_paths,
)
from http_story import wait_for
from live_server import Server, register_over_http
from lxml import etree
from service_support import Receiver, recording_receiver
from sqlalchemy import select
from submission_helpers import C, document, xml

from app import states
from app.db.engine import Database
from app.db.models import Declaration, Delivery, DocumentRow, Receipt
from declarations.messages import Kind
from declarations.samples import SampleSet

CHUNKS, PER_CHUNK = 3, 10
KINDS = (Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY)  # a set's order: 清单 last
# The n-th set of every chunk carries the n-th note (the rest clear unforced).
NOTES = [*FORCED_TAILS, "DANCHUANG:REVIEW"]
KILLED_AT = CHUNKS * len(KINDS) - len(KINDS) + 1  # chunk 3's second message is on its way


@dataclass(frozen=True)
class Message:
    """One batched message: who sends it, its bytes and its records' guids."""

    kind: Kind
    body: bytes
    guids: list[str]


def _forced(sample_set: SampleSet, note: str) -> None:
    """Put ``note`` into the set's 清单 (the last field of its head), forcing its outcome."""
    head = document(sample_set, Kind.INVENTORY).find(f"{C}Inventory/{C}InventoryHead")
    assert head is not None
    etree.SubElement(head, f"{C}note").text = note


def _messages(sets: list[SampleSet]) -> list[Message]:
    """Chunk by chunk, each party's one message of the chunk's records, in a set's order."""
    messages = []
    for start in range(0, len(sets), PER_CHUNK):
        chunk = sets[start : start + PER_CHUNK]
        for kind in KINDS:
            batch = batch_of(chunk, kind)
            messages.append(Message(kind, xml(batch), record_guids(batch)))
    return messages


@dataclass
class Client:
    """The parties' HTTP client: a key per party, each answer kept by message number."""

    base_url: str
    keys: dict[Kind, str]
    answers: dict[int, httpx.Response] = field(default_factory=dict)
    started: dict[int, threading.Event] = field(default_factory=dict)
    lost: int | None = None  # the message whose answer never came

    def send(self, message: Message) -> httpx.Response:
        with httpx.Client(base_url=self.base_url, timeout=60) as http:
            return http.post(
                "/api/v1/documents",
                content=message.body,
                headers={
                    "Authorization": f"Bearer {self.keys[message.kind]}",
                    "Content-Type": "application/xml",
                },
            )

    def send_until_lost(self, messages: list[Message], first: int) -> None:
        """Send ``messages[first:]`` in order until one's answer is lost (the server died)."""
        for number in range(first, len(messages)):
            self.started.setdefault(number, threading.Event()).set()
            try:
                self.answers[number] = self.send(messages[number])
            except httpx.TransportError:
                self.lost = number
                return


def _taken_whole(answer: httpx.Response, message: Message) -> list[int]:
    """A message taken as new: every record accepted; its records' document ids."""
    assert answer.status_code == 201, answer.text
    records = answer.json()["records"]
    assert [r["guid"] for r in records] == message.guids
    assert not any(r["repeat"] for r in records), answer.text
    return [r["document"]["id"] for r in records]


def _register(server: Server, receiver: Receiver, sample_set: SampleSet) -> dict[Kind, str]:
    deal = sample_set.deal
    codes = {Kind.ORDER: deal.seller.code, Kind.PAYMENT: deal.payer_company.code,
             Kind.WAYBILL: deal.carrier.code, Kind.INVENTORY: deal.agent.code}  # fmt: skip
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        keys = {kind: register_over_http(http, codes[kind], SENDER_ROLE[kind]) for kind in KINDS}
        hook = http.post(
            "/api/v1/webhooks",
            json={"url": f"{receiver.url}/{codes[Kind.INVENTORY]}"},
            headers={"Authorization": f"Bearer {keys[Kind.INVENTORY]}"},
        )
        assert hook.status_code == 201, hook.text
    return keys


def _crash_and_resend(
    server: Server, database: Database, messages: list[Message], keys: dict[Kind, str]
) -> int:
    """Send, kill mid-stream, restart, resend; how many declarations were in flight at the kill."""
    client = Client(server.base_url, keys)
    for number in range(KILLED_AT - 1):  # chunks 1 and 2, and chunk 3's orders
        _taken_whole(client.send(messages[number]), messages[number])
    engine_codes = Receipt.message_code.in_(ENGINE_RECEIPTS) & (Receipt.return_status > 3)
    clearing = Declaration.state == states.CLEARING
    wait_for(
        lambda: count(database, engine_codes) >= 3 and count(database, clearing) >= 1,
        "the engine's first receipts",
        60,
    )
    # The rest of chunk 3 from another thread; killed once its next message is on its way.
    sending = threading.Thread(target=client.send_until_lost, args=(messages, KILLED_AT - 1))
    client.started[KILLED_AT] = threading.Event()
    sending.start()
    assert client.started[KILLED_AT].wait(60), "chunk 3 was not sent"
    time.sleep(0.05)
    server.kill()
    sending.join(60)
    in_flight = count(database, clearing)
    final = count(database, Declaration.state.in_(states.FINAL_STATES))
    declared = count(database, Declaration.id.isnot(None))
    assert client.lost is not None, "every message was answered before the kill"
    assert in_flight, "nothing was in flight at the kill"
    assert final < declared, "all finished before the kill: slow the clock down"
    print(f"killed while message {client.lost} was sent: {in_flight} in flight, {final} final")

    server.start()
    # The last message answered, resent (its answer could have been lost too): repeats only.
    seen = max(client.answers)
    again = client.send(messages[seen])
    assert again.status_code == 200, again.text
    assert all(r["repeat"] for r in again.json()["records"])
    first = [r["document"]["id"] for r in client.answers[seen].json()["records"]]
    assert [r["document"]["id"] for r in again.json()["records"]] == first
    # The one whose answer was lost: all repeats (it was stored) or taken whole (it was not).
    lost = client.send(messages[client.lost])
    repeats = {r["repeat"] for r in lost.json()["records"]}
    assert repeats in ({True}, {False}), lost.text
    assert lost.status_code == (200 if repeats == {True} else 201), lost.text
    print(f"message {client.lost} resent: {'repeats' if True in repeats else 'taken whole'}")
    for number in range(client.lost + 1, len(messages)):
        _taken_whole(client.send(messages[number]), messages[number])
    return in_flight


@pytest.mark.slow
def test_sigkill_mid_stream_of_batches_loses_and_repeats_nothing(
    db_url: str, tmp_path: Path
) -> None:
    sets = party_sets(seed=4343, count=CHUNKS * PER_CHUNK)
    notes = {s.deal.order_no: NOTES[i % PER_CHUNK] for i, s in enumerate(sets)
             if i % PER_CHUNK < len(NOTES)}  # fmt: skip
    for sample_set in sets:
        if sample_set.deal.order_no in notes:
            _forced(sample_set, notes[sample_set.deal.order_no])
    messages = _messages(sets)
    server = Server(db_url, tmp_path)
    database = Database.from_url(db_url)
    with recording_receiver() as receiver:
        try:
            server.start()
            keys = _register(server, receiver, sets[0])
            in_flight = _crash_and_resend(server, database, messages, keys)
            final = Declaration.state.in_(states.FINAL_STATES)
            wait_for(lambda: count(database, final) == len(sets), "every set to finish", 120)
            wait_for(
                lambda: count(database, Delivery.delivered_at.is_(None)) == 0, "deliveries", 60
            )
        finally:
            server.stop()
        queued = assert_delivered_once(database, receiver)
    assert_recovered(tmp_path / "server-2.log", in_flight, server.logs())

    with database.read() as session:
        declarations = dict(session.execute(select(Declaration.order_no, Declaration.id)).all())
        sent = [guid for message in messages for guid in message.guids]
        documents = Counter(
            session.scalars(select(DocumentRow.guid).where(DocumentRow.guid.in_(sent)))
        )
        receipts = Counter(
            session.execute(
                select(
                    Receipt.document_id,
                    Receipt.declaration_id,
                    Receipt.message_code,
                    Receipt.return_status,
                )
            ).all()
        )
    # Every record stored once, each set one declaration, and nothing else stored.
    assert sorted(documents) == sorted(sent)
    assert set(documents.values()) == {1}
    assert sorted(declarations) == sorted(s.deal.order_no for s in sets)
    assert count(database, Declaration.id.isnot(None)) == len(sets)
    # Every receipt stored once.
    assert [key for key, times in receipts.items() if times > 1] == []
    # Every declaration final and decided once, on its forced branch.
    paths = receipt_paths(database, declarations.values())
    database.dispose()
    for order_no, ident in declarations.items():
        statuses = [status for _id, status in paths[ident]]
        assert_decided_once(statuses, order_no)
        note = notes.get(order_no, "")
        if note in FORCED_TAILS:
            assert statuses[-len(FORCED_TAILS[note]) :] == FORCED_TAILS[note], (note, statuses)
        elif note:  # REVIEW
            assert 300 in statuses and statuses[-1] == 899, statuses
    # The engine's receipts reached the declarant's webhook.
    assert {ident for path in paths.values() for ident, _status in path} <= queued
