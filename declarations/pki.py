"""Signing keys and X.509 certificates: SM2 with SM3 (the 2022 algorithms) and RSA (2018).

    key = new_key(KeyType.SM2)                  # or load_private_key(pem)
    cert = issue_certificate(issuer_key=ca_key, issuer=ca_cert, subject_key=key, ...)
    cert = load_certificate(pem_or_der)         # CertificateError if it is not one
    cert.verify(data, signature)                # True / False

CEB spec 202205 §6.1 p. 109: certificates follow X.509 v3. None of the cryptography is
written here: SM2 signing and verification (GM/T 0003, the signer id and Z value of GM/T 0009)
come from ``gmssl``, RSA from ``cryptography``; certificates are read and built with
``asn1crypto``, because ``cryptography`` cannot load an SM2 key.

An SM2 signature is the raw ``r || s`` (64 bytes) when we make it; a DER ``SEQUENCE {r, s}``
is accepted too when verifying, since clients differ. Certificates are signed SM2-with-SM3
(OID 1.2.156.10197.1.501) by an SM2 issuer, sha256WithRSA by an RSA one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, cast

from asn1crypto import algos, core, keys, pem, x509  # type: ignore[import-untyped]
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from gmssl import sm2  # type: ignore[import-untyped]

__all__ = [
    "Certificate",
    "CertificateError",
    "KeyType",
    "PrivateKey",
    "Signer",
    "issue_certificate",
    "load_certificate",
    "load_private_key",
    "new_key",
]

SM2_CURVE = "1.2.156.10197.1.301"  # sm2p256v1 (GM/T 0006)
SM2_WITH_SM3 = "1.2.156.10197.1.501"
keys.NamedCurve.register("sm2p256v1", SM2_CURVE, 32)
_CURVE = sm2.default_ecc_table
_ORDER = int(_CURVE["n"], 16)


class KeyType(StrEnum):
    SM2 = "sm2"
    RSA = "rsa"


class CertificateError(ValueError):
    """Bytes that are not a certificate (or key) we can use; ``str()`` says why."""


def _sm2(private: int | None, public: bytes) -> Any:
    signer = sm2.CryptSM2(private_key="" if private is None else f"{private:064x}", public_key="")
    # Set after construction: gmssl's constructor strips a leading "04" with str.lstrip, which
    # also eats the point's own leading 0 and 4 digits (1 key in 256 starts with 04).
    signer.public_key = public.hex()
    return signer


def _raw_sm2_signature(signature: bytes) -> bytes | None:
    """``r || s`` from either form a client may send (see the module docstring)."""
    if len(signature) == 64:
        return signature
    try:
        return cast(bytes, algos.DSASignature.load(signature).to_p1363())
    except (ValueError, TypeError):
        return None


def _rsa_hash(name: str) -> hashes.HashAlgorithm:
    return hashes.SHA1() if name == "sha1" else hashes.SHA256()


@dataclass(frozen=True, slots=True)
class Certificate:
    """What a signature check needs of an X.509 certificate."""

    der: bytes
    subject: str  # the subject's common name
    organization: str | None  # the subject's O: the enterprise code, in our test certificates
    issuer: str
    serial: int
    not_before: datetime
    not_after: datetime
    key_type: KeyType
    public_key: bytes  # SM2: the point x || y (64 bytes); RSA: DER SubjectPublicKeyInfo

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the DER, lower-case hex: the certificate's identity in the registry."""
        return hashlib.sha256(self.der).hexdigest()

    def pem(self) -> str:
        return cast(bytes, pem.armor("CERTIFICATE", self.der)).decode("ascii")

    def valid_at(self, moment: datetime) -> bool:
        return self.not_before <= moment <= self.not_after

    def verify(self, data: bytes, signature: bytes, *, rsa_hash: str = "sha1") -> bool:
        """Whether ``signature`` is this certificate's key's signature of ``data`` (SM2 with
        SM3; RSA PKCS#1 v1.5 with ``rsa_hash``)."""
        if self.key_type is KeyType.SM2:
            raw = _raw_sm2_signature(signature)
            if raw is None:
                return False
            try:
                return bool(_sm2(None, self.public_key).verify_with_sm3(raw.hex(), data))
            except Exception:  # a sender's key that is no point on the curve, say
                return False
        try:
            public = serialization.load_der_public_key(self.public_key)
            if not isinstance(public, rsa.RSAPublicKey):
                return False
            public.verify(signature, data, padding.PKCS1v15(), _rsa_hash(rsa_hash))
        except (InvalidSignature, ValueError, UnsupportedAlgorithm):
            return False
        return True

    def signed_by(self, issuer: Certificate) -> bool:
        """Whether ``issuer``'s key signed this certificate."""
        cert = x509.Certificate.load(self.der)
        algorithm = cert["signature_algorithm"]["algorithm"].dotted
        rsa_hash = "sha1" if algorithm == "1.2.840.113549.1.1.5" else "sha256"
        signature = cert["signature_value"].native
        return issuer.verify(cert["tbs_certificate"].dump(), signature, rsa_hash=rsa_hash)


def _name_part(name: Any, part: str) -> str | None:
    value = name.native.get(part)
    return None if value is None else str(value)


def load_certificate(data: bytes | str) -> Certificate:
    """A certificate from PEM, DER, or Base64 DER (as ``ds:X509Certificate`` holds it)."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    try:
        if pem.detect(raw):
            _, _, der = pem.unarmor(raw)
        elif raw[:1] == b"\x30":
            der = raw
        else:
            der = base64.b64decode(re.sub(rb"\s+", b"", raw), validate=True)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise CertificateError(f"not an X.509 certificate ({exc})") from None
    return _read(bytes(der))


@lru_cache(maxsize=256)  # a sender signs with the same certificate again and again
def _read(der: bytes) -> Certificate:
    try:
        cert = x509.Certificate.load(der)
        tbs = cert["tbs_certificate"]
        info = tbs["subject_public_key_info"]
        algorithm = info["algorithm"]["algorithm"].native
        if algorithm == "ec" and info["algorithm"]["parameters"].chosen.dotted == SM2_CURVE:
            key_type, public = KeyType.SM2, info["public_key"].native[1:]  # drop the 04 prefix
        elif algorithm == "rsa":
            key_type, public = KeyType.RSA, info.dump()
        else:
            raise CertificateError(f"its key is {algorithm}: only SM2 and RSA keys sign messages")
        validity = tbs["validity"]
        return Certificate(
            der=cert.dump(),
            subject=_name_part(tbs["subject"], "common_name") or "",
            organization=_name_part(tbs["subject"], "organization_name"),
            issuer=_name_part(tbs["issuer"], "common_name") or "",
            serial=int(tbs["serial_number"].native),
            not_before=validity["not_before"].native.astimezone(UTC),
            not_after=validity["not_after"].native.astimezone(UTC),
            key_type=key_type,
            public_key=bytes(public),
        )
    except CertificateError:
        raise
    except Exception as exc:  # asn1crypto on a sender's bytes: any failure
        raise CertificateError(f"not an X.509 certificate ({exc})") from None


@dataclass(frozen=True, slots=True)
class PrivateKey:
    """A signing key: an SM2 scalar or an RSA key."""

    key_type: KeyType
    sm2_scalar: int = 0
    rsa_key: rsa.RSAPrivateKey | None = None

    @property
    def public_key(self) -> bytes:
        """As ``Certificate.public_key`` holds it."""
        if self.rsa_key is not None:
            return self.rsa_key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        point: str = _sm2(self.sm2_scalar, b"")._kg(self.sm2_scalar, _CURVE["g"])
        return bytes.fromhex(point)

    def sign(self, data: bytes, *, rsa_hash: str = "sha1") -> bytes:
        """SM2 with SM3 (``r || s``), or RSA PKCS#1 v1.5 with ``rsa_hash``."""
        if self.rsa_key is not None:
            return self.rsa_key.sign(data, padding.PKCS1v15(), _rsa_hash(rsa_hash))
        signer = _sm2(self.sm2_scalar, self.public_key)
        while True:  # gmssl gives None for the rare nonce that makes r or s zero
            nonce = f"{secrets.randbelow(_ORDER - 1) + 1:064x}"  # a CSPRNG, not gmssl's random
            value = signer.sign_with_sm3(data, nonce)
            if value is not None:
                return bytes.fromhex(value)

    def pem(self) -> str:
        """PKCS#8, unencrypted (a sandbox key)."""
        if self.rsa_key is not None:
            return self.rsa_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode("ascii")
        ec_key = keys.ECPrivateKey({
            "version": "ecPrivkeyVer1",
            "private_key": self.sm2_scalar,
            "public_key": b"\x04" + self.public_key,
        })  # fmt: skip
        info = keys.PrivateKeyInfo({
            "version": 0,
            "private_key_algorithm": {
                "algorithm": "ec",
                "parameters": keys.ECDomainParameters(name="named", value="sm2p256v1"),
            },
            "private_key": ec_key,
        })  # fmt: skip
        return cast(bytes, pem.armor("PRIVATE KEY", info.dump())).decode("ascii")


Signer = tuple[PrivateKey, Certificate]  # a key and its certificate


def new_key(key_type: KeyType = KeyType.SM2) -> PrivateKey:
    if key_type is KeyType.RSA:
        return PrivateKey(KeyType.RSA, rsa_key=rsa.generate_private_key(65537, 2048))
    return PrivateKey(KeyType.SM2, sm2_scalar=secrets.randbelow(_ORDER - 1) + 1)


def load_private_key(data: bytes | str) -> PrivateKey:
    """A PKCS#8 PEM key (SM2 or RSA), as ``PrivateKey.pem`` writes it."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else data
    try:
        _, _, der = pem.unarmor(raw)
        info = keys.PrivateKeyInfo.load(der)
        algorithm = info["private_key_algorithm"]["algorithm"].native
        if algorithm == "rsa":
            loaded = serialization.load_der_private_key(der, password=None)
            assert isinstance(loaded, rsa.RSAPrivateKey)
            return PrivateKey(KeyType.RSA, rsa_key=loaded)
        curve = info["private_key_algorithm"]["parameters"].chosen.dotted
        if algorithm != "ec" or curve != SM2_CURVE:
            raise CertificateError(f"a {algorithm} key: only SM2 and RSA keys sign messages")
        scalar = info["private_key"].parsed["private_key"].native
        return PrivateKey(KeyType.SM2, sm2_scalar=int(scalar))
    except CertificateError:
        raise
    except (ValueError, TypeError, KeyError, AssertionError) as exc:
        raise CertificateError(f"not a PKCS#8 PEM private key ({exc})") from None


def _public_key_info(key: PrivateKey) -> Any:
    if key.key_type is KeyType.RSA:
        return keys.PublicKeyInfo.load(key.public_key)
    return keys.PublicKeyInfo({
        "algorithm": {"algorithm": "ec",
                      "parameters": keys.ECDomainParameters(name="named", value="sm2p256v1")},
        "public_key": b"\x04" + key.public_key,
    })  # fmt: skip


def _name(common_name: str, organization: str | None) -> Any:
    parts = {"country_name": "CN", "common_name": common_name}
    if organization:
        parts["organization_name"] = organization
    return x509.Name.build(parts, use_printable=False)


def issue_certificate(
    *,
    issuer_key: PrivateKey,
    issuer: Certificate | None,
    subject_key: PrivateKey,
    common_name: str,
    organization: str | None = None,
    not_before: datetime | None = None,
    days: float = 365,
    authority: bool = False,
) -> Certificate:
    """A certificate for ``subject_key`` signed by ``issuer_key``; ``issuer=None`` makes it
    self-signed (the test CA's own). ``authority`` marks a CA certificate."""
    start = (not_before or datetime.now(UTC)).replace(microsecond=0)
    subject = _name(common_name, organization)
    issuer_name = subject if issuer is None else x509.Certificate.load(issuer.der).subject
    sm2_issuer = issuer_key.key_type is KeyType.SM2
    signature_algorithm = {"algorithm": SM2_WITH_SM3 if sm2_issuer else "sha256_rsa"}
    usage = {"key_cert_sign", "crl_sign"} if authority else {"digital_signature"}
    tbs = x509.TbsCertificate({
        "version": "v3",
        "serial_number": secrets.randbits(63) | 1,
        "signature": signature_algorithm,
        "issuer": issuer_name,
        "validity": {"not_before": x509.Time(name="utc_time", value=start),
                     "not_after": x509.Time(name="utc_time", value=start + timedelta(days=days))},
        "subject": subject,
        "subject_public_key_info": _public_key_info(subject_key),
        "extensions": [
            {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": authority}},
            {"extn_id": "key_usage", "critical": True, "extn_value": usage},
        ],
    })  # fmt: skip
    signature = issuer_key.sign(tbs.dump(), rsa_hash="sha256")
    if sm2_issuer:  # certificates carry SM2 signatures DER-encoded (GM/T 0010)
        signature = algos.DSASignature.from_p1363(signature).dump()
    cert = x509.Certificate({
        "tbs_certificate": tbs,
        "signature_algorithm": signature_algorithm,
        "signature_value": core.OctetBitString(signature),
    })  # fmt: skip
    return load_certificate(cert.dump())
