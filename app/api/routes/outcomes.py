"""Forcing a declaration's clearance outcome, for integrators' tests (docs/live-clearance.md).

    POST /api/v1/declarations/{id}/outcome   {"outcome": "REJECT=-621005"}   (null: clear it)

Any enterprise that sent a document of the set may force its outcome, until the clearance
engine has taken the declaration; afterwards the answer is 409. The same words work as a
``DANCHUANG:...`` marker in the 清单's ``note`` field; an outcome set here wins over the marker.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app import states
from app.api.deps import CurrentEnterprise, DatabaseDep
from app.api.schemas import ForcedOutcome, RowId, errors
from app.engine.outcomes import OutcomeError, normalise
from app.errors import ServiceError, conflict
from app.services.history import party_declaration

router = APIRouter(prefix="/api/v1/declarations", tags=["declarations"])


class OutcomeIn(BaseModel):
    outcome: str | None = Field(
        description="RELEASE, REVIEW, INSPECT, REJECT[=code], DETAIN[=501|502|503|599], "
        "RETURN or TAXFAIL (the tax bill's guarantee deduction fails), joined with '+' "
        "(e.g. REVIEW+INSPECT, RELEASE+TAXFAIL); null clears a forced outcome.",
        examples=["INSPECT", "REJECT=-621005", "DETAIN=502"],
    )


@router.post(
    "/{declaration_id}/outcome",
    response_model=ForcedOutcome,
    responses=errors(400, 401, 404, 409, 422),
)
def force_outcome(
    declaration_id: RowId, body: OutcomeIn, enterprise: CurrentEnterprise, database: DatabaseDep
) -> dict[str, Any]:
    """Force the outcome the clearance engine will give this declaration."""
    outcome: str | None = None
    if body.outcome is not None:
        try:
            outcome = normalise(body.outcome)
        except OutcomeError as error:
            raise ServiceError(
                422, "outcome.invalid", f"invalid outcome: {error}", f"无法识别的指定结果：{error}"
            ) from None
    with database.write() as session:
        # 404 for another's declaration too: not telling others whether it exists
        row = party_declaration(session, declaration_id, enterprise.id, for_update=True)
        if row.state == states.CLEARING or row.state in states.FINAL_STATES:
            raise conflict(
                "outcome.too_late",
                f"declaration {declaration_id} is already {row.state}: force the outcome "
                "before clearance starts",
                f"申报{declaration_id}已进入通关处理（{row.state}），请在通关开始前指定结果",
            )
        row.forced_outcome = outcome
        return {"declaration_id": row.id, "outcome": outcome, "state": row.state}
