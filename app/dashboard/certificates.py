"""``/certificates``: enterprises' signing certificates, and the sandbox's published ones.

The operator registers a certificate for an enterprise (pasted PEM) or has the test CA issue
one, whose private key is shown once on the page and never stored
(``app.services.certificates``; enterprises do the same through the API).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from app.accounts import Principal, find_enterprise
from app.dashboard.access import require_access
from app.dashboard.deps import DatabaseDep
from app.dashboard.templating import templates
from app.db.engine import Database
from app.db.models import Enterprise, SigningCertificate
from app.errors import ServiceError
from app.services import certificates
from declarations import KeyType

router = APIRouter(dependencies=[Depends(require_access)])


def _page(
    request: Request, database: Database, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    with database.read() as session:
        rows = session.execute(
            select(Enterprise.code, Enterprise.name, SigningCertificate)
            .join(SigningCertificate, SigningCertificate.enterprise_id == Enterprise.id)
            .order_by(Enterprise.code, SigningCertificate.id)
        ).all()
        codes = list(session.scalars(select(Enterprise.code).order_by(Enterprise.code)))
    authority = certificates.authority(database)
    context = {
        "rows": rows,
        "codes": codes,
        "customs": authority.customs,
        "ca": authority.ca,
        "error": None,
        "issued": None,
        **extra,
    }
    return templates.TemplateResponse(
        request, "certificates.html.j2", context, status_code=status_code
    )


@router.get("/certificates", response_class=HTMLResponse, include_in_schema=False)
def certificates_page(request: Request, database: DatabaseDep) -> HTMLResponse:
    return _page(request, database)


def _attempt(
    request: Request, database: Database, act: Callable[[], dict[str, Any]]
) -> HTMLResponse:
    """The page after ``act``, or with the reason it was refused."""
    try:
        shown = act()
    except ServiceError as exc:
        return _page(request, database, exc.status, error=f"{exc.message_en} / {exc.message_zh}")
    return _page(request, database, **shown)


@router.post("/certificates", response_class=HTMLResponse, include_in_schema=False)
def register(
    request: Request,
    database: DatabaseDep,
    enterprise: Annotated[str, Form()],
    certificate: Annotated[str, Form()],
) -> HTMLResponse:
    """Register a pasted certificate to an enterprise."""

    def act() -> dict[str, Any]:
        with database.write() as session:
            principal = Principal.of(find_enterprise(session, enterprise.strip()))
            certificates.register(session, principal, certificate)
        return {}

    return _attempt(request, database, act)


@router.post("/certificates/issue", response_class=HTMLResponse, include_in_schema=False)
def issue(
    request: Request,
    database: DatabaseDep,
    enterprise: Annotated[str, Form()],
    key_type: Annotated[str, Form()] = "sm2",
) -> HTMLResponse:
    """Issue a test key pair and certificate; the key is shown on this page only."""
    if key_type not in ("sm2", "rsa"):
        return _page(request, database, 422, error=f"key type {key_type!r}: sm2 or rsa")

    def act() -> dict[str, Any]:
        key, cert = certificates.issue(database, enterprise.strip(), key_type=KeyType(key_type))
        return {"issued": {"key": key.pem(), "cert": cert.pem(), "subject": cert.subject}}

    return _attempt(request, database, act)
