"""Signing certificates (CEB spec 202205 §6): an enterprise's own, and the sandbox's published
ones (``app.services.certificates``)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.api.deps import CurrentEnterprise, DatabaseDep, SettingsDep
from app.api.schemas import (
    CertificateIn,
    CertificateOut,
    IssuedCertificate,
    IssueIn,
    SignaturePolicyOut,
    errors,
)
from app.db.models import SigningCertificate
from app.errors import not_found
from app.services import certificates
from declarations import RSA_SHA1, SM2_SM3, KeyType

router = APIRouter(tags=["certificates"])
_MINE = "/api/v1/enterprises/me/certificates"
_PEM = "application/x-pem-file"


def _out(row: SigningCertificate) -> CertificateOut:
    return CertificateOut(
        fingerprint=row.fingerprint, subject=row.subject, key_type=row.key_type,  # type: ignore[arg-type]
        not_before=row.not_before, not_after=row.not_after, created_at=row.created_at,
    )  # fmt: skip


@router.post(_MINE, status_code=status.HTTP_201_CREATED, responses=errors(400, 401, 403, 409, 422))
def register_certificate(
    body: CertificateIn, enterprise: CurrentEnterprise, database: DatabaseDep
) -> CertificateOut:
    """Register a certificate you sign messages with: signatures made with it are then
    yours. One certificate belongs to one enterprise."""
    with database.write() as session:
        return _out(certificates.register(session, enterprise, body.certificate))


@router.get(_MINE, responses=errors(401))
def list_certificates(enterprise: CurrentEnterprise, database: DatabaseDep) -> list[CertificateOut]:
    """The certificates you have registered."""
    with database.read() as session:
        return [_out(row) for row in certificates.certificates_of(session, enterprise.id)]


@router.post(f"{_MINE}/issue", status_code=status.HTTP_201_CREATED, responses=errors(400, 401, 422))
def issue_certificate(
    enterprise: CurrentEnterprise, database: DatabaseDep, body: IssueIn | None = None
) -> IssuedCertificate:
    """A new key pair and a certificate from the sandbox's test CA, registered to you: sign
    with it in CI without a hardware key (``danchuang sign``). The key is shown once."""
    wanted = body or IssueIn()
    key, cert = certificates.issue(
        database, enterprise.code, key_type=KeyType(wanted.key_type), days=wanted.days
    )
    with database.read() as session:
        rows = certificates.certificates_of(session, enterprise.id)
    (row,) = [r for r in rows if r.fingerprint == cert.fingerprint]
    return IssuedCertificate(
        certificate=_out(row), certificate_pem=cert.pem(), private_key_pem=key.pem()
    )


@router.delete(
    f"{_MINE}/{{fingerprint}}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 404, 422),
)
def remove_certificate(
    fingerprint: str, enterprise: CurrentEnterprise, database: DatabaseDep
) -> Response:
    """Withdraw a certificate: messages signed with it afterwards are no longer yours."""
    with database.write() as session:
        certificates.remove(session, enterprise, fingerprint)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/v1/signature-policy")
def signature_policy(settings: SettingsDep) -> SignaturePolicyOut:
    """How this service judges signatures (``DANCHUANG_SIGNATURE_MODE``; docs/api.md,
    "Signatures"). No key needed."""
    methods = [SM2_SM3, RSA_SHA1] if settings.signature_allow_rsa_sha1 else [SM2_SM3]
    return SignaturePolicyOut(mode=settings.signature_mode.value, methods=methods)


@router.get(
    "/api/v1/certificates/{name}",
    response_class=Response,
    responses={
        200: {
            "description": "The certificate, PEM.",
            "content": {
                _PEM: {"schema": {"type": "string", "example": "-----BEGIN CERTIFICATE-----"}}
            },
        },
        **errors(404, 422),
    },
)
def published_certificate(name: str, database: DatabaseDep) -> Response:
    """A certificate the sandbox publishes: ``customs`` (it signs the receipts sent in a
    DxpMsg) or ``ca`` (the test certificate authority). No key needed."""
    authority = certificates.authority(database)
    found = {"customs": authority.customs, "ca": authority.ca}.get(name)
    if found is None:
        raise not_found(
            "certificate.unknown",
            f"no published certificate {name!r}: customs or ca",
            f"没有名为{name!r}的公开证书：customs或ca",
        )
    return Response(found.pem(), media_type=_PEM)
