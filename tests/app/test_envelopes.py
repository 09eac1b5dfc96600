"""Messages in transport envelopes through the live API (CEB spec 202205 §4-5): the sender's
registered DXP id, receipts answered in a DxpMsg, a broken envelope answered with a CEB900."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from service_support import Party, PartyFactory, loopback_server, push_everything
from submission_helpers import XML, Parties, document, register, sample, send, xml

from app.db.engine import Database
from app.services.transport import CUSTOMS_DXP_ID
from declarations import BY_ROOT, CEB_NS, DXP_NS, Direction, Kind, Regime, seal

_D = "{" + DXP_NS + "}"


@pytest.fixture(scope="module")
def terminal_schema(official_dir: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(official_dir / "xsd/ceb-terminal-202205.xsd"))


def _dxp_id(party: Party) -> str:
    return f"DXP{party.code}"[:16]


async def _register_dxp_ids(client: httpx.AsyncClient, parties: Parties) -> None:
    for party in (parties.seller, parties.payer, parties.carrier, parties.agent):
        answer = await client.put(
            "/api/v1/enterprises/me/dxp-id",
            json={"dxp_id": _dxp_id(party)},
            headers=party.headers,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["dxp_id"] == _dxp_id(party)


def _sealed(party: Party, root: etree._Element, *, msg_type: str | None = None) -> bytes:
    return seal(
        xml(root),
        cop_msg_id=f"COP-{root.get('guid')}",
        sender_id=_dxp_id(party),
        receiver_ids=("DXPEDCCEB0000002",),
        msg_type=msg_type or etree.QName(root).localname,
        created=datetime(2026, 12, 5, 10, 0, 0),
    )


def _opened(envelope: bytes, terminal: etree.XMLSchema, party: Party) -> etree._Element:
    """The receipt in a DxpMsg answer, after checking the envelope itself."""
    root = etree.fromstring(envelope)
    assert terminal.validate(root), terminal.error_log
    assert root.findtext(f"{_D}TransInfo/{_D}SenderId") == CUSTOMS_DXP_ID
    assert root.findtext(f"{_D}TransInfo/{_D}ReceiverIds/{_D}ReceiverId") == _dxp_id(party)
    receipt = etree.fromstring(base64.b64decode(root.findtext(f"{_D}Data") or ""))
    assert root.findtext(f"{_D}TransInfo/{_D}MsgType") == etree.QName(receipt).localname
    return receipt


async def test_a_set_sent_in_envelopes_is_answered_in_envelopes(
    client: httpx.AsyncClient, make_party: PartyFactory, terminal_schema: etree.XMLSchema
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=61)
    parties = register(make_party, s)
    await _register_dxp_ids(client, parties)
    answers = {}
    for what in (Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY):
        party = parties.sender(what)
        sent = await send(client, party, _sealed(party, document(s, what)))
        assert sent.status_code == 201, sent.text
        answers[what] = sent.json()
        root = document(s, what)
        assert (
            answers[what]["document"]["message_code"] == BY_ROOT[etree.QName(root).localname].code
        )
    assert answers[Kind.INVENTORY]["declaration"]["state"] == "clearance_ready"

    agent = parties.agent
    pulled = await client.get(
        f"/api/v1/documents/{answers[Kind.INVENTORY]['document']['id']}/receipts",
        params={"format": "xml"},
        headers=agent.headers,
    )
    receipt = _opened(pulled.content, terminal_schema, agent)
    assert receipt.tag == f"{{{CEB_NS}}}CEB622Message"
    assert [n.findtext(f"{{{CEB_NS}}}returnStatus") for n in receipt] == ["2", "3"]

    # bare messages are still answered bare
    s2 = sample(Regime.DIRECT, Direction.IMPORT, seed=62)
    parties2 = register(make_party, s2)
    bare = await send(client, parties2.seller, document(s2, Kind.ORDER), format="xml")
    assert etree.fromstring(bare.content).tag == f"{{{CEB_NS}}}CEB312Message"


async def test_an_envelope_must_name_the_senders_registered_dxp_id(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=63)
    parties = register(make_party, s)
    order = document(s, Kind.ORDER)
    unregistered = await send(client, parties.seller, _sealed(parties.seller, order))
    assert unregistered.status_code == 403
    assert unregistered.json()["error"]["code"] == "access.not_your_dxp_id"
    await _register_dxp_ids(client, parties)
    # the payer's DXP id on the seller's envelope
    forged = seal(
        xml(order),
        cop_msg_id="C",
        sender_id=_dxp_id(parties.payer),
        receiver_ids=("X",),
        msg_type="CEB311Message",
        created=datetime(2026, 1, 1),
    )
    refused = await send(client, parties.seller, forged)
    assert refused.status_code == 403
    taken = await client.put(
        "/api/v1/enterprises/me/dxp-id",
        json={"dxp_id": _dxp_id(parties.payer)},
        headers=parties.seller.headers,
    )
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "enterprise.dxp_id_taken"
    accepted = await send(client, parties.seller, _sealed(parties.seller, order))
    assert accepted.status_code == 201, accepted.text


async def test_a_broken_envelope_gets_a_ceb900_in_a_dxpmsg(
    client: httpx.AsyncClient,
    make_party: PartyFactory,
    terminal_schema: etree.XMLSchema,
    official_dir: Path,
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=64)
    parties = register(make_party, s)
    await _register_dxp_ids(client, parties)
    order = document(s, Kind.ORDER)
    sent = await send(
        client, parties.seller, _sealed(parties.seller, order, msg_type="CEB411Message")
    )
    answer = sent.json()
    assert [(r["message_code"], r["return_status"]) for r in answer["receipts"]] == [("CEB900", -2)]
    assert "schema.envelope-msg-type" in answer["receipts"][0]["return_info"]
    pulled = await client.get(
        f"/api/v1/documents/{answer['document']['id']}/receipts",
        params={"format": "xml"},
        headers=parties.seller.headers,
    )
    receipt = _opened(pulled.content, terminal_schema, parties.seller)
    imports = etree.XMLSchema(etree.parse(official_dir / "xsd/ceb-import-202205.xsd"))
    assert imports.validate(receipt), imports.error_log
    assert receipt.findtext(f"{{{CEB_NS}}}MessageReturn/{{{CEB_NS}}}oriCopMsgId") == (
        f"COP-{order.get('guid')}"
    )
    missing = await client.post(
        "/api/v1/documents",
        content=b'<dxp:DxpMsg xmlns:dxp="' + DXP_NS.encode() + b'" ver="1.0"/>',
        headers={**parties.seller.headers, **XML},
    )
    assert missing.status_code == 422
    findings = missing.json()["report"]["findings"]
    assert {(f["rule"], f["field"]) for f in findings} == {("schema.envelope", "TransInfo")}


async def test_a_webhook_that_asks_for_xml_gets_receipts_in_kind(
    client: httpx.AsyncClient, database: Database, make_party: PartyFactory
) -> None:
    """The sender of an enveloped document gets its receipts' XML in a DxpMsg; receipts of
    documents it did not send come bare."""
    bodies: list[dict[str, Any]] = []

    def answer(request: BaseHTTPRequestHandler) -> None:
        bodies.append(json.loads(request.rfile.read(int(request.headers["Content-Length"]))))
        request.send_response(204)
        request.end_headers()

    s = sample(Regime.DIRECT, Direction.IMPORT, seed=65)
    parties = register(make_party, s)
    await _register_dxp_ids(client, parties)
    with loopback_server(answer) as url:
        hook = await client.post(
            "/api/v1/webhooks", json={"url": url, "xml": True}, headers=parties.seller.headers
        )
        assert hook.status_code == 201 and hook.json()["xml"] is True
        seller = parties.seller
        assert (
            await send(client, seller, _sealed(seller, document(s, Kind.ORDER)))
        ).status_code == 201
        for what in (Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY):
            assert (await send(client, parties.sender(what), document(s, what))).status_code == 201
        push_everything(database)
    roots = {}
    for body in bodies:
        root = etree.fromstring(body["xml"].encode())
        if root.tag == f"{_D}DxpMsg":
            root = etree.fromstring(base64.b64decode(root.findtext(f"{_D}Data") or ""))
            roots.setdefault("enveloped", set()).add(etree.QName(root).localname)
        else:
            roots.setdefault("bare", set()).add(etree.QName(root).localname)
    assert roots["enveloped"] == {"CEB312Message"}  # its own order's receipts
    assert "CEB622Message" in roots["bare"]  # the 清单 the agent sent bare
