"""Enveloped signatures (CEB spec 202205 §6): SM2-SM3 and RSA-SHA1, what each failure is called,
and agreement with independent tools (xmlsec1 for RSA, OpenSSL for SM2)."""

from __future__ import annotations

import base64
import random
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import algos  # type: ignore[import-untyped]
from lxml import etree

from declarations import Direction, Regime, check, seal, validate
from declarations.findings import Layer, Severity
from declarations.pki import Certificate, KeyType, PrivateKey, issue_certificate, new_key
from declarations.samples import generate_sets, to_bytes
from declarations.signature_check import SignatureMode, SignaturePolicy
from declarations.xmldsig import (
    RSA_SHA1,
    SM2_SM3,
    Problem,
    sign_message,
    sign_tree,
    verify_signature,
)

_DS = "{http://www.w3.org/2000/09/xmldsig#}"


@dataclass(frozen=True)
class Holder:
    key: PrivateKey
    cert: Certificate


@pytest.fixture(scope="module")
def ca() -> Holder:
    key = new_key()
    cert = issue_certificate(
        issuer_key=key, issuer=None, subject_key=key, common_name="test CA", authority=True
    )
    return Holder(key, cert)


def holder(ca: Holder, code: str, key_type: KeyType = KeyType.SM2, **when: object) -> Holder:
    key = new_key(key_type)
    cert = issue_certificate(issuer_key=ca.key, issuer=ca.cert, subject_key=key,
                             common_name=f"ent {code}", organization=code, **when)  # type: ignore[arg-type]  # fmt: skip
    return Holder(key, cert)


@pytest.fixture(scope="module")
def order() -> bytes:
    sample = generate_sets(Regime.DIRECT, Direction.IMPORT, seed=31, count=1)[0]
    return to_bytes(sample.documents["order-CEB311.xml"])


class Registry:
    """A registry of certificates by fingerprint: ``CertificateOwners`` without a database."""

    def __init__(self, owners: dict[str, str]) -> None:
        self.owners = owners

    def owner(self, certificate: Certificate) -> str | None:
        return self.owners.get(certificate.fingerprint)

    def signs(self, enterprise: str) -> bool:
        return enterprise in self.owners.values()


def rules(data: bytes, policy: SignaturePolicy) -> list[str]:
    report = check(data, signatures=policy).report
    return [f.rule for f in report.findings if f.layer is Layer.SIGNATURE]


def test_a_message_signed_with_sm2_sm3_verifies(ca: Holder, order: bytes) -> None:
    ent = holder(ca, "3301960101")
    signed = sign_message(order, ent.key, ent.cert)
    checked = verify_signature(signed)
    assert checked.problems == {}
    assert checked.signature_method == SM2_SM3
    assert checked.certificate == ent.cert
    assert rules(signed, SignaturePolicy(SignatureMode.REQUIRE)) == []
    # the bytes before the signature are the message's own
    assert signed.split(b"<ds:Signature")[0].rstrip() == order.rsplit(b"</", 1)[0].rstrip()


def test_each_failure_has_its_own_finding_id(ca: Holder, order: bytes) -> None:
    ent, other = holder(ca, "3301960101"), holder(ca, "3301960102")
    registry = Registry({ent.cert.fingerprint: "3301960101", other.cert.fingerprint: "3301960102"})
    policy = SignaturePolicy(SignatureMode.REQUIRE, owners=registry, sender="3301960101")
    signed = sign_message(order, ent.key, ent.cert)
    assert rules(signed, policy) == []
    # one byte of the payload changed
    tampered = signed.replace(b"<ceb:orderNo>", b"<ceb:orderNo>X", 1)
    assert rules(tampered, policy) == ["signature.digest-mismatch"]
    # another enterprise's certificate
    assert rules(sign_message(order, other.key, other.cert), policy) == [
        "signature.other-enterprise"
    ]
    # an expired certificate, registered to the sender
    old = holder(ca, "3301960101", not_before=datetime.now(UTC) - timedelta(days=30), days=10)
    registry.owners[old.cert.fingerprint] = "3301960101"
    assert rules(sign_message(order, old.key, old.cert), policy) == [
        "signature.expired-certificate"
    ]
    # nobody's certificate
    stranger = holder(ca, "3301960199")
    assert rules(sign_message(order, stranger.key, stranger.cert), policy) == [
        "signature.unknown-certificate"
    ]
    # a missing signature, under require only
    assert rules(order, policy) == ["signature.missing"]
    assert rules(order, SignaturePolicy(SignatureMode.WARN)) == []
    # a signature value made with another key than the certificate's
    forged = sign_message(order, other.key, ent.cert)
    assert rules(forged, policy) == ["signature.bad-value"]
    # an algorithm the spec does not list
    sha256 = signed.replace(RSA_SHA1.encode(), b"").replace(
        SM2_SM3.encode(), b"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    )
    assert rules(sha256, policy) == ["signature.algorithm-not-allowed"]
    # no certificate in KeyInfo
    root = etree.fromstring(signed)
    x509 = root.find(f".//{_DS}X509Data")
    assert x509 is not None
    x509.getparent().remove(x509)  # type: ignore[union-attr]
    assert rules(etree.tostring(root), policy) == ["signature.malformed"]


def test_severity_follows_the_mode(ca: Holder, order: bytes) -> None:
    ent = holder(ca, "3301960101")
    tampered = sign_message(order, ent.key, ent.cert).replace(
        b"<ceb:orderNo>", b"<ceb:orderNo>X", 1
    )
    warn = check(tampered, signatures=SignaturePolicy(SignatureMode.WARN)).report
    assert warn.valid and [f.severity for f in warn.findings] == [Severity.WARNING]
    required = check(tampered, signatures=SignaturePolicy(SignatureMode.REQUIRE)).report
    assert not required.valid
    assert [(f.rule, f.spec_code) for f in required.findings] == [
        ("signature.digest-mismatch", "1004")
    ]
    assert check(tampered, signatures=SignaturePolicy(SignatureMode.OFF)).report.findings == []


def test_rsa_can_be_refused_and_warn_asks_ownership_only_of_a_signing_sender(
    ca: Holder, order: bytes
) -> None:
    rsa = holder(ca, "3301960101", KeyType.RSA)
    signed = sign_message(order, rsa.key, rsa.cert)
    assert verify_signature(signed).signature_method == RSA_SHA1
    sm2_only = SignaturePolicy(SignatureMode.REQUIRE, allowed=frozenset({SM2_SM3}))
    assert rules(signed, sm2_only) == ["signature.algorithm-not-allowed"]
    nobody = Registry({})  # the sender has registered nothing: not signing yet
    quiet = SignaturePolicy(SignatureMode.WARN, owners=nobody, sender="3301960101")
    assert rules(signed, quiet) == []
    strict = SignaturePolicy(SignatureMode.REQUIRE, owners=nobody, sender="3301960101")
    assert rules(signed, strict) == ["signature.unknown-certificate"]


def test_a_signed_envelope_is_checked_too(ca: Holder, order: bytes) -> None:
    ent = holder(ca, "3301960101")
    envelope = seal(
        sign_message(order, ent.key, ent.cert), cop_msg_id="C1", sender_id="DXPENT0000000001",
        receiver_ids=("DXPEDCCEB0000002",), msg_type="CEB311Message",
        created=datetime(2026, 12, 5, 10, 0),
    )  # fmt: skip
    signed = sign_message(envelope, ent.key, ent.cert)
    policy = SignaturePolicy(SignatureMode.REQUIRE)
    assert rules(signed, policy) == []
    data = etree.fromstring(signed).find("{http://www.chinaport.gov.cn/dxp}Data")
    assert data is not None
    data.text = base64.b64encode(order.replace(b"<ceb:orderNo>", b"<ceb:orderNo>Y", 1)).decode()
    report = check(etree.tostring(data.getroottree()), signatures=policy).report
    assert [(f.rule, f.xpath) for f in report.findings if f.layer is Layer.SIGNATURE] == [
        ("signature.missing", "/ceb:CEB311Message/ds:Signature"),
        ("signature.digest-mismatch", "/dxp:DxpMsg/ds:Signature"),
    ]


def test_the_sample_signatures_verify_and_survive_an_indented_copy(order: bytes) -> None:
    sample = generate_sets(Regime.DIRECT, Direction.IMPORT, seed=32, count=1)[0]
    data = to_bytes(sample.documents["inventory-CEB621.xml"])
    assert verify_signature(data).problems == {}
    reparsed = etree.fromstring(data, etree.XMLParser(remove_blank_text=True))
    indented = etree.tostring(reparsed, pretty_print=True)
    assert Problem.DIGEST in verify_signature(indented).problems  # the blank text is signed content


def test_a_tree_signed_as_built_is_the_message_signed_as_written(ca: Holder, order: bytes) -> None:
    """``sign_tree`` (the samples' and danchuang's played messages, signed as built) signs what
    ``sign_message`` signs of the tree written: the same bytes (RSA-SHA1 is deterministic), for
    a compact tree, one already signed (replaced) and an indented one."""
    rsa = holder(ca, "3301960101", KeyType.RSA)
    compact = etree.fromstring(order, etree.XMLParser(remove_blank_text=True))
    indented = etree.fromstring(order)
    signed_before = etree.fromstring(sign_message(etree.tostring(compact), rsa.key, rsa.cert))
    for root in (compact, indented, signed_before):
        written = sign_message(etree.tostring(root, encoding="UTF-8"), rsa.key, rsa.cert)
        sign_tree(root, rsa.key, rsa.cert)
        assert etree.tostring(root, encoding="UTF-8") == written
        assert len(root.findall(f"{_DS}Signature")) == 1
        assert verify_signature(written).problems == {}
    ent = holder(ca, "3301960102")  # SM2's signature is random: it verifies
    sign_tree(compact, ent.key, ent.cert)
    assert verify_signature(etree.tostring(compact)).problems == {}


@pytest.mark.official
def test_the_official_samples_signatures_are_placeholders(official_dir: Path) -> None:
    """Every official 202205 sample carries the same signature: an RSA certificate under the
    SM2-SM3 method URI, and a 20-byte digest that matches nothing. docs/api.md says so."""
    files = sorted((official_dir / "samples").rglob("*.xml"))
    signed = [f for f in files if b"<ds:Signature" in f.read_bytes()]
    assert len(signed) >= 19
    for path in signed:
        problems = verify_signature(path.read_bytes()).problems
        assert set(problems) == {Problem.DIGEST, Problem.VALUE}, path.name
        report = validate(path.read_bytes())
        assert all(f.severity is Severity.WARNING for f in report.findings
                   if f.layer is Layer.SIGNATURE)  # fmt: skip


# -- independent tools ------------------------------------------------------------------------

needs_xmlsec1 = pytest.mark.skipif(
    shutil.which("xmlsec1") is None, reason="xmlsec1 is not installed (Debian package xmlsec1)"
)

_TEMPLATE = (
    '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
    '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'
    f'<ds:SignatureMethod Algorithm="{RSA_SHA1}"/><ds:Reference URI=""><ds:Transforms>'
    '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
    '</ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>'
    "<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/>"
    "<ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>"
)


def _files(tmp_path: Path, ent: Holder) -> tuple[Path, Path]:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    key.write_text(ent.key.pem())
    cert.write_text(ent.cert.pem())
    return key, cert


@needs_xmlsec1
def test_a_message_signed_by_xmlsec1_with_rsa_sha1_verifies(
    ca: Holder, order: bytes, tmp_path: Path
) -> None:
    ent = holder(ca, "3301960101", KeyType.RSA)
    key, cert = _files(tmp_path, ent)
    end = order.rindex(b"</ceb:CEB311Message>")
    (tmp_path / "template.xml").write_bytes(order[:end] + _TEMPLATE.encode() + order[end:])
    subprocess.run(
        ["xmlsec1", "--sign", "--privkey-pem", f"{key},{cert}", "--output",
         str(tmp_path / "signed.xml"), str(tmp_path / "template.xml")],
        check=True, capture_output=True,
    )  # fmt: skip
    signed = (tmp_path / "signed.xml").read_bytes()
    checked = verify_signature(signed)
    assert checked.problems == {} and checked.certificate == ent.cert
    assert (
        Problem.DIGEST
        in verify_signature(signed.replace(b"<ceb:orderNo>", b"<ceb:orderNo>Z", 1)).problems
    )


@needs_xmlsec1
def test_xmlsec1_verifies_what_danchuang_signs_with_rsa(
    ca: Holder, order: bytes, tmp_path: Path
) -> None:
    ent = holder(ca, "3301960101", KeyType.RSA)
    _, cert = _files(tmp_path, ent)
    signed = sign_message(order, ent.key, ent.cert)

    def xmlsec1_verify(data: bytes) -> subprocess.CompletedProcess[str]:
        (tmp_path / "signed.xml").write_bytes(data)
        return subprocess.run(
            ["xmlsec1", "--verify", "--enabled-reference-uris", "empty", "--pubkey-cert-pem",
             str(cert), str(tmp_path / "signed.xml")],
            check=False, capture_output=True, text=True,
        )  # fmt: skip

    done = xmlsec1_verify(signed)
    # (xmlsec1 also notes that it cannot build the KeyInfo certificate's chain: its issuer is
    # the SM2 test CA; the key it verifies with is the one given)
    assert done.returncode == 0 and "OK" in done.stderr.splitlines(), done.stderr
    tampered = xmlsec1_verify(signed.replace(b"<ceb:orderNo>", b"<ceb:orderNo>Z", 1))
    assert tampered.returncode != 0 and "FAIL" in tampered.stderr.splitlines()


def _openssl_sm2() -> bool:
    if shutil.which("openssl") is None:
        return False
    listed = ["openssl", "list", "-digest-algorithms"]
    done = subprocess.run(listed, check=False, capture_output=True, text=True)
    return "SM3" in done.stdout.upper()


@pytest.mark.skipif(not _openssl_sm2(), reason="this OpenSSL has no SM2/SM3")
def test_sm2_signatures_agree_with_openssl(ca: Holder, tmp_path: Path) -> None:
    """GM/T 0009's default signer id (1234567812345678), both ways."""
    ent = holder(ca, "3301960101")
    key, cert = _files(tmp_path, ent)
    message = tmp_path / "message.bin"
    message.write_bytes("报文 message".encode())
    pub = tmp_path / "pub.pem"
    subprocess.run(["openssl", "x509", "-in", str(cert), "-pubkey", "-noout", "-out", str(pub)],
                   check=True)  # fmt: skip
    (tmp_path / "ours.sig").write_bytes(
        algos.DSASignature.from_p1363(ent.key.sign(message.read_bytes())).dump()
    )
    distid = ["-pkeyopt", "distid:1234567812345678"]
    ok = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(pub), "-rawin", "-digest",
         "sm3", "-in", str(message), "-sigfile", str(tmp_path / "ours.sig"), *distid],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert "Signature Verified Successfully" in ok.stdout, ok.stderr
    subprocess.run(
        ["openssl", "pkeyutl", "-sign", "-inkey", str(key), "-rawin", "-digest", "sm3",
         "-in", str(message), "-out", str(tmp_path / "theirs.sig"), *distid],
        check=True, capture_output=True,
    )  # fmt: skip
    theirs = (tmp_path / "theirs.sig").read_bytes()
    assert ent.cert.verify(message.read_bytes(), theirs)
    assert not ent.cert.verify(b"another message", theirs)
    chain = subprocess.run(
        ["openssl", "verify", "-vfyopt", "distid:1234567812345678", "-CAfile", "/dev/stdin",
         str(cert)],
        input=ca.cert.pem(), check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert chain.returncode == 0, chain.stderr


def test_a_mangled_signature_is_a_finding_never_an_exception(ca: Holder, order: bytes) -> None:
    """Bytes from a rogue sender: a certificate, a value or a digest changed at random."""
    ent = holder(ca, "3301960101")
    signed = sign_message(order, ent.key, ent.cert)
    rng = random.Random(12)
    for tag in (b"X509Certificate", b"SignatureValue", b"DigestValue"):
        start = signed.index(b"<ds:" + tag + b">") + len(tag) + 5
        end = signed.index(b"</ds:" + tag + b">")
        raw = bytearray(base64.b64decode(signed[start:end]))
        for _ in range(60):
            mangled = bytearray(raw)
            for at in rng.sample(range(len(mangled)), rng.randint(1, 4)):
                mangled[at] = (mangled[at] + rng.randrange(1, 256)) % 256  # a different byte
            data = signed[:start] + base64.b64encode(bytes(mangled)) + signed[end:]
            found = rules(data, SignaturePolicy(SignatureMode.REQUIRE))
            assert all(r.startswith("signature.") for r in found), (tag, found)
            # (a byte of the certificate outside its key, say in its own signature, leaves the
            # message's signature sound: whose certificate it is, the registry says)
            assert found or tag == b"X509Certificate", tag


def test_an_sm2_key_whose_point_starts_with_04_signs_and_verifies() -> None:
    """gmssl strips a leading "04" from a public key with str.lstrip; such keys (1 in 256) must
    work like any other (found in CI: the customs key once started so)."""
    scalar = next(
        n for n in range(1, 5000) if PrivateKey(KeyType.SM2, sm2_scalar=n).public_key[:1] == b"\x04"
    )
    key = PrivateKey(KeyType.SM2, sm2_scalar=scalar)
    cert = issue_certificate(issuer_key=key, issuer=None, subject_key=key, common_name="04")
    assert cert.signed_by(cert)
    assert cert.verify(b"message", key.sign(b"message"))
