"""The documents of a set: its current ones, the kind of a stored document and its facts;
what the clearance engine reads of many sets at once (``read_ahead``).

Kept apart from ``app.services.sets`` so that ``app.services.authority``, which ``sets`` asks
whether an orphan may join, reads a set without importing ``sets`` back.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, defer

from app.db.engine import transaction_state
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

# What the clearance engine reads ahead (``read_ahead``): the sets' 清单, waybills and import
# orders. danchuang's own messages (the site's and the carrier's records) are none of these.
PARTIES_CODES = ("CEB621", "CEB603", "CEB511", "CEB505", "CEB311")
_SETS_DOCUMENTS_OF_CODES = (
    select(DocumentRow)
    .where(
        DocumentRow.declaration_id.in_(bindparam("ids", expanding=True)),
        DocumentRow.message_code.in_(PARTIES_CODES),
        DocumentRow.current.is_(True),
    )
    .order_by(DocumentRow.id)
    .options(defer(DocumentRow.raw_xml))
)
_READ_AHEAD = "danchuang.set_documents.read_ahead"  # its transaction's, in ``Session.info``


@dataclass
class _ReadAhead:
    """The sets read ahead in a transaction, and their documents by (declaration id, code)."""

    sets: set[int] = field(default_factory=set)
    documents: dict[tuple[int, str], DocumentRow] = field(default_factory=dict)


def kind_of(row: DocumentRow) -> Kind:
    return BY_CODE[row.message_code].kind


def current_documents(session: Session, declaration_id: int) -> list[DocumentRow]:
    """The set's current documents (not refused, replaced or withdrawn), oldest first."""
    return list(session.scalars(_SET_DOCUMENTS, {"declaration_id": declaration_id}))


def current_of(session: Session, declaration_id: int, code: str) -> DocumentRow | None:
    """The set's current document of message ``code`` (its 清单, its waybill...), if any."""
    held = _held(session)
    if declaration_id in held.sets and code in PARTIES_CODES:
        return held.documents.get((declaration_id, code))
    values = {"declaration_id": declaration_id, "code": code}
    return session.scalars(_SET_DOCUMENT_OF_CODE, values).first()


def read_ahead(session: Session, declaration_ids: Collection[int]) -> None:
    """Read the current documents of ``PARTIES_CODES`` of these sets in one query: for the rest
    of the transaction ``current_of`` answers from them, without a query a document. Only for
    a transaction that takes no party's message (the clearance engine's: its messages are the
    site's and the carrier's records), which could replace or add one of them."""
    held = _held(session)
    unknown = sorted(set(declaration_ids) - held.sets)
    if not unknown:
        return
    held.sets.update(unknown)
    for row in session.scalars(_SETS_DOCUMENTS_OF_CODES, {"ids": unknown}):
        if row.declaration_id is not None:  # the oldest current one, as ``current_of`` reads
            held.documents.setdefault((row.declaration_id, row.message_code), row)


def _held(session: Session) -> _ReadAhead:
    return transaction_state(session, _READ_AHEAD, _ReadAhead)


def facts_of(row: DocumentRow) -> Facts:
    """What the core learnt of a stored document on arrival (``declarations.Facts``): read
    instead of its XML. Every identified document has them."""
    if row.facts is None:
        raise RuntimeError(f"stored document {row.id} ({row.message_code}) has no facts")
    return Facts.from_json(row.message_code, row.direction, row.regime, row.facts)


def source_of(row: DocumentRow) -> str:
    """How findings about a stored document name it."""
    return f"document {row.id} ({row.message_code})"
