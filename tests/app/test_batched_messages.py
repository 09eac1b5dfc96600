"""Messages of several records (up to 100, as every official CEB data message may hold): each
record its own document, with its own rules, receipts and set (docs/live-clearance.md "Batched
messages")."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from batch_support import batch, batch_of, party_sets, record_guids, send_batches
from lxml import etree
from service_support import PartyFactory
from sqlalchemy import func, select
from submission_helpers import (
    C,
    document,
    register,
    send,
    set_field,
    statuses,
    xml,
)
from test_engine_support import instant_engine

from app.db.engine import Database
from app.db.models import Declaration, DocumentRow, Role
from declarations import Kind, seal


async def _stored(database: Database, guids: Sequence[str]) -> int:
    with database.read() as session:
        query = select(func.count()).select_from(DocumentRow).where(DocumentRow.guid.in_(guids))
        return int(session.scalar(query) or 0)


def _by_record(answer: dict[str, Any]) -> list[list[int]]:
    return [statuses(record) for record in answer["records"]]


async def test_a_batch_of_orders_is_one_document_per_record(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sets = party_sets(seed=501, count=10)
    parties = register(make_party, sets[0])
    message = batch_of(sets, Kind.ORDER)
    response = await send(client, parties.seller, message)
    assert response.status_code == 201, response.text
    answer = response.json()
    guids = record_guids(message)
    assert answer["guid"] == message.get("guid") == guids[0]
    assert answer["message_code"] == "CEB311" and answer["repeat"] is False
    assert [r["number"] for r in answer["records"]] == list(range(1, 11))
    assert [r["guid"] for r in answer["records"]] == guids
    assert [r["document"]["guid"] for r in answer["records"]] == guids
    assert _by_record(answer) == [[2, 3, 120]] * 10
    # each record joined its own declaration, under its own business key
    declarations = {r["declaration"]["id"] for r in answer["records"]}
    assert len(declarations) == 10
    for record, sample_set in zip(answer["records"], sets, strict=True):
        assert record["report"]["valid"] is True
        assert record["document"]["order_no"] == sample_set.deal.order_no
    # its document keeps the one-record message it stands for
    third = answer["records"][2]["document"]["id"]
    stored = await client.get(f"/api/v1/documents/{third}/xml", headers=parties.seller.headers)
    root = etree.fromstring(stored.content)
    assert root.get("guid") == guids[2] and record_guids(root) == [guids[2]]
    assert root.find(f"{C}BaseTransfer") is not None
    receipts = await client.get(
        f"/api/v1/documents/{third}/receipts", headers=parties.seller.headers
    )
    assert [r["return_status"] for r in receipts.json()["receipts"]] == [2, 3, 120]


async def test_each_record_is_judged_by_its_own_rules(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sets = party_sets(seed=502, count=4)
    parties = register(make_party, sets[0])
    orders = [document(s, Kind.ORDER) for s in sets]
    set_field(orders[1], "acturalPaid", "0.01")  # fits the schema, breaks a rule
    lines = orders[3].findall(f".//{C}OrderList")
    duplicate = copy.deepcopy(lines[0])
    lines[-1].addnext(duplicate)  # a line number given twice: the spec's -301002
    response = await send(client, parties.seller, batch(orders))
    assert response.status_code == 201, response.text
    records = response.json()["records"]
    assert _by_record(response.json())[0] == [2, 3, 120]
    assert _by_record(response.json())[2] == [2, 3, 120]
    assert statuses(records[1]) == [2, 3, 100]
    assert "order.actural-paid" in records[1]["receipts"][-1]["return_info"]
    assert statuses(records[3])[-1] == -301002
    assert [f["rule"] for f in records[1]["report"]["findings"]] == ["order.actural-paid"]
    assert records[0]["report"]["findings"] == []
    # the refused records hold no place in a set; the good ones do
    assert records[1]["declaration"] is None and records[3]["declaration"] is None
    assert records[0]["declaration"] is not None and records[2]["declaration"] is not None


async def test_a_record_failing_the_schema_refuses_the_whole_message(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    sets = party_sets(seed=503, count=3)
    parties = register(make_party, sets[0])
    message = batch_of(sets, Kind.ORDER)
    heads = message.findall(f"{C}Order/{C}OrderHead")
    node = heads[1].find(f"{C}orderNo")
    assert node is not None
    heads[1].remove(node)  # a required field missing: the schema refuses the message
    body = xml(message)
    response = await send(client, parties.seller, body)
    assert response.status_code == 201, response.text
    answer = response.json()
    # answered as one message by the format check: one document, one CEB900
    assert "records" not in answer
    assert [(r["message_code"], r["return_status"]) for r in answer["receipts"]] == [("CEB900", -2)]
    assert answer["document"]["guid"] == message.get("guid")
    stored = await client.get(
        f"/api/v1/documents/{answer['document']['id']}/xml", headers=parties.seller.headers
    )
    assert stored.content == body
    assert await _stored(database, record_guids(message)) == 1  # the message, under its guid
    # the same bytes again: the stored answer
    again = await send(client, parties.seller, body)
    assert again.status_code == 200 and again.json()["repeat"] is True


async def test_more_than_100_records_fail_the_schema(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    sets = party_sets(seed=504, count=101)
    parties = register(make_party, sets[0])
    message = batch_of(sets, Kind.ORDER)
    response = await send(client, parties.seller, message)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert [(r["message_code"], r["return_status"]) for r in answer["receipts"]] == [("CEB900", -2)]
    assert {f["layer"] for f in answer["report"]["findings"]} == {"schema"}
    assert await _stored(database, record_guids(message)) == 1
    # 100 is the limit, not refused
    hundred = batch_of(sets[1:], Kind.ORDER)
    accepted = await send(client, parties.seller, hundred)
    assert accepted.status_code == 201, accepted.text
    assert _by_record(accepted.json()) == [[2, 3, 120]] * 100


async def test_a_batch_in_an_envelope(client: httpx.AsyncClient, make_party: PartyFactory) -> None:
    sets = party_sets(seed=506, count=3)
    parties = register(make_party, sets[0])
    seller = parties.seller
    dxp_id = f"DXP{seller.code}"[:16]
    registered = await client.put(
        "/api/v1/enterprises/me/dxp-id", json={"dxp_id": dxp_id}, headers=seller.headers
    )
    assert registered.status_code == 200, registered.text
    message = batch_of(sets, Kind.ORDER)
    sealed = seal(
        xml(message),
        cop_msg_id="COP-BATCH-1",
        sender_id=dxp_id,
        receiver_ids=("DXPEDCCEB0000002",),
        msg_type="CEB311Message",
        created=datetime(2026, 12, 5, 10, 0, 0),
    )
    response = await send(client, seller, sealed)
    assert response.status_code == 201, response.text
    records = response.json()["records"]
    assert [r["guid"] for r in records] == record_guids(message)
    assert _by_record(response.json()) == [[2, 3, 120]] * 3
    # answered in kind: one receipt message in a DxpMsg, a node per record
    again = await send(client, seller, sealed, format="xml")
    assert again.status_code == 200, again.text
    envelope = etree.fromstring(again.content)
    assert etree.QName(envelope).localname == "DxpMsg"
    # a foreign DXP id refuses the whole message
    forged = seal(xml(message), cop_msg_id="COP-BATCH-2", sender_id="DXPSOMEONEELSE01",
                  receiver_ids=("DXPEDCCEB0000002",), msg_type="CEB311Message",
                  created=datetime(2026, 12, 5, 10, 0, 0))  # fmt: skip
    refused = await send(client, seller, forged)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "access.not_your_dxp_id"


async def test_the_batch_answer_as_receipt_xml(
    client: httpx.AsyncClient, make_party: PartyFactory, official_dir: Path
) -> None:
    sets = party_sets(seed=507, count=3)
    parties = register(make_party, sets[0])
    message = batch_of(sets, Kind.ORDER)
    response = await send(client, parties.seller, message, format="xml")
    assert response.status_code == 201, response.text
    root = etree.fromstring(response.content)
    assert etree.QName(root).localname == "CEB312Message"
    assert [n.findtext(f"{C}guid") for n in root.findall(f"{C}OrderReturn")] == record_guids(
        message
    )
    assert [n.findtext(f"{C}orderNo") for n in root.findall(f"{C}OrderReturn")] == [
        s.deal.order_no for s in sets
    ]
    assert [e.text for e in root.iter(f"{C}returnStatus")] == ["120"] * 3
    official = etree.XMLSchema(etree.parse(official_dir / "xsd/ceb-import-202205.xsd"))
    assert official.validate(root), official.error_log


async def test_a_resent_batch_gets_its_stored_answer(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    sets = party_sets(seed=508, count=5)
    parties = register(make_party, sets[0])
    message = batch_of(sets[:3], Kind.ORDER)
    first = await send(client, parties.seller, message)
    assert first.status_code == 201, first.text
    again = await send(client, parties.seller, message)
    assert again.status_code == 200, again.text
    answer = again.json()
    assert answer["repeat"] is True and all(r["repeat"] for r in answer["records"])
    ids = [r["document"]["id"] for r in first.json()["records"]]
    assert [r["document"]["id"] for r in answer["records"]] == ids
    assert [[r["id"] for r in rec["receipts"]] for rec in answer["records"]] == [
        [r["id"] for r in rec["receipts"]] for rec in first.json()["records"]
    ]
    # the same records with a new one: each record sent before gets its stored answer
    grown = batch_of([*sets[:3], sets[4]], Kind.ORDER)
    partly = await send(client, parties.seller, grown)
    assert partly.status_code == 201, partly.text
    assert [r["repeat"] for r in partly.json()["records"]] == [True, True, True, False]
    assert [r["document"]["id"] for r in partly.json()["records"]][:3] == ids
    assert statuses(partly.json()["records"][3]) == [2, 3, 120]
    # the same guids in another message: 409, and nothing of it is stored
    set_field(message, "ebpName", "changed")
    fresh = copy.deepcopy(document(sets[3], Kind.ORDER).find(f"{C}Order"))
    assert fresh is not None
    message.findall(f"{C}Order")[-1].addnext(fresh)
    conflict = await send(client, parties.seller, message)
    assert conflict.status_code == 409, conflict.text
    assert conflict.json()["error"]["code"] == "submission.guid_reused"
    assert await _stored(database, record_guids(message)) == 3
    # a record guid given twice in one message
    twice = batch([document(sets[3], Kind.ORDER)] * 2)
    guid = record_guids(twice)[0]
    repeated = await send(client, parties.seller, twice)
    assert repeated.status_code == 422
    assert repeated.json()["error"]["code"] == "submission.record_guid_repeated"
    assert await _stored(database, [guid]) == 0


async def test_a_foreign_record_hidden_in_a_batch_refuses_it_all(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    ours = party_sets(seed=511, count=2)
    parties = register(make_party, ours[0])
    theirs = party_sets(seed=512, count=1)
    register(make_party, theirs[0])  # another seller, a real enterprise of the sandbox
    message = batch([document(ours[0], Kind.ORDER), document(theirs[0], Kind.ORDER),
                      document(ours[1], Kind.ORDER)])  # fmt: skip
    response = await send(client, parties.seller, message)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "access.not_a_party" and "record 2" in error["message_en"]
    assert await _stored(database, record_guids(message)) == 0


async def test_sets_completed_by_batches_reach_clearance(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    sets = party_sets(seed=513, count=10)
    parties = register(make_party, sets[0])
    answers = await send_batches(client, parties, sets)
    for what in (Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL):
        assert _by_record(answers[what]) == [[2, 3, 120]] * 10, what
    inventories = answers[Kind.INVENTORY]["records"]
    # each 清单 is sent to customs (2 → 3); the clearance engine records 120 onwards
    assert [statuses(r) for r in inventories] == [[2, 3]] * 10
    ready = [r["declaration"] for r in inventories]
    assert {d["state"] for d in ready} == {"clearance_ready"}
    # every record of a set found that set: one declaration per deal, four documents each
    ids = [d["id"] for d in ready]
    assert len(set(ids)) == 10
    assert [r["declaration"]["id"] for r in answers[Kind.ORDER]["records"]] == ids
    instant_engine(database).run_until_idle()
    with database.read() as session:
        rows = session.scalars(select(Declaration).where(Declaration.id.in_(ids))).all()
        left = {row.id: row.state for row in rows}
    assert left == dict.fromkeys(ids, "cleared")
    for ident in ids:
        shown = await client.get(f"/api/v1/declarations/{ident}", headers=parties.agent.headers)
        history = shown.json()["history"]
        sent = [e["message_code"] for e in history if e["event"] == "document"]
        assert sent[:4] == ["CEB311", "CEB411", "CEB511", "CEB621"]
        lodged = [e["return_status"] for e in history if e["message_code"] == "CEB622"]
        assert lodged == [2, 3, 120, 399, 800, 899]


async def test_a_bundle_still_takes_one_record_per_message(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sets = party_sets(seed=514, count=2)
    parties = register(make_party, sets[0])
    response = await client.post(
        "/api/v1/bundles",
        json={"documents": [xml(batch_of(sets, Kind.ORDER)).decode()]},
        headers=parties.seller.headers,
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "submission.one_record"


async def test_an_entrusted_agent_batches_the_orders_of_several_principals(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    postal = make_party("1100960POST", Role.EXPRESS)
    first, second, third = (party_sets(seed=seed, count=1)[0] for seed in (515, 516, 517))
    for sample_set in (first, second):  # two sellers entrust it with their orders
        seller = register(make_party, sample_set).seller
        given = await client.post(
            "/api/v1/entrustments",
            json={"agent": postal.code, "message": "CEB311"},
            headers=seller.headers,
        )
        assert given.status_code == 201, given.text
    register(make_party, third)  # a seller that did not
    message = batch([document(first, Kind.ORDER), document(second, Kind.ORDER)])
    set_field(message, "copCode", postal.code)  # the postal enterprise transmits it
    response = await send(client, postal, message)
    assert response.status_code == 201, response.text
    records = response.json()["records"]
    assert _by_record(response.json()) == [[2, 3, 120]] * 2
    assert records[0]["declaration"]["id"] != records[1]["declaration"]["id"]
    # the order of a seller that gave no entrustment, hidden among them: all refused
    hidden = batch([document(s, Kind.ORDER) for s in (first, third, second)])
    set_field(hidden, "copCode", postal.code)
    for node in hidden.findall(f"{C}Order/{C}OrderHead/{C}orderNo"):
        node.text = f"{node.text}-2"
    for number, node in enumerate(hidden.findall(f"{C}Order/{C}OrderHead/{C}guid")):
        node.text = f"{(node.text or '')[:-1]}{number}"  # guids of their own
    refused = await send(client, postal, hidden)
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "access.not_a_party"
    assert error["message_en"].startswith("record 2 of CEB311:")
    assert "第2条记录" in error["message_zh"]
    assert await _stored(database, record_guids(hidden)) == 0
