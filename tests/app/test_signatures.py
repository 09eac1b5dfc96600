"""Signatures through the live API (CEB spec 202205 §6): certificates registered and issued,
messages judged under ``warn`` and ``require``, receipts signed by customs."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from lxml import etree
from service_support import Party, PartyFactory
from submission_helpers import XML, Parties, coded, document, new_guid, register, sample, send, xml

from app.db.engine import Database
from app.services import certificates
from declarations import DXP_NS, Direction, Kind, Regime, seal
from declarations.pki import (
    Certificate,
    KeyType,
    PrivateKey,
    issue_certificate,
    load_certificate,
    load_private_key,
    new_key,
)
from declarations.xmldsig import sign_message, verify_signature

_MINE = "/api/v1/enterprises/me/certificates"


async def _issue(
    client: httpx.AsyncClient, party: Party, **body: Any
) -> tuple[PrivateKey, Certificate]:
    answer = await client.post(f"{_MINE}/issue", json=body, headers=party.headers)
    assert answer.status_code == 201, answer.text
    issued = answer.json()
    return load_private_key(issued["private_key_pem"]), load_certificate(issued["certificate_pem"])


def _signature_rules(answer: httpx.Response) -> list[str]:
    report = answer.json()["report"]
    return [f["rule"] for f in report["findings"] if f["rule"].startswith("signature.")]


async def test_certificates_are_registered_listed_and_withdrawn(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    seller, other = make_party("3301960301", "ebc"), make_party("3301960302", "ebc")  # type: ignore[arg-type]
    key = new_key()
    mine = issue_certificate(issuer_key=key, issuer=None, subject_key=key, common_name="own")
    registered = await client.post(_MINE, json={"certificate": mine.pem()}, headers=seller.headers)
    assert registered.status_code == 201, registered.text
    assert registered.json()["fingerprint"] == mine.fingerprint
    assert registered.json()["key_type"] == "sm2"
    again = await client.post(_MINE, json={"certificate": mine.pem()}, headers=seller.headers)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "certificate.registered")
    theirs = await client.post(_MINE, json={"certificate": mine.pem()}, headers=other.headers)
    assert (
        theirs.status_code == 409 and "another enterprise" in theirs.json()["error"]["message_en"]
    )
    bad = await client.post(
        _MINE, json={"certificate": "not a certificate"}, headers=seller.headers
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "certificate.invalid")
    old = issue_certificate(issuer_key=key, issuer=None, subject_key=key, common_name="old",
                            not_before=datetime.now(UTC) - timedelta(days=9), days=3)  # fmt: skip
    expired = await client.post(_MINE, json={"certificate": old.pem()}, headers=seller.headers)
    assert (expired.status_code, expired.json()["error"]["code"]) == (422, "certificate.expired")
    # a certificate issued to another registered enterprise (its code in the subject's O)
    issued_to_other = issue_certificate(issuer_key=key, issuer=None, subject_key=key,
                                        common_name="x", organization=other.code)  # fmt: skip
    squat = await client.post(
        _MINE, json={"certificate": issued_to_other.pem()}, headers=seller.headers
    )
    assert (squat.status_code, squat.json()["error"]["code"]) == (
        403,
        "certificate.names_another_enterprise",
    )
    listed = await client.get(_MINE, headers=seller.headers)
    assert [c["fingerprint"] for c in listed.json()] == [mine.fingerprint]
    assert (await client.get(_MINE, headers=other.headers)).json() == []
    gone = await client.delete(f"{_MINE}/{mine.fingerprint}", headers=other.headers)
    assert gone.status_code == 404  # not theirs to withdraw
    gone = await client.delete(f"{_MINE}/{mine.fingerprint}", headers=seller.headers)
    assert gone.status_code == 204
    assert (await client.get(_MINE, headers=seller.headers)).json() == []


async def test_the_sandbox_publishes_its_certificates(client: httpx.AsyncClient) -> None:
    customs = await client.get("/api/v1/certificates/customs")
    ca = await client.get("/api/v1/certificates/ca")
    assert customs.status_code == ca.status_code == 200
    assert customs.headers["content-type"].startswith("application/x-pem-file")
    assert load_certificate(customs.text).signed_by(load_certificate(ca.text))
    assert (await client.get("/api/v1/certificates/nope")).status_code == 404


async def test_under_require_each_failure_is_refused_with_its_ceb900_code(
    strict: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=71)
    parties = register(make_party, s)
    key, cert = await _issue(strict, parties.seller)

    def order() -> bytes:  # each attempt is a message of its own (a new guid)
        root = document(s, Kind.ORDER)
        new_guid(root, str(uuid.uuid4()).upper())
        return xml(root)

    unsigned = await send(strict, parties.seller, order())
    assert coded(unsigned) == [("CEB900", -1001)]
    assert _signature_rules(unsigned) == ["signature.missing"]

    tampered = sign_message(order(), key, cert).replace(b"<ceb:orderNo>", b"<ceb:orderNo>X", 1)
    answer = await send(strict, parties.seller, tampered)
    assert (coded(answer), _signature_rules(answer)) == (
        [("CEB900", -1004)],
        ["signature.digest-mismatch"],
    )

    payer_key, payer_cert = await _issue(strict, parties.payer)
    answer = await send(strict, parties.seller, sign_message(order(), payer_key, payer_cert))
    assert (coded(answer), _signature_rules(answer)) == (
        [("CEB900", -1999)],
        ["signature.other-enterprise"],
    )

    old_key, old_cert = certificates.issue(
        database, parties.seller.code, not_before=datetime.now(UTC) - timedelta(days=40), days=30
    )
    answer = await send(strict, parties.seller, sign_message(order(), old_key, old_cert))
    assert (coded(answer), _signature_rules(answer)) == (
        [("CEB900", -1002)],
        ["signature.expired-certificate"],
    )

    accepted = await send(strict, parties.seller, sign_message(order(), key, cert))
    assert accepted.status_code == 201, accepted.text
    assert [status for _, status in coded(accepted)][:1] == [2]
    assert _signature_rules(accepted) == []


async def test_under_warn_a_bad_signature_is_reported_and_the_message_goes_on(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=72)
    parties = register(make_party, s)
    key, cert = await _issue(client, parties.seller, key_type="rsa")
    order = xml(document(s, Kind.ORDER))
    tampered = sign_message(order, key, cert).replace(b"<ceb:orderNo>", b"<ceb:orderNo>X", 1)
    answer = await send(client, parties.seller, tampered)
    assert answer.status_code == 201
    assert [status for _, status in coded(answer)][:1] == [2]
    findings = answer.json()["report"]["findings"]
    assert [(f["rule"], f["severity"]) for f in findings] == [
        ("signature.digest-mismatch", "warning")
    ]


def _dxp_id(party: Party) -> str:
    return f"DXP{party.code}"[:16]


async def _enveloped_receipt(
    client: httpx.AsyncClient, parties: Parties, s: Any
) -> tuple[bytes, bytes]:
    seller = parties.seller
    answer = await client.put(
        "/api/v1/enterprises/me/dxp-id", json={"dxp_id": _dxp_id(seller)}, headers=seller.headers
    )
    assert answer.status_code == 200
    sealed = seal(
        xml(document(s, Kind.ORDER)), cop_msg_id="COP-1", sender_id=_dxp_id(seller),
        receiver_ids=("DXPEDCCEB0000002",), msg_type="CEB311Message",
        created=datetime(2026, 12, 5, 10, 0, 0),
    )  # fmt: skip
    sent = await send(client, seller, sealed)
    assert sent.status_code == 201, sent.text
    pulled = await client.get(
        f"/api/v1/documents/{sent.json()['document']['id']}/receipts",
        params={"format": "xml"}, headers=seller.headers,
    )  # fmt: skip
    customs = await client.get("/api/v1/certificates/customs")
    return pulled.content, customs.content


async def test_receipts_in_a_dxpmsg_verify_with_the_published_customs_certificate(
    client: httpx.AsyncClient, make_party: PartyFactory, official_dir: Path
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=73)
    receipt, customs_pem = await _enveloped_receipt(client, register(make_party, s), s)
    checked = verify_signature(receipt)
    assert checked.problems == {}
    assert checked.certificate == load_certificate(customs_pem)
    assert checked.certificate is not None and checked.certificate.key_type is KeyType.SM2
    terminal = etree.XMLSchema(etree.parse(official_dir / "xsd/ceb-terminal-202205.xsd"))
    root = etree.fromstring(receipt)
    assert terminal.validate(root), terminal.error_log
    data = root.find(f"{{{DXP_NS}}}Data")
    assert data is not None and b"CEB312Message" in base64.b64decode(data.text or "")
    forged = receipt.replace(b"<dxp:CopMsgId>", b"<dxp:CopMsgId>X", 1)
    assert not verify_signature(forged).present or verify_signature(forged).problems


async def test_a_signed_message_keeps_its_bytes_and_the_headers_say_xml(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=74)
    parties = register(make_party, s)
    key, cert = await _issue(client, parties.seller)
    signed = sign_message(xml(document(s, Kind.ORDER)), key, cert)
    answer = await client.post(
        "/api/v1/documents", content=signed, headers={**parties.seller.headers, **XML}
    )
    assert answer.status_code == 201 and _signature_rules(answer) == []
    stored = await client.get(
        f"/api/v1/documents/{answer.json()['document']['id']}/xml", headers=parties.seller.headers
    )
    assert stored.content == signed and verify_signature(stored.content).problems == {}
