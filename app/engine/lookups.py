"""What the engine reads of many declarations at once, one query for a batch: their 清单's
notes (where a test's outcome marker is) and the receipts recorded already. The messages real
parties send for them are ``app.services.real_senders.sent_by_real_parties``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, defer

from app.db.models import DocumentRow, Receipt
from app.services.set_documents import current_of, facts_of

INVENTORY_CODES = ("CEB621", "CEB603")  # the import and export 清单

# Built once: building a select() costs about as much as running it on the hot path.
_INVENTORIES = (
    select(DocumentRow)
    .where(
        DocumentRow.declaration_id.in_(bindparam("ids", expanding=True)),
        DocumentRow.message_code.in_(INVENTORY_CODES),
        DocumentRow.current.is_(True),  # a 清单 replaced by a change is not current
    )
    .order_by(DocumentRow.id)
    .options(defer(DocumentRow.raw_xml))  # the facts are all it reads: not the bytes
)
_RECORDED = select(Receipt.declaration_id, Receipt.message_code, Receipt.return_status).where(
    Receipt.declaration_id.in_(bindparam("ids", expanding=True)),
    Receipt.message_code.in_(bindparam("codes", expanding=True)),
)


def notes(session: Session, ids: Collection[int]) -> dict[int, str | None]:
    """The note of each declaration's current 清单 (where a test's outcome marker is), in one
    query."""
    found: dict[int, str | None] = {}
    if not ids:
        return found
    for inventory in session.scalars(_INVENTORIES, {"ids": sorted(ids)}):
        if inventory.declaration_id is not None:  # the latest 清单 (a change) wins
            found[inventory.declaration_id] = facts_of(inventory).note
    return found


def note(session: Session, declaration_id: int, code: str) -> str | None:
    """The note of the declaration's current 清单 of ``code``: from what the transaction read
    ahead (``set_documents.read_ahead``), else one query."""
    inventory = current_of(session, declaration_id, code)
    return facts_of(inventory).note if inventory is not None else None


def recorded(
    session: Session, ids: Collection[int], codes: Collection[str]
) -> dict[int, set[tuple[str, int]]]:
    """The (message code, status) of each declaration's receipts of ``codes`` recorded
    already."""
    done: dict[int, set[tuple[str, int]]] = defaultdict(set)
    values = {"ids": sorted(ids), "codes": sorted(codes)}
    for declaration_id, code, status in session.execute(_RECORDED, values):
        if declaration_id is not None:
            done[declaration_id].add((code, status))
    return done
