"""Who may submit and read what: each party sends only as itself, reads only its own sets."""

from __future__ import annotations

import httpx
from service_support import PartyFactory
from submission_helpers import XML, document, register, sample, send, send_set

from app.db.models import Role
from declarations.messages import Direction, Kind, Regime


async def test_an_enterprise_cannot_submit_as_another(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=51)
    parties = register(make_party, sample_set)
    # The payment company sending the seller's order: copCode names the seller.
    refused = await send(client, parties.payer, document(sample_set, Kind.ORDER))
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "access.cop_code_mismatch"
    assert error["message_en"] and error["message_zh"]
    # Nothing was stored for it: the seller's own order is still new.
    accepted = await send(client, parties.seller, document(sample_set, Kind.ORDER))
    assert accepted.status_code == 201


async def test_no_key_no_entry(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/documents", content=b"<x/>", headers=XML)
    assert response.status_code == 401


async def test_only_parties_read_a_declaration(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.EXPORT, seed=52)
    parties = register(make_party, sample_set)
    answers = await send_set(client, parties, sample_set)
    declaration_id = answers[-1]["declaration"]["id"]
    outsider = make_party("3301999999", Role.EBP, Role.AGENT)

    for party in (parties.seller, parties.payer, parties.carrier, parties.agent):
        ok = await client.get(f"/api/v1/declarations/{declaration_id}", headers=party.headers)
        assert ok.status_code == 200
    denied = await client.get(f"/api/v1/declarations/{declaration_id}", headers=outsider.headers)
    assert denied.status_code == 404
    assert denied.json()["error"]["code"] == "declaration.not_found"
    assert denied.json()["error"]["message_zh"]
    listed = await client.get("/api/v1/declarations", headers=outsider.headers)
    assert listed.json()["declarations"] == []

    # Documents (and their raw XML) are read by their sender only.
    order_id = answers[0]["document"]["id"]
    for path in (f"/api/v1/documents/{order_id}", f"/api/v1/documents/{order_id}/xml"):
        assert (await client.get(path, headers=parties.agent.headers)).status_code == 404
        assert (await client.get(path, headers=parties.seller.headers)).status_code == 200
