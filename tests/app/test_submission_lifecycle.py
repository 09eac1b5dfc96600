"""Lifecycle of submitted documents: idempotent resend, change and delete (with the spec's
refusals by state), the buyer's annual quota (-621018), the incomplete-set sweep, and receipt
XML valid against the official 202205 structure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from lxml import etree
from service_support import PartyFactory
from sqlalchemy import func, select
from submission_helpers import (
    REGIMES,
    document,
    new_guid,
    register,
    sample,
    send,
    send_set,
    set_field,
    statuses,
    xml,
)

from app.db.engine import Database
from app.db.models import Declaration, QuotaEntry, Role
from app.quota import LedgerQuota
from app.services import sets
from app.services.expiry import expire_incomplete_sets
from declarations import Direction, Kind, Purchase, Regime, check
from declarations.samples import SampleSet

CHANGED = "11111111-2222-4333-8444-555555555555"


def as_change(root: etree._Element, guid: str, app_type: str = "2") -> etree._Element:
    changed = etree.fromstring(xml(root))
    new_guid(changed, guid)
    set_field(changed, "appType", app_type)
    return changed


async def test_resending_the_same_guid_is_idempotent(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=11)
    parties = register(make_party, sample_set)
    order = document(sample_set, Kind.ORDER)
    first = await send(client, parties.seller, order)
    again = await send(client, parties.seller, order)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["repeat"] is True
    assert again.json()["receipts"] == first.json()["receipts"]
    document_id = first.json()["document"]["id"]
    stored = await client.get(f"/api/v1/documents/{document_id}", headers=parties.seller.headers)
    assert [r["return_status"] for r in stored.json()["receipts"]] == [2, 3, 120]

    # The same guid on other bytes is another message: a conflict, not a repeat.
    set_field(order, "consigneeAddress", "changed without a new guid")
    conflict = await send(client, parties.seller, order)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "submission.guid_reused"
    assert f"(your document {document_id})" in conflict.json()["error"]["message_en"]

    # Another enterprise's order under the same guid is refused without naming the document.
    other = make_party("3301960199", Role.EBC)
    set_field(order, "copCode", other.code)
    set_field(order, "ebcCode", other.code)
    set_field(order, "orderNo", "ORDER-OF-ANOTHER-SELLER")
    stranger = await send(client, other, order)
    assert stranger.status_code == 409, stranger.text
    assert stranger.json()["error"]["code"] == "submission.guid_reused"
    assert "document" not in stranger.json()["error"]["message_en"]


async def test_duplicate_change_and_delete_follow_the_lifecycle(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=12)
    parties = register(make_party, sample_set)
    order = document(sample_set, Kind.ORDER)
    assert statuses((await send(client, parties.seller, order)).json()) == [2, 3, 120]

    # A second order with the same number and a new guid: duplicate.
    duplicate = as_change(order, "AAAAAAAA-0000-4000-8000-000000000001", app_type="1")
    assert statuses((await send(client, parties.seller, duplicate)).json()) == [2, 3, -301010]

    # A change before the 清单 is declared is taken, and replaces the held order.
    change = as_change(order, "AAAAAAAA-0000-4000-8000-000000000002")
    changed = (await send(client, parties.seller, change)).json()
    assert statuses(changed) == [2, 3, 120]
    assert changed["document"]["current"] is True

    # Changing an order nobody holds: not found.
    stranger = as_change(order, "AAAAAAAA-0000-4000-8000-000000000003")
    set_field(stranger, "orderNo", "I-NEVER-SENT-0001")
    assert statuses((await send(client, parties.seller, stranger)).json()) == [2, 3, -301009]

    # Once the 清单 is declared, the order may no longer change.
    for kind in (Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY):
        await send(client, parties.sender(kind), document(sample_set, kind))
    late = as_change(order, "AAAAAAAA-0000-4000-8000-000000000004")
    assert statuses((await send(client, parties.seller, late)).json()) == [2, 3, -301011]


async def test_list_delete_before_acceptance_and_refused_after(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    sample_set = sample(Regime.BONDED, Direction.IMPORT, seed=13)
    parties = register(make_party, sample_set)
    *_, inventory = await send_set(client, parties, sample_set)
    declaration_id = inventory["declaration"]["id"]
    assert _ledger_rows(database, declaration_id) == 1

    # Before customs accepts it (status 3), the declarant may delete the 清单.
    root = document(sample_set, Kind.INVENTORY)
    deleted = (await send(client, parties.agent, as_change(root, CHANGED, "3"))).json()
    assert statuses(deleted) == [2, 3, 120]
    assert deleted["declaration"]["state"] == "incomplete"
    assert deleted["declaration"]["return_status"] is None  # nothing is declared any more
    assert _ledger_rows(database, declaration_id) == 0  # the buyer's quota is given back

    # A new 清单 makes the set ready again; once the engine has accepted it (120), a delete
    # is refused with -621012.
    fresh = as_change(root, "BBBBBBBB-0000-4000-8000-000000000001", "1")
    again = (await send(client, parties.agent, fresh)).json()
    assert again["declaration"]["state"] == "clearance_ready"
    with database.write() as session:  # what the clearance engine does on 120
        declaration = session.get(Declaration, declaration_id)
        assert declaration is not None
        declaration.state, declaration.return_status = "clearing", 120
    refused = as_change(root, "BBBBBBBB-0000-4000-8000-000000000002", "3")
    assert statuses((await send(client, parties.agent, refused)).json()) == [2, 3, -621012]


def _ledger_rows(database: Database, declaration_id: int) -> int:
    with database.read() as session:
        return (
            session.scalar(select(func.count()).where(QuotaEntry.declaration_id == declaration_id))
            or 0
        )


def _same_buyer(sample_set: SampleSet, name: str, id_number: str) -> None:
    set_field(document(sample_set, Kind.ORDER), "buyerName", name)
    set_field(document(sample_set, Kind.ORDER), "buyerIdNumber", id_number)
    set_field(document(sample_set, Kind.PAYMENT), "payerName", name)
    set_field(document(sample_set, Kind.PAYMENT), "payerIdNumber", id_number)
    set_field(document(sample_set, Kind.INVENTORY), "buyerName", name)
    set_field(document(sample_set, Kind.INVENTORY), "buyerIdNumber", id_number)


def _purchase(sample_set: SampleSet) -> Purchase:
    """What the 清单 counts against its buyer, as intake keeps it."""
    purchase = check(xml(document(sample_set, Kind.INVENTORY))).facts().purchase
    assert purchase is not None
    return purchase


async def test_a_second_order_crossing_the_annual_limit_is_refused(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    first, second = (
        sample(Regime.DIRECT, Direction.IMPORT, seed=21),
        sample(Regime.DIRECT, Direction.IMPORT, seed=22),
    )
    buyer = first.deal.buyer
    _same_buyer(second, buyer.name, buyer.id_number)
    a1, a2 = _purchase(first), _purchase(second)
    assert a1.year == a2.year
    # Earlier purchases this year leave exactly room for the first order.
    with database.write() as session:
        LedgerQuota.add(session, buyer.id_number, Decimal(26_000) - a1.amount, date(a1.year, 6, 1))

    first_parties = register(make_party, first)
    *_, accepted = await send_set(client, first_parties, first)
    assert accepted["declaration"]["state"] == "clearance_ready"
    assert LedgerQuota(database).used(buyer.id_number, a1.year) == Decimal(26_000)

    # Changing the accepted 清单 replaces its purchase: it is not counted twice.
    changed = as_change(document(first, Kind.INVENTORY), "DDDDDDDD-0000-4000-8000-000000000001")
    answer = (await send(client, first_parties.agent, changed)).json()
    assert statuses(answer) == [2, 3]
    assert answer["declaration"]["state"] == "clearance_ready"
    assert LedgerQuota(database).used(buyer.id_number, a1.year) == Decimal(26_000)

    *_, refused = await send_set(client, register(make_party, second), second)
    assert statuses(refused) == [2, 3, -621018]
    assert "limit.annual" in refused["receipts"][-1]["return_info"]
    assert LedgerQuota(database).used(buyer.id_number, a1.year) == Decimal(26_000)


async def test_no_enterprise_learns_what_a_buyer_has_spent(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    """Any enterprise may name any buyer in a 清单: a refusal for the annual limit says that the
    limit would be exceeded, never how much the buyer has used."""
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=25)
    purchase = _purchase(sample_set)
    used = Decimal(26_000) - purchase.amount + Decimal("0.37")
    with database.write() as session:
        LedgerQuota.add(session, purchase.buyer_id_number, used, date(purchase.year, 3, 1))
    stranger = make_party("3301960177", Role.AGENT)
    answer = await client.post(
        "/api/v1/validate",
        content=xml(document(sample_set, Kind.INVENTORY)),
        headers={**stranger.headers, "Content-Type": "application/xml"},
    )
    findings = [f for f in answer.json()["findings"] if f["rule"] == "limit.annual"]
    assert len(findings) == 1, answer.text
    said = findings[0]["message"] + findings[0]["message_zh"]
    assert "26,000" in said and str(purchase.amount) in said
    assert f"{used:.2f}" not in said and str(used) not in said


async def test_the_quota_is_rechecked_inside_the_write_transaction(
    database: Database,
) -> None:
    """Two 清单 of one buyer validated at the same moment both see room; the in-transaction
    re-check counts the first and refuses the second."""
    one, two = (
        sample(Regime.DIRECT, Direction.IMPORT, seed=23),
        sample(Regime.DIRECT, Direction.IMPORT, seed=24),
    )
    _same_buyer(two, one.deal.buyer.name, one.deal.buyer.id_number)
    p1, p2 = _purchase(one), _purchase(two)
    with database.write() as session:
        LedgerQuota.add(session, p1.buyer_id_number, Decimal(26_000) - p1.amount - p2.amount / 2,
                        date(p1.year, 1, 2))  # fmt: skip
        decls = [
            Declaration(direction="import", ebp_code=f"E{n}", order_no=f"O{n}") for n in (1, 2)
        ]
        session.add_all(decls)
        session.flush()
        assert sets.count_quota(session, decls[0], p1) is None
        over = sets.count_quota(session, decls[1], p2)
    assert over is not None and over.rule == "limit.annual" and "26000" in over.message_zh


async def test_the_sweep_refuses_sets_incomplete_past_the_window(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    stale = sample(Regime.DIRECT, Direction.IMPORT, seed=31)
    parties = register(make_party, stale)
    order = (await send(client, parties.seller, document(stale, Kind.ORDER))).json()
    await send(client, parties.payer, document(stale, Kind.PAYMENT))
    lone = sample(Regime.DIRECT, Direction.EXPORT, seed=32)  # a waybill whose 清单 never comes
    carrier = register(make_party, lone).carrier
    waybill = (await send(client, carrier, document(lone, Kind.WAYBILL))).json()
    assert waybill["declaration"] is None

    window = timedelta(hours=24)
    now = datetime.now(UTC)
    assert expire_incomplete_sets(database, now=now, window=window) == []  # not overdue yet
    refused = expire_incomplete_sets(database, now=now + timedelta(hours=25), window=window)
    declaration_id = order["declaration"]["id"]
    assert refused == [declaration_id]

    body = (
        await client.get(f"/api/v1/declarations/{declaration_id}", headers=parties.seller.headers)
    ).json()
    assert body["declaration"]["state"] == "rejected"
    last = [e for e in body["history"] if e["event"] == "receipt"][-2:]
    assert [r["return_status"] for r in last] == [100, 100]
    assert "运单" in last[0]["return_info"] and "CEB621" in last[0]["return_info"]
    assert "reconcile.missing-document" in last[0]["return_info"]
    lone_receipts = await client.get(
        f"/api/v1/documents/{waybill['document']['id']}",
        headers=carrier.headers,
    )
    assert lone_receipts.status_code == 200
    assert [r["return_status"] for r in lone_receipts.json()["receipts"]] == [2, 3, 120, 100]


@pytest.mark.official
@pytest.mark.parametrize(("regime", "direction"), REGIMES, ids=str)
async def test_receipt_xml_is_valid_against_the_official_xsd(
    client: httpx.AsyncClient,
    make_party: PartyFactory,
    official_dir: Path,
    regime: Regime,
    direction: Direction,
) -> None:
    name = "import" if direction is Direction.IMPORT else "export"
    schema = etree.XMLSchema(etree.parse(official_dir / f"xsd/ceb-{name}-202205.xsd"))
    sample_set = sample(regime, direction, seed=41)
    parties = register(make_party, sample_set)
    answers = await send_set(client, parties, sample_set)
    senders = [parties.sender(k) for k in (Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY)
               if k is not Kind.PAYMENT or len(answers) == 4]  # fmt: skip
    for answer, party in zip(answers, senders, strict=True):
        response = await client.get(
            f"/api/v1/documents/{answer['document']['id']}/receipts",
            headers={**party.headers, "Accept": "application/xml"},
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/xml")
        receipt = etree.fromstring(response.content)
        assert schema.validate(receipt), (response.text, schema.error_log)
        statuses_in_xml = [e.text for e in receipt.iter("{*}returnStatus")]
        assert statuses_in_xml == [str(s) for s in statuses(answer)]


async def test_after_customs_rejects_the_list_the_set_is_fixed_and_declared_again(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=14)
    parties = register(make_party, sample_set)
    *_, inventory = await send_set(client, parties, sample_set)
    declaration_id = inventory["declaration"]["id"]
    with database.write() as session:  # the clearance engine's audit rejects the 清单
        declaration = session.get(Declaration, declaration_id)
        assert declaration is not None
        declaration.state, declaration.return_status = "rejected", 100
        sets.release_quota(session, declaration_id)

    order = document(sample_set, Kind.ORDER)
    fixed = as_change(order, "CCCCCCCC-0000-4000-8000-000000000001")
    assert statuses((await send(client, parties.seller, fixed)).json()) == [2, 3, 120]
    again = as_change(
        document(sample_set, Kind.INVENTORY), "CCCCCCCC-0000-4000-8000-000000000002", "1"
    )
    answer = (await send(client, parties.agent, again)).json()
    assert statuses(answer) == [2, 3]
    assert answer["declaration"]["state"] == "clearance_ready"
    assert _ledger_rows(database, declaration_id) == 1


async def test_a_list_over_the_single_transaction_limit_gets_621005(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=15)
    parties = register(make_party, sample_set)
    inventory = document(sample_set, Kind.INVENTORY)
    set_field(inventory, "freight", "6000.00")
    answer = (await send(client, parties.agent, inventory)).json()
    assert statuses(answer) == [2, 3, -621005]
    assert "limit.single-transaction" in answer["receipts"][-1]["return_info"]
    assert answer["declaration"] is None  # refused: no place in a set
