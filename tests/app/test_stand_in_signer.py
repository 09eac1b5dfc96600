"""The parties danchuang plays sign with its stand-in signer (``declarations.sample_signer``):
an RSA-1024 key, the size of the official samples' certificates, published like the sample
signer's. The messages it plays carry the stand-in certificate and verify; a real enterprise's
message signed with that published key is judged exactly as one signed with the published
sample key: neither certificate is anyone's."""

from __future__ import annotations

import uuid

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key
from service_support import Party, PartyFactory
from sqlalchemy import select
from submission_helpers import (
    coded,
    document,
    new_guid,
    register,
    sample,
    send,
    send_set,
    set_field,
    xml,
)
from test_engine_support import instant_engine

from app.db.engine import Database
from app.db.models import DocumentRow
from app.services import certificates
from declarations import Direction, Kind, Regime, Signer
from declarations.pki import Certificate
from declarations.sample_signer import sample_signer, stand_in_signer
from declarations.samples import SampleSet
from declarations.xmldsig import sign_message, verify_signature

_SIGNED = ("CEB507", "CEB509", "CEB607", "CEB711")  # their schemas require a ds:Signature


def _bits(certificate: Certificate | None) -> int:
    """The size of the certificate's RSA key."""
    assert certificate is not None
    public = load_der_public_key(certificate.public_key)
    assert isinstance(public, rsa.RSAPublicKey)
    return public.key_size


async def test_the_parties_danchuang_plays_sign_with_the_stand_in_key(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    for seed, direction in ((801, Direction.EXPORT), (802, Direction.IMPORT)):
        s = sample(Regime.DIRECT, direction, seed=seed)
        await send_set(client, register(make_party, s), s)
    instant_engine(database).run_until_idle()
    with database.read() as session:
        played = list(
            session.execute(
                select(DocumentRow.message_code, DocumentRow.raw_xml).where(
                    DocumentRow.message_code.in_((*_SIGNED, "CEB513"))
                )
            )
        )
    _key, stand_in = stand_in_signer()
    assert sorted(code for code, _ in played) == ["CEB507", "CEB509", "CEB513", "CEB607", "CEB711"]
    for code, raw in played:
        checked = verify_signature(bytes(raw))
        if code == "CEB513":  # the delivery record's schema has no signature
            assert not checked.present
            continue
        assert checked.problems == {}, (code, checked.problems)
        assert checked.certificate == stand_in, code
        assert _bits(checked.certificate) == 1024


def test_the_stand_in_signer_is_not_the_sample_signer() -> None:
    (_k, sample_cert), (_s, stand_in) = sample_signer(), stand_in_signer()
    assert stand_in != sample_cert and stand_in.subject != sample_cert.subject
    assert "stand-in" in stand_in.subject and "trust nothing" in stand_in.subject
    assert (_bits(stand_in), _bits(sample_cert)) == (1024, 2048)


# --- a real enterprise signing with the published keys ----------------------------------------


def _order(s: SampleSet, signer: Signer) -> bytes:
    """The set's order as an order of its own (guid, orderNo), signed by ``signer``."""
    root = document(s, Kind.ORDER)
    guid = str(uuid.uuid4()).upper()
    new_guid(root, guid)
    set_field(root, "orderNo", f"ROGUE{guid[:8]}")
    key, certificate = signer
    return sign_message(xml(root), key, certificate)


async def _judged(client: httpx.AsyncClient, seller: Party, s: SampleSet, signer: Signer) -> tuple:
    """What the service answers: its HTTP status, its receipts, and the signature findings
    with their severities."""
    answer = await send(client, seller, _order(s, signer))
    report = answer.json()["report"]
    said = [(f["rule"], f["severity"]) for f in report["findings"] if "signature" in f["rule"]]
    return answer.status_code, coded(answer), said


async def test_a_real_enterprise_gains_nothing_from_the_stand_in_key(
    client: httpx.AsyncClient,
    strict: httpx.AsyncClient,
    make_party: PartyFactory,
    database: Database,
) -> None:
    """A seller signs its order with the published stand-in key, then with the published
    sample key: under ``require`` both are refused (certificate registered to nobody); under
    ``warn`` both go on, silently while the seller has registered no certificate, with a
    warning once it has."""
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=803)
    seller = register(make_party, s).seller
    refused = (201, [("CEB900", -1999)], [("signature.unknown-certificate", "error")])
    accepted = [("CEB312", 2), ("CEB312", 3), ("CEB312", 120)]
    for signer in (stand_in_signer(), sample_signer()):
        assert await _judged(strict, seller, s, signer) == refused
        assert await _judged(client, seller, s, signer) == (201, accepted, [])
    certificates.issue(database, seller.code)  # the seller now signs with its own key
    for signer in (stand_in_signer(), sample_signer()):
        warned = [("signature.unknown-certificate", "warning")]
        assert await _judged(client, seller, s, signer) == (201, accepted, warned)
        assert await _judged(strict, seller, s, signer) == refused


async def test_no_enterprise_may_register_a_published_certificate(
    client: httpx.AsyncClient, strict: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    """The rogue's shortcut: register the published stand-in (or sample) certificate as its
    own, then pass ``require`` with a key everyone has. Registration refuses both (403), so
    the order stays refused as signed by nobody's certificate."""
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=804)
    seller = register(make_party, s).seller
    for signer in (stand_in_signer(), sample_signer()):
        pem = signer[1].pem()
        answer = await client.post(
            "/api/v1/enterprises/me/certificates", json={"certificate": pem}, headers=seller.headers
        )
        assert (answer.status_code, answer.json()["error"]["code"]) == (
            403,
            "certificate.published_key",
        )
        refused = (201, [("CEB900", -1999)], [("signature.unknown-certificate", "error")])
        assert await _judged(strict, seller, s, signer) == refused
    mine = await client.get("/api/v1/enterprises/me/certificates", headers=seller.headers)
    assert mine.json() == []
