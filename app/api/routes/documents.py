"""Submitting CEB messages: one per request (``/documents``) or a whole set (``/bundles``).

Each message is sent by the party that sends it in reality, with its own API key; the answer
holds the stored document and its receipts, as JSON or (``Accept: application/xml`` or
``?format=xml``) as the CEB receipt message of its type. See docs/api.md.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from app.api.deps import (
    CurrentEnterprise,
    DatabaseDep,
    SettingsDep,
    SignaturesDep,
    XmlBody,
    read_body,
)
from app.api.schemas import (
    XML_CONTENT,
    BatchOut,
    BundleOut,
    DocumentWithReceipts,
    ErrorBody,
    ReceiptList,
    RowId,
    SubmissionOut,
    errors,
)
from app.errors import ServiceError
from app.receipts import receipt_json
from app.services import batches, bundles, history, submission
from declarations import Regime, SignaturePolicy

router = APIRouter(prefix="/api/v1", tags=["documents"])

RegimeQuery = Annotated[
    str | None,
    Query(
        description="Supervision code (9610, 1210, 9710, 9810) if not in the XML; one that "
        "contradicts the message's own tradeMode or orderType is 422 request.regime_conflict."
    ),
]
FormatQuery = Annotated[str | None, Query(pattern="^(json|xml)$", description="json or xml")]
XML_TYPES = ("application/xml", "text/xml")
# The body is read as raw bytes (size-limited, see deps.xml_body); this tells OpenAPI what it is.
XML_BODY = {
    "requestBody": {
        "required": True,
        "description": "One CEB message (e.g. a CEB311 order or a CEB621 清单) as XML, UTF-8, "
        "of up to 100 records.",
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in XML_TYPES},
    }
}
# JSON by default; the CEB receipt message with Accept: application/xml or ?format=xml.
# A message of several records is answered record by record (BatchOut).
_SUBMITTED = {"model": SubmissionOut | BatchOut, "content": XML_CONTENT}
_SUBMISSION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "A resend of a message received before: the stored answer."} | _SUBMITTED,
    201: {"description": "Stored, with its receipts and validation report."} | _SUBMITTED,
    **errors(401, 403, 409, 413, 415, 503),
    422: {
        "model": SubmissionOut | ErrorBody,
        "description": "Not a CEB message danchuang knows (stored, with the report, and "
        "answered with a CEB900 format-check receipt: its XML when asked for), or an invalid "
        "request (the error body).",
        "content": XML_CONTENT,
    },
}


def wants_xml(request: Request, format_: str | None) -> bool:
    if format_ is not None:
        return format_ == "xml"
    accept = request.headers.get("accept", "")
    return any(t in accept for t in XML_TYPES) and "application/json" not in accept


def _require_xml_body(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in XML_TYPES and not content_type.endswith("+xml"):
        raise ServiceError(
            415,
            "request.not_xml",
            f"send the CEB message with Content-Type: application/xml (got {content_type!r})",
            f"请以 Content-Type: application/xml 发送CEB报文（收到 {content_type!r}）",
        )


def batch_json(outcome: batches.BatchOutcome) -> dict[str, Any]:
    return {
        "guid": outcome.guid,
        "message_code": outcome.message_code,
        "repeat": outcome.repeat,
        "records": [
            {"number": number, "guid": record.document.guid, **outcome_json(record)}
            for number, record in enumerate(outcome.records, start=1)
        ],
    }


def outcome_json(outcome: submission.Outcome) -> dict[str, Any]:
    row = outcome.document
    return {
        "document": history.document_json(row),
        "repeat": outcome.repeat,
        "return_status": row.return_status,
        "declaration": (
            history.declaration_json(outcome.declaration) if outcome.declaration else None
        ),
        "receipts": [receipt_json(r) for r in outcome.receipts],
        "report": outcome.report.to_dict() if outcome.report is not None else None,
    }


@router.post(
    "/documents",
    status_code=201,
    openapi_extra=XML_BODY,
    response_model=None,
    responses=_SUBMISSION_RESPONSES,
)
def submit_document(
    *,
    request: Request,
    body: XmlBody,
    enterprise: CurrentEnterprise,
    database: DatabaseDep,
    signatures: SignaturesDep,
    regime: RegimeQuery = None,
    format: FormatQuery = None,
) -> Response:
    """Submit one CEB message (order, payment, waybill or 清单) as the party that sends it; a
    message of several records (up to 100) is answered record by record."""
    _require_xml_body(request)
    outcome = batches.submit_message(
        database, enterprise, body, regime=submission.regime_argument(regime),
        signatures=signatures,
    )  # fmt: skip
    if isinstance(outcome, batches.BatchOutcome):
        if wants_xml(request, format):
            with database.read() as session:
                xml = batches.answer_xml(session, outcome)
            return Response(xml, status_code=outcome.http_status, media_type="application/xml")
        return JSONResponse(batch_json(outcome), status_code=outcome.http_status)
    if wants_xml(request, format) and outcome.receipts:
        with database.read() as session:
            xml = history.answer_xml(session, outcome.document, outcome.receipts)
        return Response(xml, status_code=outcome.http_status, media_type="application/xml")
    return JSONResponse(outcome_json(outcome), status_code=outcome.http_status)


@router.get(
    "/documents/{document_id}",
    response_model=DocumentWithReceipts,
    responses=errors(401, 404, 422),
)
def read_document(
    document_id: RowId, enterprise: CurrentEnterprise, database: DatabaseDep
) -> dict[str, Any]:
    """A document you sent, with its receipts."""
    with database.read() as session:
        row = history.own_document(session, document_id, enterprise.id)
        receipts = history.document_receipts(session, row)
    return {
        "document": history.document_json(row),
        "receipts": [receipt_json(r) for r in receipts],
    }


@router.get(
    "/documents/{document_id}/xml",
    response_class=Response,  # 200 is XML (below); the errors are JSON
    responses={
        200: {"description": "The CEB message.", "content": XML_CONTENT},
        **errors(401, 404, 422),
    },
)
def read_document_xml(
    document_id: RowId, enterprise: CurrentEnterprise, database: DatabaseDep
) -> Response:
    """The message exactly as you sent it."""
    with database.read() as session:
        row = history.own_document(session, document_id, enterprise.id)
    return Response(row.raw_xml, media_type="application/xml")


@router.get(
    "/documents/{document_id}/receipts",
    response_model=None,
    responses={200: {"model": ReceiptList, "content": XML_CONTENT}, **errors(401, 404, 422)},
)
def read_document_receipts(
    request: Request,
    document_id: RowId,
    enterprise: CurrentEnterprise,
    database: DatabaseDep,
    format: FormatQuery = None,
) -> Response:
    """The receipts answering a document you sent: JSON, or the CEB receipt message."""
    with database.read() as session:
        row = history.own_document(session, document_id, enterprise.id)
        receipts = history.document_receipts(session, row)
        xml = history.answer_xml(session, row, receipts) if wants_xml(request, format) else b""
    if xml:
        return Response(xml, media_type="application/xml")
    return JSONResponse({"receipts": [receipt_json(r) for r in receipts]})


# -- bundles ----------------------------------------------------------------------------------


class BundleIn(BaseModel):
    documents: list[str] = Field(
        min_length=1, max_length=20, description="The CEB messages of one set, as XML text."
    )


_BUNDLE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": BundleIn.model_json_schema()}},
    }
}


async def _bundle_body(request: Request, settings: SettingsDep) -> list[bytes]:
    """The bundle's messages as UTF-8 bytes. JSON that nests too deeply for the parser, or a
    message that is no text (a lone surrogate escape, ``"\\ud800"``), is as invalid as any
    other malformed bundle: 422."""
    data = await read_body(request, settings.max_bundle_bytes, name="bundle", name_zh="报文包")
    try:
        bundle = BundleIn.model_validate(json.loads(data or b"null"))
        return [text.encode("utf-8") for text in bundle.documents]
    except (ValueError, ValidationError, RecursionError) as exc:
        raise ServiceError(
            422,
            "bundle.invalid",
            'a bundle is a JSON object {"documents": ["<xml>", ...]} with 1 to 20 messages',
            '报文包须为JSON对象 {"documents": ["<xml>", ...]}，包含1至20份报文',
        ) from exc


@router.post(
    "/bundles",
    status_code=201,
    openapi_extra=_BUNDLE_BODY,
    response_model=BundleOut,
    responses=errors(401, 403, 409, 413, 422),
)
async def submit_bundle(
    *,
    request: Request,
    enterprise: CurrentEnterprise,
    database: DatabaseDep,
    settings: SettingsDep,
    signatures: SignaturesDep,
    regime: RegimeQuery = None,
) -> dict[str, Any]:
    """Submit a whole set in one call. The caller must be allowed to send every message of it
    (copCode and sender field, as for single messages); otherwise nothing is stored (403)."""
    data = await _bundle_body(request, settings)
    chosen = submission.regime_argument(regime)
    ordered = bundles.in_sending_order(enterprise, data, chosen)
    results = []
    for item in ordered:
        # The synchronous service runs in the threadpool, like the plain ``def`` routes.
        outcome = await _in_threadpool(database, enterprise, item, chosen, signatures)
        results.append(outcome_json(outcome))
    return {"documents": results}


async def _in_threadpool(
    database: DatabaseDep,
    enterprise: CurrentEnterprise,
    data: bytes,
    regime: Regime | None,
    signatures: SignaturePolicy,
) -> submission.Outcome:
    return await run_in_threadpool(
        submission.submit_document, database, enterprise, data, regime=regime,
        signatures=signatures,
    )  # fmt: skip
