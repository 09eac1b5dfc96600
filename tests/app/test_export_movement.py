"""The export goods at the site through the live API (issue 14): release waits for the site's
arrival record (运抵单 CEB507 → CEB508), and the carrier's departure record (离境单 CEB509 →
CEB510) closes the released 清单 (CEB604 899), with danchuang playing the site and the carrier
or waiting for the real ones, each with its own key. Both backends, real HTTP through the
app."""

from __future__ import annotations

import httpx
from service_support import Party, PartyFactory
from sqlalchemy import select
from submission_helpers import coded, real_senders, register, sample, send, send_set
from test_engine_support import instant_engine

from app import states
from app.db.engine import Database
from app.db.models import Declaration, DocumentRow, Receipt, Role
from app.services.stand_ins import SITE
from declarations import Direction, Regime
from declarations.sample_export_followups import export_arrival, export_departure
from declarations.sample_followups import SAMPLE_SITE


async def _codes(client: httpx.AsyncClient, party: Party, ident: int) -> list[tuple[str, int]]:
    shown = await client.get(f"/api/v1/declarations/{ident}", headers=party.headers)
    assert shown.status_code == 200, shown.text
    receipts = [e for e in shown.json()["history"] if e["event"] == "receipt"]
    return [(r["message_code"], r["return_status"]) for r in receipts]


def _receipt_ids(database: Database, code: str, status: int) -> list[int]:
    with database.read() as session:
        return list(
            session.scalars(
                select(Receipt.id)
                .where(Receipt.message_code == code, Receipt.return_status == status)
                .order_by(Receipt.id)
            )
        )


async def test_danchuang_plays_the_site_and_the_carrier_of_an_export(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s = sample(Regime.DIRECT, Direction.EXPORT, seed=401)
    parties = register(make_party, s)
    ident = (await send_set(client, parties, s))[-1]["declaration"]["id"]
    instant_engine(database).run_until_idle()

    codes = await _codes(client, parties.agent, ident)
    assert codes[-2:] == [("CEB604", 800), ("CEB604", 899)]
    # danchuang's site sent the arrival before release, its carrier the departure before 899,
    # each answered 2 → 3 → 399 (海关审结, CEB spec 202205 §2.8.4, §2.10.4)
    (arrived,) = _receipt_ids(database, "CEB508", 399)
    (departed,) = _receipt_ids(database, "CEB510", 399)
    (released,) = _receipt_ids(database, "CEB604", 800)
    (closed,) = _receipt_ids(database, "CEB604", 899)
    assert arrived < released < departed < closed
    with database.read() as session:
        row = session.get(Declaration, ident)
        assert row is not None and row.state == states.CLEARED and row.return_status == 899
        assert row.site_entered_at is not None
        senders = {
            code: sender
            for code, sender in session.execute(
                select(DocumentRow.message_code, DocumentRow.sender_id).where(
                    DocumentRow.message_code.in_(("CEB507", "CEB509", "CEB505"))
                )
            )
        }
    # the arrival by danchuang's own site operator, the departure as the set's carrier
    assert senders["CEB509"] == senders["CEB505"] and senders["CEB507"] != senders["CEB505"]
    site = await client.get("/api/v1/enterprises/me", headers=parties.agent.headers)
    assert site.status_code == 200 and SITE.code != parties.agent.code


async def test_a_real_site_and_a_real_carrier_each_with_its_own_key(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    """Released only after the site's 507; closed only by the carrier's 509, which is refused
    before the release and a second time."""
    s = sample(Regime.DIRECT, Direction.EXPORT, seed=402)
    parties = register(make_party, s)
    chosen = await real_senders(client, parties.agent, CEB507="real")
    assert (chosen["CEB507"], chosen["CEB509"]) == ("real", "danchuang")
    await real_senders(client, parties.carrier, CEB509="real")
    ident = (await send_set(client, parties, s))[-1]["declaration"]["id"]
    engine = instant_engine(database)
    engine.run_until_idle()
    codes = await _codes(client, parties.agent, ident)
    assert ("CEB604", 399) in codes and ("CEB604", 800) not in codes  # decided, waiting

    early = await send(client, parties.carrier, export_departure(s.deal))
    assert coded(early)[-1] == ("CEB510", 100)
    assert "not released" in early.json()["receipts"][-1]["return_info"]

    site = make_party(SAMPLE_SITE.code, Role.OPERATOR)
    forged = export_arrival(s.deal, minutes=121)
    for node in forged.iter("{*}copCode", "{*}operatorCode"):
        node.text = parties.carrier.code  # a carrier posing as the site
    posing = await send(client, parties.carrier, forged)
    assert (posing.status_code, posing.json()["error"]["code"]) == (403, "access.role_missing")

    arrived = await send(client, site, export_arrival(s.deal))
    assert coded(arrived) == [("CEB508", 2), ("CEB508", 3), ("CEB508", 399)], arrived.text
    again = await send(client, site, export_arrival(s.deal, minutes=122))
    assert "at the site already" in again.json()["receipts"][-1]["return_info"]
    # the site reads its own receipts, not the set whose parcel it recorded
    hidden = await client.get(f"/api/v1/declarations/{ident}", headers=site.headers)
    assert hidden.status_code == 404

    engine.run_until_idle()
    codes = await _codes(client, parties.agent, ident)
    assert ("CEB604", 800) in codes and ("CEB604", 899) not in codes  # waits for the carrier
    assert arrived.json()["receipts"][-1]["id"] < _receipt_ids(database, "CEB604", 800)[0]

    departed = await send(client, parties.carrier, export_departure(s.deal, minutes=481))
    assert coded(departed)[-1] == ("CEB510", 399), departed.text
    codes = await _codes(client, parties.agent, ident)
    assert codes[-1] == ("CEB604", 899)
    twice = await send(client, parties.carrier, export_departure(s.deal, minutes=482))
    assert coded(twice)[-1] == ("CEB510", 100)
    assert "departed already" in twice.json()["receipts"][-1]["return_info"]
    with database.read() as session:
        row = session.get(Declaration, ident)
        assert row is not None and row.state == states.CLEARED
    receipt = await client.get(
        f"/api/v1/documents/{departed.json()['document']['id']}/receipts",
        headers={**parties.carrier.headers, "Accept": "application/xml"},
    )
    assert receipt.status_code == 200 and b"CEB510Message" in receipt.content


async def test_an_arrival_of_an_import_waybill_is_refused(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    site = make_party(SAMPLE_SITE.code, Role.OPERATOR)
    unknown = sample(Regime.DIRECT, Direction.EXPORT, seed=403)
    answer = await send(client, site, export_arrival(unknown.deal))
    assert coded(answer)[-1] == ("CEB508", 100)
    assert "no declared waybill" in answer.json()["receipts"][-1]["return_info"]
