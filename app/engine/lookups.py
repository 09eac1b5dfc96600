"""What the engine reads of many declarations' sets at once, one query for a batch: their
清单's notes (where a test's outcome marker is) and the messages real parties send for them
(danchuang plays the others)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, defer

from app.db.models import DocumentRow
from app.db.models_after import RealSender
from app.services.set_documents import facts_of

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
_REAL_SENDERS = (
    select(DocumentRow.declaration_id, RealSender.message_code)
    .join(RealSender, RealSender.enterprise_id == DocumentRow.sender_id)
    .where(DocumentRow.declaration_id.in_(bindparam("ids", expanding=True)))
    .distinct()
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


def real_senders_of(session: Session, ids: Collection[int]) -> dict[int, frozenset[str]]:
    """For each of the declarations, the messages a real party sends (danchuang plays the
    others): ``app.services.real_senders.danchuang_plays``'s rule — a party to the set, an
    enterprise that sent one of its documents, said it sends them — for many declarations in
    one query instead of one query a declaration and message."""
    found: dict[int, set[str]] = defaultdict(set)
    if ids:
        for declaration_id, code in session.execute(_REAL_SENDERS, {"ids": sorted(ids)}):
            if declaration_id is not None:
                found[declaration_id].add(code)
    return {declaration_id: frozenset(codes) for declaration_id, codes in found.items()}
