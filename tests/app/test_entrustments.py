"""An express operator or postal enterprise sends orders and payments for the parties that
entrust it (the official import structure names 受委托的快件运营人、邮政企业 among the senders of
CEB311 and CEB411); without an entrustment, or after it is revoked, it is refused."""

from __future__ import annotations

import httpx
from service_support import Party, PartyFactory
from submission_helpers import document, register, sample, send, set_field
from test_engine_support import instant_engine

from app import states
from app.db.engine import Database
from app.db.models import Declaration, Role
from declarations import Direction, Kind, Regime

POSTAL = "1100960POST"  # an express operator / postal enterprise


async def _entrust(
    client: httpx.AsyncClient, principal: Party, agent: str, message: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/entrustments",
        json={"agent": agent, "message": message},
        headers=principal.headers,
    )


async def test_an_entrusted_postal_enterprise_sends_the_order_and_payment_and_the_set_clears(
    client: httpx.AsyncClient, database: Database, make_party: PartyFactory
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=71)
    parties = register(make_party, s)
    postal = make_party(POSTAL, Role.EXPRESS)
    order, payment = document(s, Kind.ORDER), document(s, Kind.PAYMENT)
    for root in (order, payment):
        set_field(root, "copCode", POSTAL)  # the postal enterprise transmits them

    refused = await send(client, postal, order)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "access.not_a_party"

    assert (await _entrust(client, parties.seller, POSTAL, "CEB311")).status_code == 201
    assert (await _entrust(client, parties.payer, POSTAL, "CEB411")).status_code == 201
    for root in (order, payment):
        sent = await send(client, postal, root)
        assert sent.status_code == 201, sent.text
    assert (await send(client, parties.carrier, document(s, Kind.WAYBILL))).status_code == 201
    declared = (await send(client, parties.agent, document(s, Kind.INVENTORY))).json()
    declaration_id = declared["declaration"]["id"]
    assert declared["declaration"]["state"] == states.CLEARANCE_READY
    instant_engine(database).run_until_idle()
    with database.read() as session:
        declaration = session.get(Declaration, declaration_id)
        assert declaration is not None and declaration.state == states.CLEARED

    listed = await client.get("/api/v1/entrustments", headers=postal.headers)
    assert {(e["principal"], e["message"]) for e in listed.json()} == {
        (parties.seller.code, "CEB311"),
        (parties.payer.code, "CEB411"),
    }


async def test_a_revoked_entrustment_lets_nothing_more_through(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    first, second = (sample(Regime.DIRECT, Direction.IMPORT, seed=n) for n in (72, 73))
    parties = register(make_party, first)
    postal = make_party(POSTAL, Role.EXPRESS)
    given = (await _entrust(client, parties.seller, POSTAL, "CEB311")).json()
    again = await _entrust(client, parties.seller, POSTAL, "CEB311")
    assert again.status_code == 409
    order = document(first, Kind.ORDER)
    set_field(order, "copCode", POSTAL)
    assert (await send(client, postal, order)).status_code == 201

    # the postal enterprise cannot revoke, nor see another's entrustment as its own to revoke
    wrong = await client.delete(f"/api/v1/entrustments/{given['id']}", headers=postal.headers)
    assert wrong.status_code == 404
    revoked = await client.delete(
        f"/api/v1/entrustments/{given['id']}", headers=parties.seller.headers
    )
    assert revoked.status_code == 204
    later = document(second, Kind.ORDER)
    for name, value in (("copCode", POSTAL), ("ebcCode", parties.seller.code)):
        set_field(later, name, value)
    refused = await send(client, postal, later)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "access.not_a_party"


async def test_only_the_party_that_sends_a_message_entrusts_it_and_only_to_an_express_sender(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=74)
    parties = register(make_party, s)
    make_party(POSTAL, Role.EXPRESS)
    carrier_tries = await _entrust(client, parties.carrier, POSTAL, "CEB311")
    assert carrier_tries.status_code == 403
    assert carrier_tries.json()["error"]["code"] == "entrustment.not_your_message"
    to_a_carrier = await _entrust(client, parties.seller, parties.carrier.code, "CEB311")
    assert to_a_carrier.status_code == 422
    assert to_a_carrier.json()["error"]["code"] == "entrustment.agent_not_express"
    waybill = await _entrust(client, parties.carrier, POSTAL, "CEB511")
    assert waybill.status_code == 422
    unknown = await _entrust(client, parties.seller, "0000000000", "CEB311")
    assert unknown.status_code == 404
