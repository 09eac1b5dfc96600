"""Signing certificates: the ones enterprises register, and the sandbox's own keys.

CEB spec 202205 §6 has every declared message signed with the sender's X.509 certificate,
which the real E-Port knows because the enterprise applied for it (§6.1 p. 109: 向数据分中心
申请设备证书). Here an enterprise registers its certificates itself
(``POST /api/v1/enterprises/me/certificates``), or has the sandbox's test certificate authority
issue one (``danchuang certs issue --enterprise CODE``). One certificate belongs to one
enterprise.

Signature checks (``declarations.signature_check``) ask ``RegisteredOwners`` whose a certificate
is (under ``warn``, only for a sender that has registered a certificate itself).

The sandbox's own keys (``AuthorityKey``) are made on first use and kept in the database, so
that every process of one deployment shares them: the test CA's, and customs' SM2 key that
signs the receipts danchuang sends in a ``DxpMsg``. Their certificates are published at
``GET /api/v1/certificates/ca`` and ``/customs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import bindparam, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts import Principal, find_enterprise
from app.db.engine import Database
from app.db.models import AuthorityKey, Enterprise, SigningCertificate
from app.errors import ServiceError, conflict, forbidden, not_found
from declarations import (
    RSA_SHA1,
    SM2_SM3,
    Certificate,
    CertificateError,
    KeyType,
    PrivateKey,
    SignatureMode,
    SignaturePolicy,
    Signer,
    issue_certificate,
    load_certificate,
    load_private_key,
    new_key,
)
from declarations.samples import published_certificates

CA_NAME = "danchuang sandbox test CA"
CUSTOMS_NAME = "danchuang sandbox customs"


def register(session: Session, principal: Principal, text: str) -> SigningCertificate:
    """Register ``text`` (PEM, or Base64 DER) as one of ``principal``'s certificates."""
    try:
        certificate = load_certificate(text)
    except CertificateError as exc:
        raise ServiceError(
            422, "certificate.invalid", f"certificate: {exc}", f"证书无法读取：{exc}"
        ) from None
    if certificate.fingerprint in published_certificates():
        raise forbidden(
            "certificate.published_key",
            "this is one of danchuang's published sample certificates: its private key is in "
            "the project for anyone to sign with, so it proves nothing of you; register your own",
            "此为danchuang公开的样例证书，其私钥随项目公开，任何人都可用其签名，不能证明贵企业"
            "身份：请登记贵企业自己的证书",
        )
    named = certificate.organization
    if named and named != principal.code and _registered(session, named):
        raise forbidden(
            "certificate.names_another_enterprise",
            f"the certificate is issued to enterprise {named}, not to you",
            f"该证书颁发给企业{named}，不属于贵企业",
        )
    if certificate.not_after < datetime.now(UTC):
        raise ServiceError(
            422,
            "certificate.expired",
            f"the certificate expired on {certificate.not_after:%Y-%m-%d}",
            f"证书已于{certificate.not_after:%Y-%m-%d}过期",
        )
    return _store(session, principal.id, certificate)


def _registered(session: Session, code: str) -> bool:
    return session.scalar(select(exists().where(Enterprise.code == code))) is True


def _store(session: Session, enterprise_id: int, certificate: Certificate) -> SigningCertificate:
    taken = session.scalar(
        select(SigningCertificate).where(SigningCertificate.fingerprint == certificate.fingerprint)
    )
    if taken is not None:  # whose it is stays unsaid when it is another's
        mine = taken.enterprise_id == enterprise_id
        raise conflict(
            "certificate.registered",
            "you have registered this certificate already"
            if mine
            else "this certificate is registered to another enterprise",
            "贵企业已登记此证书" if mine else "此证书已由其他企业登记",
        )
    row = SigningCertificate(
        enterprise_id=enterprise_id,
        fingerprint=certificate.fingerprint,
        subject=certificate.subject[:200],
        key_type=certificate.key_type.value,
        not_before=certificate.not_before,
        not_after=certificate.not_after,
        der=certificate.der,
    )
    session.add(row)
    session.flush()
    return row


def certificates_of(session: Session, enterprise_id: int) -> list[SigningCertificate]:
    return list(
        session.scalars(
            select(SigningCertificate)
            .where(SigningCertificate.enterprise_id == enterprise_id)
            .order_by(SigningCertificate.id)
        )
    )


def remove(session: Session, principal: Principal, fingerprint: str) -> None:
    """Withdraw one of ``principal``'s certificates; messages it signed stay as they were."""
    row = session.scalar(
        select(SigningCertificate).where(
            SigningCertificate.fingerprint == fingerprint.lower(),
            SigningCertificate.enterprise_id == principal.id,
        )
    )
    if row is None:
        raise not_found(
            "certificate.not_found",
            f"you have no certificate with fingerprint {fingerprint}",
            f"贵企业没有指纹为{fingerprint}的证书",
        )
    session.delete(row)


class RegisteredOwners:
    """``declarations.signature_check.CertificateOwners`` over the registry."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def owner(self, certificate: Certificate) -> str | None:
        with self.database.read() as session:
            return session.scalar(_OWNER, {"fingerprint": certificate.fingerprint})

    def signs(self, enterprise: str) -> bool:
        with self.database.read() as session:
            return bool(session.scalar(_SIGNS, {"code": enterprise}))


# What ``RegisteredOwners`` asks for each signed message, built once.
_OWNER = (
    select(Enterprise.code)
    .join(SigningCertificate, SigningCertificate.enterprise_id == Enterprise.id)
    .where(SigningCertificate.fingerprint == bindparam("fingerprint"))
)
_SIGNS = select(
    exists()
    .where(SigningCertificate.enterprise_id == Enterprise.id)
    .where(Enterprise.code == bindparam("code"))
)


def signature_policy(
    database: Database, principal: Principal, mode: SignatureMode, *, allow_rsa: bool
) -> SignaturePolicy:
    """How ``principal``'s messages are judged: the registry is asked only when a message is
    signed (or must be)."""
    allowed = frozenset({SM2_SM3, RSA_SHA1} if allow_rsa else {SM2_SM3})
    return SignaturePolicy(mode, allowed, RegisteredOwners(database), principal.code)


# -- the sandbox's own keys -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Authority:
    ca_key: PrivateKey
    ca: Certificate
    customs_key: PrivateKey
    customs: Certificate


@lru_cache(maxsize=32)
def _loaded(key_pem: str, certificate_der: bytes) -> Signer:
    return load_private_key(key_pem), load_certificate(certificate_der)


def _kept(session: Session, name: str) -> Signer | None:
    row = session.get(AuthorityKey, name)
    return None if row is None else _loaded(row.key_pem, row.certificate_der)


def _keep(database: Database, name: str, key: PrivateKey, certificate: Certificate) -> None:
    """Store a new key unless another process stored one first (theirs is then the one)."""
    try:
        with database.write() as session:
            if session.get(AuthorityKey, name) is None:
                session.add(AuthorityKey(name=name, key_pem=key.pem(),
                                         certificate_der=certificate.der))  # fmt: skip
    except IntegrityError:
        pass


def _ensure(database: Database, name: str) -> tuple[PrivateKey, Certificate]:
    with database.read() as session:
        found = _kept(session, name)
    if found is None:
        key = new_key(KeyType.SM2)
        if name == "ca":
            cert = issue_certificate(issuer_key=key, issuer=None, subject_key=key,
                                     common_name=CA_NAME, days=3650, authority=True)  # fmt: skip
        else:
            ca_key, ca = _ensure(database, "ca")
            cert = issue_certificate(issuer_key=ca_key, issuer=ca, subject_key=key,
                                     common_name=CUSTOMS_NAME, days=3650)  # fmt: skip
        _keep(database, name, key, cert)
        with database.read() as session:
            found = _kept(session, name)
        assert found is not None
    return found


def authority(database: Database) -> Authority:
    """The test CA and the customs key of this database, made if they are not yet (the
    service does so when it starts)."""
    return Authority(*_ensure(database, "ca"), *_ensure(database, "customs"))


def customs_signer(session: Session) -> Signer | None:
    """Customs' key and certificate, which sign the receipts sent in a ``DxpMsg``, read in the
    caller's session; None until ``authority`` has made them."""
    return _kept(session, "customs")


def issue(
    database: Database,
    enterprise_code: str,
    *,
    key_type: KeyType = KeyType.SM2,
    days: float = 365,
    not_before: datetime | None = None,
) -> tuple[PrivateKey, Certificate]:
    """A new key and a certificate from the test CA for ``enterprise_code``, registered to it.
    ``not_before`` and ``days`` may make it expired already: a certificate to test that
    refusal with (``register`` refuses expired ones from enterprises)."""
    ca = authority(database)
    key = new_key(key_type)
    with database.write() as session:
        enterprise = find_enterprise(session, enterprise_code)
        certificate = issue_certificate(
            issuer_key=ca.ca_key, issuer=ca.ca, subject_key=key,
            common_name=f"{enterprise.name} ({enterprise.code})"[:64],
            organization=enterprise.code, days=days, not_before=not_before,
        )  # fmt: skip
        _store(session, enterprise.id, certificate)
    return key, certificate
