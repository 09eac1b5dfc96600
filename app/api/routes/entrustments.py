"""Entrustments: a party lets an express operator or postal enterprise send its orders or
payments (``app.services.entrustments``). Each enterprise sees those it gave or holds."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.api.deps import CurrentEnterprise, DatabaseDep
from app.api.schemas import EntrustmentIn, EntrustmentOut, RowId, errors
from app.db.models import Entrustment
from app.services import entrustments

router = APIRouter(prefix="/api/v1/entrustments", tags=["entrustments"])


def _out(row: Entrustment, principal: str, agent: str) -> EntrustmentOut:
    return EntrustmentOut(
        id=row.id, principal=principal, agent=agent, message=row.message_code,
        created_at=row.created_at,
    )  # fmt: skip


@router.post(
    "", status_code=status.HTTP_201_CREATED, responses=errors(400, 401, 403, 404, 409, 422)
)
def entrust(
    body: EntrustmentIn, enterprise: CurrentEnterprise, database: DatabaseDep
) -> EntrustmentOut:
    """Entrust ``agent`` with sending your ``message`` (CEB311 for a platform or a seller,
    CEB411 for a payment company)."""
    with database.write() as session:
        row = entrustments.entrust(session, enterprise, body.agent, body.message)
        return _out(row, enterprise.code, body.agent)


@router.get("", responses=errors(401))
def list_entrustments(enterprise: CurrentEnterprise, database: DatabaseDep) -> list[EntrustmentOut]:
    """The active entrustments you gave or hold."""
    with database.read() as session:
        return [_out(*listed) for listed in entrustments.listed(session, enterprise)]


@router.delete(
    "/{entrustment_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 404, 422)
)
def revoke(entrustment_id: RowId, enterprise: CurrentEnterprise, database: DatabaseDep) -> Response:
    """Revoke an entrustment you gave: the agent sends nothing more for you."""
    with database.write() as session:
        entrustments.revoke(session, enterprise, entrustment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
