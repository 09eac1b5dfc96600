"""Intake keeps what it learned: once a document is stored, its XML is never read again.

Each test overwrites the stored bytes of a set's documents with something that is not XML at
all, then goes on: the set advances, reconciles and counts its quota, its receipts come back as
CEB XML, a waybill is adopted, and the engine clears the declaration with the outcome its
清单's note forces. Any code that parsed the stored XML again would fail here.
"""

from __future__ import annotations

import httpx
from lxml import etree
from service_support import PartyFactory
from sqlalchemy import update
from submission_helpers import document, register, sample, send, set_field, statuses
from test_engine_support import instant_engine, receipt_codes, sample_set
from test_engine_support import statuses as declaration_statuses

from app import states
from app.db.engine import Database
from app.db.models import Declaration, DocumentRow
from declarations import CEB_NS, Direction, Kind, Regime

NOT_XML = b"\x00 not xml: intake kept the facts"


def _spoil_stored_xml(database: Database) -> None:
    with database.write() as session:
        session.execute(update(DocumentRow).values(raw_xml=NOT_XML))


async def test_a_set_advances_and_answers_without_its_stored_xml(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    deal = sample_set("9610", "import", note="DANCHUANG:INSPECT", seed=41)
    parties = register(make_party, deal)
    # the 清单 before its waybill: the waybill then joins through the stored 清单's keys
    sent = {}
    for wanted in (Kind.ORDER, Kind.PAYMENT, Kind.INVENTORY):
        response = await send(client, parties.sender(wanted), document(deal, wanted))
        assert response.status_code == 201, response.text
        sent[wanted] = response.json()["document"]["id"]
        _spoil_stored_xml(database)
    waybill = await send(client, parties.carrier, document(deal, Kind.WAYBILL))
    assert waybill.status_code == 201, waybill.text
    answer = waybill.json()
    declaration_id = answer["declaration"]["id"]
    assert answer["declaration"]["state"] == "clearance_ready"  # reconciled, quota counted
    _spoil_stored_xml(database)

    # the receipts as CEB XML, keys and all, from the kept facts
    xml = await client.get(
        f"/api/v1/documents/{sent[Kind.INVENTORY]}/receipts",
        headers={**parties.agent.headers, "Accept": "application/xml"},
    )
    assert xml.status_code == 200, xml.text
    agent_codes = etree.fromstring(xml.content).findall(f".//{{{CEB_NS}}}agentCode")
    assert agent_codes and {a.text for a in agent_codes} == {deal.deal.agent.code}

    # the engine reads the 清单's note (DANCHUANG:INSPECT) from the facts
    instant_engine(database).run_until_idle()
    with database.read() as session:
        declaration = session.get(Declaration, declaration_id)
        assert declaration is not None and declaration.state == states.CLEARED
    assert 500 in declaration_statuses(database, declaration_id)  # inspected, as forced
    assert "CEB622" in receipt_codes(database, declaration_id)


async def test_a_refused_set_is_refused_from_its_facts(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    deal = sample(Regime.DIRECT, Direction.IMPORT, seed=42)
    parties = register(make_party, deal)
    set_field(document(deal, Kind.WAYBILL), "consigneeTelephone", "13900000000")
    for wanted in (Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL):
        assert (
            await send(client, parties.sender(wanted), document(deal, wanted))
        ).status_code == 201
        _spoil_stored_xml(database)
    refused = (await send(client, parties.agent, document(deal, Kind.INVENTORY))).json()
    assert statuses(refused) == [2, 3, 100]
    assert "reconcile.consignee" in refused["receipts"][-1]["return_info"]
