"""A group of records taken together counts its sets' quota and refiles its adopted orphans'
receipts once for the group (``app.services.set_quota.counting``,
``app.services.set_parties.read_waiting``), with what one record at a time would leave: two
清单 of one buyer are counted in turn, a changed 清单 replaces its own entry, and each adopted
waybill's receipts are numbered after its set's own."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from batch_support import SET_KINDS, batch, batch_of, party_sets
from lxml import etree
from service_support import PartyFactory
from sqlalchemy import event, func, select
from submission_helpers import Parties, document, new_guid, register, send, set_field, xml

from app.accounts import Principal
from app.db.engine import Database
from app.db.models import (
    Declaration,
    Delivery,
    DocumentRow,
    Enterprise,
    QuotaEntry,
    Receipt,
    Webhook,
)
from app.quota import LedgerQuota
from app.services import batches
from declarations import Kind, Purchase, check
from declarations.samples import SampleSet

LIMIT = Decimal(26_000)  # a buyer's year (财关税〔2018〕49号)

# A set as it ends: its state, its receipts ((seq, receipt code, status) in seq order), and its
# ledger entries as fen against its 清单's purchase.
SetView = tuple[str, list[tuple[int, str, int]], list[int]]


def _purchase(sample_set: SampleSet) -> Purchase:
    purchase = check(xml(document(sample_set, Kind.INVENTORY))).facts().purchase
    assert purchase is not None
    return purchase


def _one_buyer(sets: Sequence[SampleSet]) -> Purchase:
    """The buyer of the first set buys every one of ``sets``; returns the first's purchase."""
    buyer = sets[0].deal.buyer
    for other in sets[1:]:
        for kind, prefix in (
            (Kind.ORDER, "buyer"),
            (Kind.PAYMENT, "payer"),
            (Kind.INVENTORY, "buyer"),
        ):
            set_field(document(other, kind), f"{prefix}Name", buyer.name)
            set_field(document(other, kind), f"{prefix}IdNumber", buyer.id_number)
    return _purchase(sets[0])


def _spent(database: Database, purchase: Purchase, amount: Decimal) -> None:
    """The buyer has spent ``amount`` this year before these tests' sets."""
    with database.write() as session:
        LedgerQuota.add(session, purchase.buyer_id_number, amount, date(purchase.year, 1, 2))


def _views(database: Database, sets: Sequence[SampleSet]) -> list[SetView]:
    views = []
    with database.read() as session:
        for sample_set in sets:
            order_no = document(sample_set, Kind.ORDER).findtext(".//{*}orderNo")
            declaration = session.scalars(
                select(Declaration).where(Declaration.order_no == order_no)
            ).one()
            receipts = session.execute(
                select(Receipt.seq, Receipt.message_code, Receipt.return_status)
                .where(Receipt.declaration_id == declaration.id)
                .order_by(Receipt.seq)
            ).all()
            fen = int(_purchase(sample_set).amount * 100)
            entries = session.scalars(
                select(QuotaEntry.amount_fen).where(QuotaEntry.declaration_id == declaration.id)
            ).all()
            numbered = [(seq, code, status) for seq, code, status in receipts]
            views.append((declaration.state, numbered, [e - fen for e in entries]))
    return views


async def _in_batches(
    client: httpx.AsyncClient, parties: Parties, sets: Sequence[SampleSet]
) -> None:
    for kind in SET_KINDS:
        response = await send(client, parties.sender(kind), batch_of(sets, kind))
        assert response.status_code == 201, response.text


async def _one_by_one(
    client: httpx.AsyncClient, parties: Parties, sets: Sequence[SampleSet]
) -> None:
    for kind in SET_KINDS:
        for one in sets:
            response = await send(client, parties.sender(kind), document(one, kind))
            assert response.status_code == 201, response.text


async def test_a_batch_leaves_what_one_record_at_a_time_leaves(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    """Two buyers each buy two sets that fill the year's limit exactly: one buyer's in batches
    (the 清单 together), the other's one record a message. The waybills wait for their 清单
    (orphans) and are adopted. Both end alike: every set cleared for customs and counted once,
    its receipts numbered in turn, its waybill's after its order's and payment's."""
    sets = party_sets(seed=641, count=4)
    parties = register(make_party, sets[0])
    batched, alone = sets[:2], sets[2:]
    for pair in (batched, alone):
        first = _one_buyer(pair)
        _spent(database, first, LIMIT - first.amount - _purchase(pair[1]).amount)
    await _in_batches(client, parties, batched)
    await _one_by_one(client, parties, alone)
    in_batches, one_by_one = _views(database, batched), _views(database, alone)
    assert in_batches == one_by_one
    for state, receipts, entries in in_batches:
        assert (state, entries) == ("clearance_ready", [0])  # its purchase, once
        assert [seq for seq, _, _ in receipts] == list(range(1, len(receipts) + 1))
        codes = [code for _, code, _ in receipts]
        assert codes == sorted(codes) and codes[-1] == "CEB622"  # order, payment, waybill, 清单
        assert codes.count("CEB512") == 3  # the waybill's 2, 3 and 120, refiled under the set
    for pair in (batched, alone):
        buyer = _purchase(pair[0])
        assert LedgerQuota(database).used(buyer.buyer_id_number, buyer.year) == LIMIT
    with database.read() as session:  # no waybill's receipt is left waiting
        waybills = select(DocumentRow.id).where(DocumentRow.message_code == "CEB511")
        left = select(Receipt.id).where(
            Receipt.document_id.in_(waybills), Receipt.declaration_id.is_(None)
        )
        assert session.scalars(left).all() == []


async def test_two_lists_of_one_buyer_in_a_batch_are_counted_in_turn(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    """Each of two 清单 of one buyer fits the year's room, checked on arrival against the
    ledger as it stood; together they do not. Counted in turn inside the write transaction,
    the first is counted and its set cleared for customs; the second sees the first's amount
    and is refused (-621018), counting nothing."""
    sets = party_sets(seed=644, count=2)
    parties = register(make_party, sets[0])
    first = _one_buyer(sets)
    half = (_purchase(sets[1]).amount / 2).quantize(Decimal("0.01"))  # of the second
    _spent(database, first, LIMIT - first.amount - half)
    await _in_batches(client, parties, sets)
    (counted, _, entries), (refused, receipts, none) = _views(database, sets)
    assert (counted, entries) == ("clearance_ready", [0])
    assert (refused, none) == ("rejected", [])
    assert receipts[-1][1:] == ("CEB622", -621018)
    used = LedgerQuota(database).used(first.buyer_id_number, first.year)
    assert used == LIMIT - half


def _changed(sample_set: SampleSet, guid: str) -> etree._Element:
    """The set's 清单, changed (appType 2) under a new guid."""
    changed = etree.fromstring(xml(document(sample_set, Kind.INVENTORY)))
    new_guid(changed, guid)
    set_field(changed, "appType", "2")
    return changed


async def test_changed_lists_in_a_batch_replace_their_own_entries(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    """Two 清单 of one buyer fill the year's limit exactly; a batch changing both replaces
    each one's entry (given back first), so neither is counted twice nor refused."""
    sets = party_sets(seed=642, count=2)
    parties = register(make_party, sets[0])
    first = _one_buyer(sets)
    _spent(database, first, LIMIT - first.amount - _purchase(sets[1]).amount)
    await _in_batches(client, parties, sets)
    before = _views(database, sets)
    assert [state for state, _, _ in before] == ["clearance_ready"] * 2
    guids = ["CCCCCCCC-0000-4000-8000-00000000000" + str(n) for n in (1, 2)]
    changes = batch([_changed(s, g) for s, g in zip(sets, guids, strict=True)])
    response = await send(client, parties.agent, changes)
    assert response.status_code == 201, response.text
    after = _views(database, sets)
    assert [(state, entries) for state, _, entries in after] == [("clearance_ready", [0])] * 2
    assert LedgerQuota(database).used(first.buyer_id_number, first.year) == LIMIT


@contextmanager
def _statements(database: Database) -> Iterator[list[str]]:
    """Every statement the database is sent in the block (an executemany: once)."""
    seen: list[str] = []

    def listen(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(database.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", listen)


def _principal(database: Database, party_id: int) -> Principal:
    with database.read() as session:
        return Principal.of(session.get_one(Enterprise, party_id))


def test_a_group_counts_and_refiles_in_a_few_statements(
    make_party: PartyFactory, database: Database
) -> None:
    """However many 清单 a batch holds, their quota costs one read and one INSERT (and on
    PostgreSQL one statement for the buyers' locks), and refiling the receipts of the waybills
    they adopt one UPDATE."""
    sets = party_sets(seed=643, count=5)
    parties = register(make_party, sets[0])
    for kind in SET_KINDS:
        sender = _principal(database, parties.sender(kind).id)
        message = xml(batch_of(sets, kind))
        with _statements(database) as seen:
            outcome = batches.submit_message(database, sender, message)
        assert all(record.http_status == 201 for record in outcome.records)
    # What the last message (the 清单) was sent. Validation reads the buyers' sums on arrival
    # (``app.quota.MessageQuota``), outside the write; the group reads the ledger once and
    # writes it once.
    ledger = [s.split()[0] for s in seen if "quota_ledger" in s]
    assert ledger == ["SELECT", "SELECT", "INSERT"]
    buyer_locks = sum("pg_advisory_xact_lock(hashtext(" in s for s in seen)  # (set_quota)
    assert buyer_locks == (0 if database.is_sqlite else 1)
    refiled = [s for s in seen if s.startswith("UPDATE receipts")]
    assert len(refiled) == 1
    # without webhooks, nothing asks which deliveries the adopted waybills' receipts had
    assert not any(s.startswith("SELECT") and "FROM deliveries" in s for s in seen)
    assert {state for state, _, _ in _views(database, sets)} == {"clearance_ready"}


def test_a_group_shares_its_sets_receipts_with_a_few_reads(
    make_party: PartyFactory, database: Database
) -> None:
    """With a webhook for every party, what a group's newcomers are given of their sets'
    receipts (and the parties of the waybills they adopt) is read once for the group: the
    sets' receipts in one query, the waiting waybills' receipts and deliveries in one each,
    however many sets the batch holds."""
    sets = party_sets(seed=647, count=5)
    parties = register(make_party, sets[0])
    with database.write() as session:
        for kind in SET_KINDS:
            owner = parties.sender(kind).id
            session.add(Webhook(enterprise_id=owner, url="http://127.0.0.1:9/", secret="s" * 32))
    for kind in SET_KINDS:
        sender = _principal(database, parties.sender(kind).id)
        with _statements(database) as seen:
            outcome = batches.submit_message(database, sender, xml(batch_of(sets, kind)))
        assert all(record.http_status == 201 for record in outcome.records)
    # What the last message (the 清单, joining five sets and adopting their waybills) read.
    receipts_read = [s for s in seen if s.startswith("SELECT") and "FROM receipts" in s]
    codes_read = [s for s in receipts_read if "receipts.message_code" in s]
    assert len(codes_read) == 2  # the sets' receipts; the waiting waybills' receipts
    assert sum(s.startswith("SELECT") and "FROM deliveries" in s for s in seen) == 1
    with database.read() as session:
        given = session.scalar(select(func.count()).select_from(Delivery))
        receipts = session.scalar(select(func.count()).select_from(Receipt))
    assert given == 4 * receipts  # every party's webhook was given every receipt of its set
