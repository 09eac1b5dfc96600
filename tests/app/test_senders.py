"""Senders and forms the spec allows beyond the usual party: a CEB403 without payCode (CEB spec
202205 §2.3.4 p. 9: payCode is required of domestic payment companies only) is sent by the
e-commerce enterprise collecting the money, and its set clears."""

from __future__ import annotations

import httpx
from lxml import etree
from service_support import PartyFactory
from submission_helpers import document, register, sample, send, set_field
from test_engine_support import instant_engine

from app import states
from app.db.engine import Database
from app.db.models import Declaration
from declarations import CEB_NS, Direction, Kind, Regime


async def test_a_receipt_of_payment_without_paycode_is_the_sellers_and_clears(
    client: httpx.AsyncClient, database: Database, make_party: PartyFactory
) -> None:
    s = sample(Regime.DIRECT, Direction.EXPORT, seed=81)
    parties = register(make_party, s)
    receipt = document(s, Kind.PAYMENT)
    pay_code = receipt.find(f".//{{{CEB_NS}}}payCode")
    assert pay_code is not None
    pay_code.getparent().remove(pay_code)  # type: ignore[union-attr]
    set_field(receipt, "payName", "现金支付")
    set_field(receipt, "copCode", parties.seller.code)

    by_the_payer = await send(client, parties.payer, receipt)
    assert by_the_payer.status_code == 403  # it names no payment company: not the payer's
    declaration_id = None
    for what, party in (
        (Kind.ORDER, parties.seller),
        (Kind.PAYMENT, parties.seller),
        (Kind.WAYBILL, parties.carrier),
        (Kind.INVENTORY, parties.agent),
    ):
        root = receipt if what is Kind.PAYMENT else document(s, what)
        sent = await send(client, party, root)
        assert sent.status_code == 201, (etree.QName(root).localname, sent.text)
        declaration_id = (sent.json()["declaration"] or {}).get("id", declaration_id)
    instant_engine(database).run_until_idle()
    with database.read() as session:
        declaration = session.get(Declaration, declaration_id)
        assert declaration is not None and declaration.state == states.CLEARED


async def test_a_special_area_export_list_under_trademode_1239_is_a_1210_declaration_and_clears(
    client: httpx.AsyncClient, database: Database, make_party: PartyFactory
) -> None:
    """The official export structure names 1239 beside 1210 for special-area export."""
    s = sample(Regime.BONDED, Direction.EXPORT, seed=82)
    parties = register(make_party, s)
    inventory = document(s, Kind.INVENTORY)
    set_field(inventory, "tradeMode", "1239")
    declaration_id = None
    for what in (Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY):
        root = inventory if what is Kind.INVENTORY else document(s, what)
        sent = await send(client, parties.sender(what), root)
        assert sent.status_code == 201, sent.text
        assert sent.json()["report"]["valid"], sent.json()["report"]
        declaration_id = (sent.json()["declaration"] or {}).get("id", declaration_id)
    instant_engine(database).run_until_idle()
    with database.read() as session:
        declaration = session.get(Declaration, declaration_id)
        assert declaration is not None and declaration.regime == "1210"
        assert declaration.state == states.CLEARED
