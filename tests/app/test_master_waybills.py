"""The master-and-sub waybill list through the live API (issue 14): 清单总分单 CEB607 → CEB608
(CEB spec 202205 §2.15-2.16) binds export parcels to a master waybill and a flight, supplies the
transport fields their 清单 left for later and must agree with those it declared; danchuang
plays the carrier when no real one sends it. Both backends, real HTTP through the app."""

from __future__ import annotations

import uuid

import httpx
from lxml import etree
from service_support import PartyFactory
from sqlalchemy import select
from submission_helpers import coded, real_senders, register, sample, send, send_set
from test_engine_support import instant_engine

from app.db.engine import Database
from app.db.models import DocumentRow, Role
from declarations import Direction, Regime
from declarations.sample_export_followups import Voyage, master_waybill_record
from declarations.samples import SampleSet

TRANSPORT = ("trafName", "voyageNo", "billNo")


def _later(s: SampleSet) -> None:
    """The 清单 leaves its flight and master waybill for later (后置申报, §2.11.4 p. 29)."""
    inventory = s.documents["inventory-CEB603.xml"]
    for name in TRANSPORT:
        for node in inventory.iter(f"{{*}}{name}"):
            node.getparent().remove(node)


def _list(s: SampleSet, invt: str | None, voyage: Voyage) -> etree._Element:
    deal = s.deal
    return master_waybill_record(deal.agent, deal.carrier, deal.customs_code, voyage,
                                 [(deal.logistics_no, invt)], gross_weight="1.5",
                                 when=deal.stamp(200), guid=str(uuid.uuid4()).upper())  # fmt: skip


def _raw(database: Database, code: str) -> bytes:
    """The latest stored message of ``code``."""
    with database.read() as session:
        found = session.scalar(
            select(DocumentRow.raw_xml)
            .where(DocumentRow.message_code == code)
            .order_by(DocumentRow.id.desc())
            .limit(1)
        )
    assert found is not None
    return bytes(found)


async def test_a_list_supplies_the_flight_the_departure_then_takes(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s = sample(Regime.DIRECT, Direction.EXPORT, seed=431)
    _later(s)
    parties = register(make_party, s)
    await real_senders(client, parties.carrier, CEB607="real")
    *_, inventory = await send_set(client, parties, s)
    invt = inventory["document"]["invt_no"]
    flight = Voyage("5", "CZ3105", "20261205", "784-10000001")

    nobody = _list(s, None, flight)
    for node in nobody.iter("{*}logisticsNo"):
        node.text = "EX000000000000"  # a parcel of this carrier nobody declared
    unknown = await send(client, parties.carrier, nobody)
    assert coded(unknown)[-1] == ("CEB608", 100), unknown.text  # no declared waybill
    wrong = await send(client, parties.carrier, _list(s, "2991" + "0" * 14, flight))
    assert coded(wrong)[-1] == ("CEB608", 100)  # its 清单 is another
    site = make_party("4401961111", Role.OPERATOR)
    posing = await send(client, site, _list(s, invt, flight))
    assert posing.status_code == 403

    bound = await send(client, parties.carrier, _list(s, invt, flight))
    assert coded(bound) == [("CEB608", 2), ("CEB608", 3), ("CEB608", 120)], bound.text
    moved = Voyage("5", "CZ3105", "20261205", "784-99999999")
    again = await send(client, parties.carrier, _list(s, invt, moved))
    assert coded(again)[-1] == ("CEB608", 100)  # bound to 784-10000001 already
    assert "784-10000001" in again.json()["receipts"][-1]["return_info"]

    instant_engine(database).run_until_idle()  # danchuang's site and departure
    departure = etree.fromstring(_raw(database, "CEB509"))
    head = {etree.QName(n).localname: n.text for n in next(departure.iter("{*}DepartureHead"))}
    assert (head["trafName"], head["voyageNo"], head["billNo"]) == (
        "CZ3105",
        "20261205",
        "784-10000001",
    )


async def test_a_list_must_agree_with_its_list_and_danchuang_plays_the_carrier(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s = sample(Regime.DIRECT, Direction.EXPORT, seed=433)
    parties = register(make_party, s)
    *_, inventory = await send_set(client, parties, s)
    invt = inventory["document"]["invt_no"]
    declared = {
        n: next(s.documents["inventory-CEB603.xml"].iter(f"{{*}}{n}")).text for n in TRANSPORT
    }
    another = Voyage("5", "MU0001", declared["voyageNo"] or "", declared["billNo"] or "")
    mismatch = await send(client, parties.carrier, _list(s, invt, another))
    assert coded(mismatch)[-1] == ("CEB608", 100)
    assert f"trafName {declared['trafName']}" in mismatch.json()["receipts"][-1]["return_info"]

    instant_engine(database).run_until_idle()
    # danchuang, playing the carrier, bound the parcel to the 清单's own flight, then departed
    played = etree.fromstring(_raw(database, "CEB607"))
    assert played.findtext(".//{*}trafName") == declared["trafName"]
    assert played.findtext(".//{*}billNo") == declared["billNo"]
    shown = await client.get(
        f"/api/v1/declarations/{inventory['declaration']['id']}", headers=parties.agent.headers
    )
    assert shown.json()["declaration"]["state"] == "cleared"
