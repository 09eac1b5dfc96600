"""What the dashboard's pages read from the database (read-only: it never writes a row here).

The dashboard is the sandbox's operator view, so these queries see every enterprise's data;
``app.dashboard.access`` decides who may open it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import Declaration, DocumentRow, Enterprise, Receipt
from app.services import history
from app.states import ALL_STATES
from declarations import BY_CODE, FORMAT_RECEIPT, Kind

REGIMES = ("9610", "1210", "9710", "9810")


@dataclass
class Counts:
    """Declarations by regime and state: ``cells[(regime, state)]``; regime "" = unknown."""

    regimes: list[str]
    states: list[str]
    cells: dict[tuple[str, str], int] = field(default_factory=dict)

    def row_total(self, regime: str) -> int:
        return sum(n for (r, _), n in self.cells.items() if r == regime)

    def column_total(self, state: str) -> int:
        return sum(n for (_, s), n in self.cells.items() if s == state)

    @property
    def total(self) -> int:
        return sum(self.cells.values())


def counts(session: Session) -> Counts:
    rows = session.execute(
        select(Declaration.regime, Declaration.state, func.count()).group_by(
            Declaration.regime, Declaration.state
        )
    ).all()
    cells = {(regime or "", state): int(n) for regime, state, n in rows}
    seen_regimes = {r for r, _ in cells}
    seen_states = {s for _, s in cells}
    regimes = list(REGIMES) + sorted(seen_regimes - set(REGIMES))
    # in lifecycle order; a state not listed (a newer one) after these
    states = list(ALL_STATES) + sorted(seen_states - set(ALL_STATES))
    return Counts(regimes, states, cells)


def recent_declarations(session: Session, limit: int = 15) -> list[Declaration]:
    return list(
        session.scalars(
            select(Declaration)
            .order_by(Declaration.updated_at.desc(), Declaration.id.desc())
            .limit(limit)
        )
    )


def recent_receipts(session: Session, limit: int = 15) -> list[Receipt]:
    return list(session.scalars(select(Receipt).order_by(Receipt.id.desc()).limit(limit)))


def declaration(session: Session, declaration_id: int) -> Declaration | None:
    return session.get(Declaration, declaration_id)


def documents_of(session: Session, declaration_id: int) -> list[DocumentRow]:
    """Every document ever filed under the declaration (replaced and refused ones too)."""
    return list(
        session.scalars(
            select(DocumentRow)
            .where(DocumentRow.declaration_id == declaration_id)
            .order_by(DocumentRow.id)
        )
    )


def senders(session: Session, documents: list[DocumentRow]) -> dict[int, Enterprise]:
    ids = {d.sender_id for d in documents}
    if not ids:
        return {}
    return {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(ids)))}


def message_history(session: Session, found: Declaration) -> list[dict[str, object]]:
    """The declaration's documents and receipts in order (the submission side's own view)."""
    return history.history(session, found)


def engine_inventory(documents: list[DocumentRow]) -> DocumentRow | None:
    """The 清单 the engine's receipts (filed under the declaration only) answer: the
    declaration's current 清单, else the newest one."""
    inventories = [
        d
        for d in documents
        if (m := BY_CODE.get(d.message_code)) is not None and m.kind is Kind.INVENTORY
    ]
    current = [d for d in inventories if d.current]
    chosen = current or inventories
    return chosen[-1] if chosen else None


def answered_document(session: Session, receipt: Receipt) -> DocumentRow | None:
    """The document a receipt answers: its own document, or — for the engine's receipts — the
    declaration's ``engine_inventory``."""
    if receipt.document_id is not None:
        return session.get(DocumentRow, receipt.document_id)
    if receipt.declaration_id is None:
        return None
    return engine_inventory(documents_of(session, receipt.declaration_id))


def latest_receipts(
    session: Session, declaration_id: int, documents: list[DocumentRow]
) -> dict[int, Receipt]:
    """Each document's latest receipt (document id -> receipt), counting the engine's receipts
    as the answers to the ``engine_inventory`` they are about — so that the current 清单 of a
    cleared declaration reads 899, as the declaration does."""
    ids = [d.id for d in documents]
    receipts = session.scalars(
        select(Receipt)
        .where(
            Receipt.document_id.in_(ids)
            | ((Receipt.declaration_id == declaration_id) & Receipt.document_id.is_(None))
        )
        .order_by(Receipt.id)
    )
    inventory = engine_inventory(documents)
    engine_answers = inventory.id if inventory is not None else None
    latest: dict[int, Receipt] = {}
    for receipt in receipts:  # ids only grow: the last one seen is the latest
        answered = receipt.document_id if receipt.document_id is not None else engine_answers
        if answered is not None:
            latest[answered] = receipt
    return latest


def receipt_xml(session: Session, receipt_id: int) -> bytes | None:
    """One receipt as the CEB receipt message customs would send (None if it has no
    document to answer; a CEB900 answers even a message that could not be identified)."""
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        return None
    row = answered_document(session, receipt)
    if row is None:
        return None
    if BY_CODE.get(row.message_code) is None and receipt.message_code != FORMAT_RECEIPT:
        return None
    return history.receipts_xml(row, [receipt])
