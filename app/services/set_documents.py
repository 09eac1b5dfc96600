"""The documents of a set: its current ones, and the kind of a stored document.

Kept apart from ``app.services.sets`` so that ``app.services.authority``, which ``sets`` asks
whether an orphan may join, reads a set without importing ``sets`` back.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.db.models import Document as DocumentRow
from declarations.messages import BY_CODE, Kind

# Built once: building a select() costs about as much as running it on the hot path.
_SET_DOCUMENTS = (
    select(DocumentRow)
    .where(DocumentRow.declaration_id == bindparam("declaration_id"), DocumentRow.current.is_(True))
    .order_by(DocumentRow.id)
)


def kind_of(row: DocumentRow) -> Kind:
    return BY_CODE[row.message_code].kind


def current_documents(session: Session, declaration_id: int) -> list[DocumentRow]:
    """The set's current documents (not refused, replaced or withdrawn), oldest first."""
    return list(session.scalars(_SET_DOCUMENTS, {"declaration_id": declaration_id}))
