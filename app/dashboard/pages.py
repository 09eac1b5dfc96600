"""The live sandbox (``/``), a declaration's page, receipts as CEB XML, the error codes, login."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from lxml import etree
from sqlalchemy.orm import Session

from app.dashboard import engine_status, queries
from app.dashboard.access import (
    COOKIE,
    dashboard_settings,
    is_admin_key,
    require_access,
    session_token,
)
from app.dashboard.codes import error_dictionary
from app.dashboard.deps import DatabaseDep
from app.dashboard.templating import templates
from app.db.engine import Database
from app.db.models import DocumentRow
from app.services import history, tax_bills
from declarations import Layer

router = APIRouter()
guarded = APIRouter(dependencies=[Depends(require_access)])


def _live_context(database: Database) -> dict[str, Any]:
    with database.read() as session:
        return {
            "counts": queries.counts(session),
            "declarations": queries.recent_declarations(session),
            "receipts": queries.recent_receipts(session),
            "engine": engine_status.read(session),
        }


@guarded.get("/", response_class=HTMLResponse, include_in_schema=False)
def live(request: Request, database: DatabaseDep) -> HTMLResponse:
    context = _live_context(database)
    context["refresh_ms"] = dashboard_settings(request).refresh_ms
    return templates.TemplateResponse(request, "live.html.j2", context)


@guarded.get("/live/panel", response_class=HTMLResponse, include_in_schema=False)
def live_panel(request: Request, database: DatabaseDep) -> HTMLResponse:
    """The live page's body alone: the page's script swaps it in every few seconds."""
    return templates.TemplateResponse(request, "_live_panel.html.j2", _live_context(database))


def pretty_xml(data: bytes) -> str:
    """Indented for reading (the stored bytes stay untouched; the raw link serves them)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return data.decode("utf-8", errors="replace")
    return etree.tostring(root, pretty_print=True, encoding="unicode")


def not_found_page(request: Request, what: str) -> HTMLResponse:
    return templates.TemplateResponse(request, "not_found.html.j2", {"what": what}, status_code=404)


def _tax_bill(session: Session, declaration_id: int) -> dict[str, Any] | None:
    row = tax_bills.bill_of(session, declaration_id)
    if row is None:
        return None
    return {**tax_bills.bill_json(row), "issued_at_time": row.issued_at, "due_at_time": row.due_at}


@guarded.get("/declarations/{declaration_id}", response_class=HTMLResponse, include_in_schema=False)
def declaration_page(request: Request, declaration_id: int, database: DatabaseDep) -> HTMLResponse:
    with database.read() as session:
        found = queries.declaration(session, declaration_id)
        if found is None:
            return not_found_page(request, f"declaration {declaration_id} / 申报单{declaration_id}")
        documents = history.documents_of(session, declaration_id)
        events = queries.message_history(session, found)
        receipt_xml: dict[int, str] = {}
        for event in events:
            if event["event"] == "receipt":
                rid = int(str(event["id"]))
                data = queries.receipt_xml(session, rid)
                if data is not None:
                    receipt_xml[rid] = pretty_xml(data)
        context = {
            "declaration": found,
            "documents": documents,
            "senders": queries.senders(session, documents),
            "latest": queries.latest_receipts(session, declaration_id, documents),
            "events": events,
            "receipt_xml": receipt_xml,
            "tax_bill": _tax_bill(session, declaration_id),
        }
    return templates.TemplateResponse(request, "declaration.html.j2", context)


@guarded.get("/receipts/{receipt_id}.xml", include_in_schema=False)
def receipt_as_xml(request: Request, receipt_id: int, database: DatabaseDep) -> Response:
    with database.read() as session:
        data = queries.receipt_xml(session, receipt_id)
    if data is None:
        return not_found_page(request, f"receipt {receipt_id} / 回执{receipt_id}")
    return Response(data, media_type="application/xml")


@guarded.get("/documents/{document_id}.xml", include_in_schema=False)
def document_as_xml(request: Request, document_id: int, database: DatabaseDep) -> Response:
    with database.read() as session:
        row = session.get(DocumentRow, document_id)
    if row is None:
        return not_found_page(request, f"document {document_id} / 单证{document_id}")
    # Served as text: the bytes are as an enterprise sent them, never rendered as markup.
    return Response(row.raw_xml, media_type="text/plain; charset=utf-8")


@guarded.get("/error-codes", response_class=HTMLResponse, include_in_schema=False)
def error_codes(request: Request) -> HTMLResponse:
    """The error-code dictionary (``declarations.dictionary``, published as
    ``docs/error-codes.json``): rules with examples, receipt statuses, lifecycle refusals."""
    data = error_dictionary()
    layers = [
        (layer.value, [r for r in data["rules"] if r["layer"] == layer.value]) for layer in Layer
    ]
    context = {"data": data, "layers": layers}
    return templates.TemplateResponse(request, "error_codes.html.j2", context)


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html.j2", {"failed": False})


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
def login(request: Request, key: Annotated[str, Form()]) -> Response:
    if not is_admin_key(request.app.state.settings, key.strip()):
        return templates.TemplateResponse(
            request, "login.html.j2", {"failed": True}, status_code=401
        )
    response = RedirectResponse("/", status_code=303)
    secure = request.url.scheme == "https"
    token = session_token(request.app.state.settings)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=secure)
    return response


router.include_router(guarded)
