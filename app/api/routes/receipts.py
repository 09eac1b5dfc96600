"""The receipt feed: pull receipts with a cursor (the push side is the webhooks)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app import feed, receipts
from app.api.deps import CurrentEnterprise, DatabaseDep
from app.api.schemas import Cursor, ReceiptPage, errors

router = APIRouter(prefix="/api/v1/receipts", tags=["receipts"])


@router.get("", response_model=ReceiptPage, responses=errors(401, 422))
def poll_receipts(
    enterprise: CurrentEnterprise,
    database: DatabaseDep,
    after: Cursor = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Receipts for your documents and declarations with id > ``after``, oldest first.

    Keep the returned ``cursor`` and pass it as ``after`` next time: ids only grow, and a
    receipt is visible to the feed only once every receipt with a smaller id is.
    """
    with database.read() as session:
        rows = feed.feed(session, enterprise.id, after=after, limit=limit)
    return {
        "receipts": [receipts.receipt_json(r) for r in rows],
        "cursor": rows[-1].id if rows else after,
    }
