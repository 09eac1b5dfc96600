"""Declarations (sets of one order's documents) as their parties see them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.api.deps import CurrentEnterprise, DatabaseDep
from app.api.schemas import Cursor, DeclarationHistory, DeclarationPage, RowId, errors
from app.services import history

router = APIRouter(prefix="/api/v1/declarations", tags=["declarations"])


@router.get("", response_model=DeclarationPage, responses=errors(401, 422))
def list_declarations(
    *,
    enterprise: CurrentEnterprise,
    database: DatabaseDep,
    state: Annotated[str | None, Query(max_length=30, description="e.g. clearance_ready")] = None,
    regime: Annotated[str | None, Query(pattern="^(9610|1210|9710|9810)$")] = None,
    after: Cursor = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """The declarations you are a party to (you sent one of their documents), oldest first."""
    with database.read() as session:
        rows = history.list_declarations(
            session, enterprise.id, state=state, regime=regime, after=after, limit=limit
        )
    return {
        "declarations": [history.declaration_json(d) for d in rows],
        "cursor": rows[-1].id if rows else after,
    }


@router.get("/{declaration_id}", response_model=DeclarationHistory, responses=errors(401, 404, 422))
def read_declaration(
    declaration_id: RowId, enterprise: CurrentEnterprise, database: DatabaseDep
) -> dict[str, Any]:
    """One declaration with its full message history: documents received and receipts sent,
    in order, with wall time (``at``) and, for the clearance engine's receipts, ``sim_time``."""
    with database.read() as session:
        declaration = history.party_declaration(session, declaration_id, enterprise.id)
        events = history.history(session, declaration)
    return {"declaration": history.declaration_json(declaration), "history": events}
