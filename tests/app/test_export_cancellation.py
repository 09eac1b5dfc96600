"""Cancelling an export 清单 through the live API (issue 14): the 撤销申请单 CEB605, answered
with CEB606 (CEB spec 202205 §2.13-2.14), allowed from customs' acceptance (120) to release
(800) and refused with the codes of table 7-2 (p. 114) otherwise; only the 清单's declarant
cancels it. Both backends, real HTTP through the app, each party with its own key."""

from __future__ import annotations

import httpx
from service_support import PartyFactory
from submission_helpers import coded, real_senders, register, sample, send, send_set
from test_engine_support import instant_engine

from app import states
from app.db.engine import Database
from app.db.models import Declaration, Role
from declarations import Direction, Regime
from declarations.sample_export_followups import export_arrival, export_cancellation
from declarations.sample_followups import SAMPLE_SITE


async def test_an_export_decided_and_waiting_for_its_goods_is_cancelled(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s = sample(Regime.DIRECT, Direction.EXPORT, seed=411)
    parties = register(make_party, s)
    await real_senders(client, parties.agent, CEB507="real")  # it waits at 399 for the goods
    *_, inventory = await send_set(client, parties, s)
    ident, invt = inventory["declaration"]["id"], inventory["document"]["invt_no"]
    instant_engine(database).run_until_idle()

    posing = await send(client, parties.carrier, export_cancellation(s.deal, invt))
    assert posing.status_code == 403  # the carrier is not the declarant (agentCode)
    other = sample(Regime.DIRECT, Direction.EXPORT, seed=412)
    rogue = make_party(other.deal.agent.code, Role.AGENT)
    stolen = export_cancellation(other.deal, invt)
    for node in stolen.iter("{*}ebcCode"):
        node.text = s.deal.seller.code  # another declarant naming this 清单 exactly
    refused = await send(client, rogue, stolen)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "access.not_the_sender")
    wrong = export_cancellation(s.deal, invt, reason="错单")
    for node in wrong.iter("{*}ebcCode"):
        node.text = "4401969998"  # another consignor's 清单 of that number: not found
    answer = await send(client, parties.agent, wrong)
    assert coded(answer)[-1] == ("CEB606", -623003), answer.text

    cancelled = await send(client, parties.agent, export_cancellation(s.deal, invt))
    assert coded(cancelled) == [("CEB606", 2), ("CEB606", 3), ("CEB606", 399)], cancelled.text
    again = await send(client, parties.agent, export_cancellation(s.deal, invt, reason="再撤"))
    assert coded(again)[-1] == ("CEB606", -623009)
    with database.read() as session:
        row = session.get(Declaration, ident)
        assert row is not None and row.state == states.CANCELLED
    # the goods that come after are refused: the 清单 is finished
    site = make_party(SAMPLE_SITE.code, Role.OPERATOR)
    late = await send(client, site, export_arrival(s.deal))
    assert coded(late)[-1] == ("CEB508", 100)
    receipts = await client.get(
        f"/api/v1/documents/{cancelled.json()['document']['id']}/receipts",
        headers={**parties.agent.headers, "Accept": "application/xml"},
    )
    assert receipts.status_code == 200 and b"CEB606Message" in receipts.content
    assert invt.encode() in receipts.content


async def test_a_departed_export_is_not_cancelled(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s = sample(Regime.DIRECT, Direction.EXPORT, seed=413)
    parties = register(make_party, s)
    *_, inventory = await send_set(client, parties, s)
    invt = inventory["document"]["invt_no"]
    instant_engine(database).run_until_idle()  # danchuang's site and carrier: closed, 899
    answer = await send(client, parties.agent, export_cancellation(s.deal, invt))
    assert coded(answer)[-1] == ("CEB606", -623005)
    assert "899" in answer.json()["receipts"][-1]["return_info"]
