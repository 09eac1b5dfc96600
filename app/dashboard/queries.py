"""What the dashboard's pages read from the database (read-only: it never writes a row here).

The dashboard is the sandbox's operator view, so these queries see every enterprise's data;
``app.dashboard.access`` decides who may open it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import Declaration, DocumentRow, Enterprise, Receipt
from app.services import history, tax_bills
from app.states import ALL_STATES

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


def senders(session: Session, documents: list[DocumentRow]) -> dict[int, Enterprise]:
    ids = {d.sender_id for d in documents}
    if not ids:
        return {}
    return {e.id: e for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(ids)))}


def message_history(session: Session, found: Declaration) -> list[dict[str, object]]:
    """The declaration's documents and receipts in order (the submission side's own view)."""
    return history.history(session, found)


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
    inventory = history.engine_inventory(documents)
    engine_answers = inventory.id if inventory is not None else None
    latest: dict[int, Receipt] = {}
    for receipt in receipts:  # ids only grow: the last one seen is the latest
        if receipt.message_code in tax_bills.CODES:
            continue  # customs' tax bill answers no document
        answered = receipt.document_id if receipt.document_id is not None else engine_answers
        if answered is not None:
            latest[answered] = receipt
    return latest


def receipt_xml(session: Session, receipt_id: int) -> bytes | None:
    """One receipt as the CEB receipt message customs would send (None if it has no
    document to answer; a CEB900 answers even a message that could not be identified)."""
    receipt = session.get(Receipt, receipt_id)
    return None if receipt is None else history.receipt_message(session, receipt)
