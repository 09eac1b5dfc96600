"""What follows a 9610 import 清单 through the live API (issue 13): the site's entry record
(CEB711 → CEB712) that release waits for, customs' tax bill (CEB816 / CEB818) and the carrier's
delivery (CEB513), with danchuang playing the parties the tester does not, or waiting for the
real ones. Both backends, real HTTP through the app."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from lxml import etree
from service_support import Party, PartyFactory
from sqlalchemy import select
from submission_helpers import coded, real_senders, register, sample, send, send_set
from test_engine_support import instant_engine

from app import states
from app.db.engine import Database
from app.db.models import Declaration, Receipt, Role
from app.db.models_after import TaxBillRow
from app.engine.store import Pickup
from app.quota import used_fen
from app.services import cancellations, tax_bills
from declarations import Direction, Regime, validate
from declarations.sample_followups import (
    SAMPLE_SITE,
    import_delivery,
    import_return,
    import_site_entry,
)
from declarations.samples import SampleSet


async def _history(client: httpx.AsyncClient, party: Party, ident: int) -> list[dict[str, Any]]:
    shown = await client.get(f"/api/v1/declarations/{ident}", headers=party.headers)
    assert shown.status_code == 200, shown.text
    return [e for e in shown.json()["history"] if e["event"] == "receipt"]


def _used(database: Database, s: SampleSet) -> int:
    with database.read() as session:
        return used_fen(session, s.deal.buyer.id_number, s.deal.when.year)


def _receipt_id(history: list[dict[str, Any]], code: str, status: int) -> int:
    return next(
        r["id"] for r in history if (r["message_code"], r["return_status"]) == (code, status)
    )


def _entry_receipt(database: Database) -> int:
    """The id of the (only) accepted site entry's 120: the site's own receipt."""
    with database.read() as session:
        found = session.scalar(
            select(Receipt.id).where(Receipt.message_code == "CEB712", Receipt.return_status == 120)
        )
    assert found is not None
    return int(found)


def _codes(receipts: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(r["message_code"], r["return_status"]) for r in receipts]


async def test_danchuang_plays_the_site_the_carrier_and_customs(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database, official_dir: Path
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=301)
    parties = register(make_party, s)
    ident = (await send_set(client, parties, s))[-1]["declaration"]["id"]
    engine = instant_engine(database)
    engine.run_until_idle()

    history = await _history(client, parties.agent, ident)
    codes = _codes(history)
    # the site's entry comes before release (its CEB712 is the site's own: not in the set's
    # history), the tax bill after it, then its payment
    assert _entry_receipt(database) < _receipt_id(history, "CEB622", 800)
    assert ("CEB712", 120) not in codes
    assert codes.index(("CEB622", 800)) < codes.index(("CEB816", 1))
    assert codes.index(("CEB816", 1)) < codes.index(("CEB818", 2))
    assert ("CEB514", 399) in codes  # danchuang, playing the carrier, delivered
    with database.read() as session:
        row = session.get(Declaration, ident)
        assert row is not None and row.state == "cleared"
        assert row.site_entered_at is not None and row.delivered_at is not None
        released = session.scalar(
            select(Receipt.sim_time).where(
                Receipt.declaration_id == ident, Receipt.return_status == 800
            )
        )
    # delivered the flow's delivery delay after release (drawn per declaration, logisticsTime
    # to the second)
    delay = engine._delivery_delay(Pickup(ident, "9610", "import", "general", None))
    assert delay is not None and released is not None
    took = (row.delivered_at - released).total_seconds()
    assert abs(took - delay) < 1, (took, delay)

    bill = await client.get(f"/api/v1/declarations/{ident}/tax-bill", headers=parties.agent.headers)
    assert bill.status_code == 200, bill.text
    body = bill.json()
    assert (body["status"], body["state"]) == (2, "summed") and body["ent_duty_no"]
    # the project's own tax function, as the sample's order computed its taxTotal
    assert Decimal(body["total"]) == s.deal.tax_total
    xml = await client.get(
        f"/api/v1/declarations/{ident}/tax-bill", headers={**parties.agent.headers,
                                                           "Accept": "application/xml"}
    )  # fmt: skip
    assert xml.headers["content-type"].startswith("application/xml")
    assert validate(xml.content, source="CEB816").valid
    official = etree.XMLSchema(etree.parse(str(official_dir / "xsd" / "ceb-import-202205.xsd")))
    assert official.validate(etree.fromstring(xml.content)), official.error_log


async def test_a_real_site_then_a_real_carrier_then_a_return(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    """Each party with its own key: released only after the site's 711, then delivered by
    the carrier (513), then returned in part (625), the quota given back by the value."""
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=302)
    parties = register(make_party, s)
    assert await real_senders(client, parties.agent, CEB711="real") == {
        "CEB513": "danchuang",
        "CEB711": "real",
        "CEB507": "danchuang",
        "CEB509": "danchuang",
        "CEB607": "danchuang",
    }
    await real_senders(client, parties.carrier, CEB513="real")
    *_, inventory = await send_set(client, parties, s)
    ident, invt = inventory["declaration"]["id"], inventory["document"]["invt_no"]
    engine = instant_engine(database)
    engine.run_until_idle()
    codes = _codes(await _history(client, parties.agent, ident))
    assert ("CEB622", 399) in codes and ("CEB622", 800) not in codes  # decided, waiting

    site = make_party(SAMPLE_SITE.code, Role.OPERATOR)
    no_role = make_party("4401969999", Role.LOGISTICS)
    forged = import_site_entry(s.deal, minutes=301)
    for node in forged.iter("{*}copCode", "{*}operatorCode"):
        node.text = "4401969999"
    refused = await send(client, no_role, forged)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "access.role_missing")

    entered = await send(client, site, import_site_entry(s.deal))
    assert coded(entered) == [("CEB712", 2), ("CEB712", 3), ("CEB712", 120)]
    again = await send(client, site, import_site_entry(s.deal, minutes=302))
    assert coded(again)[-1] == ("CEB712", 100)
    assert "at the site already" in again.json()["receipts"][-1]["return_info"]

    # the operator reads its own receipts, not the set it entered: order, payment and 清单
    # are none of its business
    hidden = await client.get(f"/api/v1/declarations/{ident}", headers=site.headers)
    assert hidden.status_code == 404
    assert entered.json()["declaration"] is None

    engine.run_until_idle()
    history = await _history(client, parties.agent, ident)
    codes = _codes(history)
    assert entered.json()["receipts"][-1]["id"] < _receipt_id(history, "CEB622", 800)
    assert ("CEB622", 899) in codes and not any(c == "CEB514" for c, _ in codes)

    delivered = await send(client, parties.carrier, import_delivery(s.deal))
    assert coded(delivered)[-1] == ("CEB514", 399)
    line = s.deal.lines[0]
    used = _used(database, s)
    returned = await send(
        client, parties.agent, import_return(s.deal, invt, {line.gnum: Decimal(1)})
    )
    assert coded(returned)[-1] == ("CEB626", 399), returned.text
    assert used - _used(database, s) == int(line.price * 100)  # one item's value, in fen


async def test_an_entry_of_no_declared_or_bonded_waybill_is_refused(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    site = make_party(SAMPLE_SITE.code, Role.OPERATOR)
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=303)
    unknown = await send(client, site, import_site_entry(s.deal))
    assert coded(unknown)[-1] == ("CEB712", 100)
    assert "no declared waybill" in unknown.json()["receipts"][-1]["return_info"]

    bonded = sample(Regime.BONDED, Direction.IMPORT, seed=303)
    await send_set(client, register(make_party, bonded), bonded)
    answer = await send(client, site, import_site_entry(bonded.deal))
    assert coded(answer)[-1] == ("CEB712", 100)
    assert "only direct-purchase import (9610)" in answer.json()["receipts"][-1]["return_info"]


async def test_a_forced_guarantee_deduction_failure(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=304)
    parties = register(make_party, s)
    ident = (await send_set(client, parties, s))[-1]["declaration"]["id"]
    forced = await client.post(
        f"/api/v1/declarations/{ident}/outcome",
        json={"outcome": "RELEASE+TAXFAIL"},
        headers=parties.agent.headers,
    )
    assert forced.status_code == 200, forced.text
    instant_engine(database).run_until_idle()
    receipts = await _history(client, parties.agent, ident)
    status = [r for r in receipts if r["message_code"] == "CEB818"]
    assert [r["return_status"] for r in status] == [1]  # the bill stays issued: unpaid
    assert "failed" in status[0]["return_info"]
    bill = await client.get(f"/api/v1/declarations/{ident}/tax-bill", headers=parties.agent.headers)
    assert (bill.json()["state"], bill.json()["ent_duty_no"]) == ("deduction_failed", None)


async def test_a_real_carrier_delivers_itself(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=305)
    parties = register(make_party, s)
    await real_senders(client, parties.carrier, CEB513="real")
    ident = (await send_set(client, parties, s))[-1]["declaration"]["id"]
    instant_engine(database).run_until_idle()
    codes = _codes(await _history(client, parties.agent, ident))
    assert ("CEB622", 899) in codes and not any(code == "CEB514" for code, _ in codes)
    delivered = await send(client, parties.carrier, import_delivery(s.deal))
    assert coded(delivered)[-1] == ("CEB514", 399)


async def test_who_plays_whom_is_each_enterprise_s_own_setting(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    party = make_party("4401961234", Role.EBP)
    other = make_party("4401961235", Role.EBP)
    shown = await client.get("/api/v1/enterprises/me/real-senders", headers=party.headers)
    everyone = {"CEB513": "danchuang", "CEB711": "danchuang", "CEB507": "danchuang"}
    assert shown.json() == {**everyone, "CEB509": "danchuang", "CEB607": "danchuang"}
    await real_senders(client, party, CEB513="real")
    theirs = await client.get("/api/v1/enterprises/me/real-senders", headers=other.headers)
    assert theirs.json()["CEB513"] == "danchuang"  # one enterprise's setting is its own
    bad = await client.put(
        "/api/v1/enterprises/me/real-senders", json={"CEB621": "real"}, headers=party.headers
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "real_senders.unknown_message")
    worse = await client.put(
        "/api/v1/enterprises/me/real-senders", json={"CEB513": "me"}, headers=party.headers
    )
    assert worse.json()["error"]["code"] == "real_senders.unknown_choice"
    assert await real_senders(client, party, CEB513="danchuang") == {
        **everyone,
        "CEB509": "danchuang",
        "CEB607": "danchuang",
    }
    none = await client.get("/api/v1/declarations/999999/tax-bill", headers=party.headers)
    assert none.status_code == 404


async def test_a_cancellation_after_release_voids_the_unpaid_bill(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=306)
    parties = register(make_party, s)
    ident = (await send_set(client, parties, s))[-1]["declaration"]["id"]
    with database.write() as session:  # released at 800: the bill is issued, not yet summed
        declaration = session.get_one(Declaration, ident)
        states.move(declaration, states.CLEARING)
        declaration.return_status = 800
        release = (declaration, datetime.now(UTC), None)
        (issued,) = tax_bills.issue_all(session, [release])
        assert session.get_one(TaxBillRow, issued).state == "issued"
        assert tax_bills.issue_all(session, [release]) == []  # once
        cancellations.apply(session, declaration)
    codes = _codes(await _history(client, parties.agent, ident))
    assert codes[-2:] == [("CEB816", 1), ("CEB818", 3)]
    bill = await client.get(f"/api/v1/declarations/{ident}/tax-bill", headers=parties.agent.headers)
    assert (bill.json()["status"], bill.json()["state"]) == (3, "void")
    with database.write() as session:  # void once: nothing more to void, nothing to sum
        assert not tax_bills.void(session, ident, datetime.now(UTC))
        assert tax_bills.sum_due(session, None) == 0
