"""Exported goods coming back through the live API (issue 14): the return application CEB213 →
CEB214 and the site's tally CEB215 → CEB216 (CEB spec 202205 §2.17-2.20), after the goods left
China. Both backends, real HTTP through the app, each party with its own key."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from service_support import PartyFactory
from submission_helpers import coded, real_senders, register, sample, send, send_set, set_field
from test_engine_support import instant_engine

from app.db.engine import Database
from app.db.models import Role
from declarations import Direction, Regime
from declarations.sample_export_followups import export_return, export_return_tally
from declarations.sample_followups import SAMPLE_SITE


def _reason(answer: httpx.Response) -> str:
    return str(answer.json()["receipts"][-1]["return_info"])


async def test_a_departed_export_comes_back_and_is_tallied(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s = sample(Regime.DIRECT, Direction.EXPORT, seed=421)
    parties = register(make_party, s)
    *_, inventory = await send_set(client, parties, s)
    ident, invt = inventory["declaration"]["id"], inventory["document"]["invt_no"]
    site = make_party(SAMPLE_SITE.code, Role.OPERATOR)
    early = await send(client, site, export_return_tally(s.deal, invt, minutes=60))
    assert coded(early)[-1] == ("CEB216", 100)  # no return awaits it
    instant_engine(database).run_until_idle()  # released and departed (danchuang's carrier)

    line = s.deal.lines[0]
    too_many = await send(
        client, parties.agent, export_return(s.deal, invt, {line.gnum: line.qty + 1})
    )
    assert coded(too_many)[-1] == ("CEB214", 100) and "left to return" in _reason(too_many)
    wrong_goods = export_return(s.deal, invt, {line.gnum: Decimal(1)}, reason="错货")
    for node in wrong_goods.iter("{*}gcode"):
        node.text = "0000000000"
    assert coded(await send(client, parties.agent, wrong_goods))[-1] == ("CEB214", -625209)
    wrong_mode = export_return(s.deal, invt, {line.gnum: Decimal(1)}, reason="错方式")
    for node in wrong_mode.iter("{*}tradeMode"):
        node.text = "1261"  # a special zone's: this 9610 export returns under 9661
    refused = await send(client, parties.agent, wrong_mode)
    assert coded(refused)[-1] == ("CEB214", 100) and "9661" in _reason(refused)
    rogue = make_party(sample(Regime.DIRECT, Direction.EXPORT, seed=422).deal.agent.code,
                       Role.AGENT)  # fmt: skip
    stolen = export_return(s.deal, invt, {line.gnum: Decimal(1)}, reason="冒名")
    for node in stolen.iter("{*}agentCode", "{*}copCode"):
        node.text = rogue.code
    posing = await send(client, rogue, stolen)
    assert (posing.status_code, posing.json()["error"]["code"]) == (403, "access.not_the_sender")

    returned = await send(
        client, parties.agent, export_return(s.deal, invt, {line.gnum: Decimal(1)})
    )
    assert coded(returned) == [("CEB214", 2), ("CEB214", 3), ("CEB214", 120)], returned.text
    tallied = await send(client, site, export_return_tally(s.deal, invt))
    assert coded(tallied) == [("CEB216", 2), ("CEB216", 3), ("CEB216", 399)], tallied.text
    again = await send(client, site, export_return_tally(s.deal, invt, minutes=15000))
    assert coded(again)[-1] == ("CEB216", 100)

    shown = await client.get(f"/api/v1/declarations/{ident}", headers=parties.agent.headers)
    history: list[dict[str, Any]] = shown.json()["history"]
    codes = [(e["message_code"], e["return_status"]) for e in history if e["event"] == "receipt"]
    assert codes[-1] == ("CEB214", 800)  # the return released once the parcel is back
    assert shown.json()["declaration"]["state"] == "cleared"
    hidden = await client.get(f"/api/v1/declarations/{ident}", headers=site.headers)
    assert hidden.status_code == 404  # the tally is the operator's own
    xml = await client.get(
        f"/api/v1/documents/{returned.json()['document']['id']}/receipts",
        headers={**parties.agent.headers, "Accept": "application/xml"},
    )
    assert xml.status_code == 200 and b"CEB214Message" in xml.content and b">800<" in xml.content


async def test_nothing_returns_before_it_left_or_from_another_consignor(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s = sample(Regime.DIRECT, Direction.EXPORT, seed=423)
    parties = register(make_party, s)
    await real_senders(client, parties.carrier, CEB509="real")
    *_, inventory = await send_set(client, parties, s)
    invt = inventory["document"]["invt_no"]
    instant_engine(database).run_until_idle()  # released (800), waiting for the departure
    line = s.deal.lines[0]
    early = await send(client, parties.agent, export_return(s.deal, invt, {line.gnum: Decimal(1)}))
    assert coded(early)[-1] == ("CEB214", 100) and "not left China" in _reason(early)
    other = export_return(s.deal, invt, {line.gnum: Decimal(1)}, reason="他人")
    for node in other.iter("{*}ebcCode"):
        node.text = "4401969997"
    assert coded(await send(client, parties.agent, other))[-1] == ("CEB214", -625204)


async def test_a_return_may_come_back_through_another_customs_district(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    # 跨关区退货: a 9610 export that left through its own customs comes back through another
    # district's site; the return names that district's customs and its operator tallies it.
    s = sample(Regime.DIRECT, Direction.EXPORT, seed=423)
    parties = register(make_party, s)
    *_, inventory = await send_set(client, parties, s)
    invt = inventory["document"]["invt_no"]
    instant_engine(database).run_until_idle()
    elsewhere = "4200" if s.deal.customs_code != "4200" else "4601"
    site = make_party("42069B0001", Role.OPERATOR)

    application = export_return(s.deal, invt, {s.deal.lines[0].gnum: Decimal(1)})
    for name in ("customsCode", "portCode"):
        set_field(application, name, elsewhere)
    returned = await send(client, parties.agent, application)
    assert coded(returned)[-1] == ("CEB214", 120), _reason(returned)
    tally = export_return_tally(s.deal, invt)
    set_field(tally, "customsCode", elsewhere)
    for name in ("operatorCode", "copCode"):
        set_field(tally, name, site.code)
    tallied = await send(client, site, tally)
    assert coded(tallied)[-1] == ("CEB216", 399), tallied.text
    path = f"/api/v1/documents/{returned.json()['document']['id']}/receipts"
    receipts = (await client.get(path, headers=parties.agent.headers)).json()["receipts"]
    assert receipts[-1]["return_status"] == 800  # released at the other district's site
