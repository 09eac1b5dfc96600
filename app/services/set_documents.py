"""The documents of a set: its current ones, the kind of a stored document and its facts.

Kept apart from ``app.services.sets`` so that ``app.services.authority``, which ``sets`` asks
whether an orphan may join, reads a set without importing ``sets`` back.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, defer

from app.db.models import DocumentRow
from declarations import BY_CODE, Facts, Kind

# Built once: building a select() costs about as much as running it on the hot path.
_SET_DOCUMENTS = (
    select(DocumentRow)
    .where(DocumentRow.declaration_id == bindparam("declaration_id"), DocumentRow.current.is_(True))
    .order_by(DocumentRow.id)
    .options(defer(DocumentRow.raw_xml))  # a set is read through its facts, never its bytes
)
# One of them by message code: the engine's stand-ins and tax bills ask for one document a
# message, and reading (and decoding the facts of) the whole set each time cost them 15 %.
_SET_DOCUMENT_OF_CODE = _SET_DOCUMENTS.where(DocumentRow.message_code == bindparam("code")).limit(1)


def kind_of(row: DocumentRow) -> Kind:
    return BY_CODE[row.message_code].kind


def current_documents(session: Session, declaration_id: int) -> list[DocumentRow]:
    """The set's current documents (not refused, replaced or withdrawn), oldest first."""
    return list(session.scalars(_SET_DOCUMENTS, {"declaration_id": declaration_id}))


def current_of(session: Session, declaration_id: int, code: str) -> DocumentRow | None:
    """The set's current document of message ``code`` (its 清单, its waybill...), if any."""
    values = {"declaration_id": declaration_id, "code": code}
    return session.scalars(_SET_DOCUMENT_OF_CODE, values).first()


def facts_of(row: DocumentRow) -> Facts:
    """What the core learnt of a stored document on arrival (``declarations.Facts``): read
    instead of its XML. Every identified document has them."""
    if row.facts is None:
        raise RuntimeError(f"stored document {row.id} ({row.message_code}) has no facts")
    return Facts.from_json(row.message_code, row.direction, row.regime, row.facts)


def source_of(row: DocumentRow) -> str:
    """How findings about a stored document name it."""
    return f"document {row.id} ({row.message_code})"
