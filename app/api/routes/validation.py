"""Validation without storing anything: the conformance check integrators run in their CI."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app import metrics
from app.api.deps import CurrentEnterprise, QuotaDep, XmlBody
from app.api.routes.documents import XML_BODY
from app.api.schemas import ReportOut, errors
from app.services.submission import regime_argument
from declarations import validate

router = APIRouter(prefix="/api/v1", tags=["validation"])


@router.post(
    "/validate",
    openapi_extra=XML_BODY,
    response_model=ReportOut,
    responses=errors(401, 413, 422),
)
def validate_document(
    body: XmlBody,
    _enterprise: CurrentEnterprise,
    quota: QuotaDep,
    regime: Annotated[str | None, Query(description="9610, 1210, 9710 or 9810")] = None,
) -> dict[str, Any]:
    """Every finding about one CEB message (any authenticated enterprise; nothing is stored,
    no receipt is sent). The buyer's annual quota is read from the live ledger."""
    report = validate(body, regime_argument(regime), source="<request body>", quota=quota)
    for finding in report.findings:
        metrics.FINDINGS.labels(rule=finding.rule, severity=finding.severity.value).inc()
    return report.to_dict()
