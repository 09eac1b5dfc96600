"""Records of one message taken together (``app.services.taking``): records that name the same
key are taken in turn, each seeing what the one before it stored; the others share one INSERT
and one receipts statement, and nothing of that shows in the answers."""

from __future__ import annotations

import copy
import uuid

import httpx
from batch_support import batch, batch_of, party_sets, record_guids, send_batches
from lxml import etree
from service_support import PartyFactory
from sqlalchemy import select
from submission_helpers import document, new_guid, register, send, set_field, statuses

from app.db.engine import Database
from app.db.models import Declaration, DocumentRow, Receipt
from declarations import Kind


def _change_of(order_message: etree._Element, guid: str) -> etree._Element:
    """The same order sent again as a change (appType 2) under a new guid."""
    changed = copy.deepcopy(order_message)
    set_field(changed, "appType", "2")
    new_guid(changed, guid)
    return changed


def _current(database: Database, declaration_id: int) -> list[str]:
    """The guids of the set's current documents."""
    with database.read() as session:
        query = select(DocumentRow.guid).where(
            DocumentRow.declaration_id == declaration_id, DocumentRow.current.is_(True)
        )
        return list(session.scalars(query))


async def test_an_order_and_its_change_in_one_message_are_taken_in_turn(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    sets = party_sets(seed=611, count=3)
    parties = register(make_party, sets[0])
    orders = [document(s, Kind.ORDER) for s in sets]
    change = _change_of(orders[0], str(uuid.uuid4()).upper())
    # record 4 changes record 1: it must find record 1 held, as if sent in a later message
    response = await send(client, parties.seller, batch([*orders, change]))
    assert response.status_code == 201, response.text
    records = response.json()["records"]
    assert [statuses(r) for r in records] == [[2, 3, 120]] * 4
    first, changed = records[0], records[3]
    assert first["declaration"]["id"] == changed["declaration"]["id"]
    assert len({r["declaration"]["id"] for r in records}) == 3
    assert _current(database, first["declaration"]["id"]) == [changed["guid"]]  # replaced


async def test_records_taken_together_are_numbered_in_the_message_order(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    """Documents and receipts get ids in the records' order, and each set's receipts are
    numbered from 1, as record-by-record taking numbered them."""
    sets = party_sets(seed=612, count=6)
    parties = register(make_party, sets[0])
    message = batch_of(sets, Kind.ORDER)
    response = await send(client, parties.seller, message)
    assert response.status_code == 201, response.text
    records = response.json()["records"]
    assert [r["guid"] for r in records] == record_guids(message)
    documents = [r["document"]["id"] for r in records]
    assert documents == sorted(documents)
    receipt_ids = [receipt["id"] for r in records for receipt in r["receipts"]]
    assert receipt_ids == sorted(receipt_ids) and len(set(receipt_ids)) == 18
    with database.read() as session:
        for record in records:
            seqs = session.scalars(
                select(Receipt.seq)
                .where(Receipt.declaration_id == record["declaration"]["id"])
                .order_by(Receipt.id)
            ).all()
            assert seqs == [1, 2, 3]
            declaration = session.get(Declaration, record["declaration"]["id"])
            assert (
                declaration is not None and declaration.order_no == record["document"]["order_no"]
            )


async def test_a_batch_of_inventories_adopts_each_waiting_waybill(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    """Waybills sent before their 清单 wait; a batch of 清单 adopts each its own, and every
    set is reconciled on its own."""
    sets = party_sets(seed=613, count=5)
    parties = register(make_party, sets[0])
    answers = await send_batches(client, parties, sets, (Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL))
    waybills = answers[Kind.WAYBILL]["records"]
    assert all(w["declaration"] is None for w in waybills)  # no 清单 names them yet
    lists = await send(client, parties.agent, batch_of(sets, Kind.INVENTORY))
    assert lists.status_code == 201, lists.text
    with database.read() as session:
        for waybill, listed in zip(waybills, lists.json()["records"], strict=True):
            row = session.get(DocumentRow, waybill["document"]["id"])
            assert row is not None and row.declaration_id == listed["declaration"]["id"]
            declaration = session.get(Declaration, row.declaration_id)
            assert declaration is not None and declaration.state == "clearance_ready"


async def test_a_batch_of_changes_finds_each_order_held(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    """What each record finds held and its set are read ahead for the whole batch: each change
    replaces its own order, in its own set."""
    sets = party_sets(seed=614, count=4)
    parties = register(make_party, sets[0])
    orders = [document(s, Kind.ORDER) for s in sets]
    first = await send(client, parties.seller, batch(orders))
    assert first.status_code == 201, first.text
    changes = [_change_of(order, str(uuid.uuid4()).upper()) for order in orders]
    second = await send(client, parties.seller, batch(changes))
    assert second.status_code == 201, second.text
    assert [statuses(r) for r in second.json()["records"]] == [[2, 3, 120]] * 4
    for before, after in zip(first.json()["records"], second.json()["records"], strict=True):
        assert after["declaration"]["id"] == before["declaration"]["id"]
        assert _current(database, before["declaration"]["id"]) == [after["guid"]]


async def test_waybills_after_their_lists_join_the_sets_naming_them(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    """A batch of waybills whose 清单 came first: the sets naming each are read ahead, and
    each waybill completes its own set."""
    sets = party_sets(seed=615, count=4)
    parties = register(make_party, sets[0])
    answers = await send_batches(client, parties, sets, (Kind.ORDER, Kind.PAYMENT, Kind.INVENTORY))
    lists = answers[Kind.INVENTORY]["records"]
    waybills = await send(client, parties.carrier, batch_of(sets, Kind.WAYBILL))
    assert waybills.status_code == 201, waybills.text
    records = waybills.json()["records"]
    assert [statuses(r) for r in records] == [[2, 3, 120]] * 4
    with database.read() as session:
        for waybill, listed in zip(records, lists, strict=True):
            assert waybill["declaration"]["id"] == listed["declaration"]["id"]
            declaration = session.get(Declaration, listed["declaration"]["id"])
            assert declaration is not None and declaration.state == "clearance_ready"
