"""The buyers' annual quota (26,000 CNY a year, 财关税〔2018〕49号), counted per set.

A complete, reconciled import set counts its 清单's purchase in the ledger (``count_quota``,
inside the write transaction); a refused, withdrawn or changed set gives it back
(``release_quota``). ``quota_for`` is the ledger an arriving document is validated against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from app.db.engine import Database
from app.db.models import Declaration, QuotaEntry
from app.quota import LedgerQuota
from declarations.document import Document
from declarations.messages import Direction, Kind
from declarations.rules import limits
from declarations.tax import ANNUAL_LIMIT


@dataclass(frozen=True, slots=True)
class Purchase:
    buyer_id_number: str
    year: int
    amount: Decimal


def purchase_of(inventory: Document) -> Purchase | None:
    """What an import 清单 counts against its buyer: Σ totalPrice + freight + insuredFee (the
    value ``declarations.rules.limits`` checks), in the year of declTime (else appTime)."""
    if inventory.direction is not Direction.IMPORT:
        return None
    record = inventory.records()[0]
    head = record.head
    buyer = head.text("buyerIdNumber")
    when = head.text("declTime") or head.text("appTime") or ""
    if buyer is None or len(when) < 4 or not when[:4].isdigit():
        return None
    amount = sum((line.decimal("totalPrice") or Decimal(0) for line in record.lines), Decimal(0))
    amount += (head.decimal("freight") or Decimal(0)) + (head.decimal("insuredFee") or Decimal(0))
    return Purchase(buyer, int(when[:4]), amount)


class LedgerQuotaExcept(LedgerQuota):
    """The ledger without one declaration's own entry: what a changed 清单 is checked against
    (its earlier version is replaced, not added to)."""

    def __init__(self, database: Database, declaration_id: int) -> None:
        super().__init__(database)
        self._declaration_id = declaration_id

    def used(self, buyer_id_number: str, year: int) -> Decimal:
        with self._database.read() as session:
            total = session.scalar(
                select(func.coalesce(func.sum(QuotaEntry.amount_fen), 0)).where(
                    QuotaEntry.buyer_id_number == buyer_id_number,
                    QuotaEntry.year == year,
                    QuotaEntry.declaration_id.is_distinct_from(self._declaration_id),
                )
            )
        return Decimal(int(total or 0)) / 100


def quota_for(database: Database, document: Document) -> LedgerQuota:
    """The quota an arriving document is validated against: the whole ledger, except for a
    changed import 清单 (appType 2), whose own declaration's entry does not count."""
    quota = LedgerQuota(database)
    if document.message.kind is not Kind.INVENTORY or document.direction is not Direction.IMPORT:
        return quota
    head = document.records()[0].head if document.records() else None
    if head is None or head.text("appType") != "2":
        return quota
    with database.read() as session:
        declaration_id = session.scalar(
            select(Declaration.id).where(
                Declaration.direction == document.direction.value,
                Declaration.ebp_code == head.text("ebpCode"),
                Declaration.order_no == head.text("orderNo"),
            )
        )
    return quota if declaration_id is None else LedgerQuotaExcept(database, declaration_id)


def count_quota(session: Session, declaration: Declaration, inventory: Document) -> str | None:
    """Count the 清单's purchase in the ledger, or say (returnInfo) why it crosses the limit.

    Validation already checked the quota when the 清单 arrived; this re-check runs inside the
    write transaction, so two 清单 of one buyer arriving together cannot both slip under it.
    The declaration's own earlier entry (a changed 清单) is replaced, not added to.
    """
    purchase = purchase_of(inventory)
    if purchase is None:
        return None
    if session.get_bind().dialect.name == "postgresql":
        # SQLite's write transaction already excludes every other writer.
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:buyer))"),
            {"buyer": purchase.buyer_id_number},
        )
    release_quota(session, declaration.id)
    used_fen = session.scalar(
        select(func.coalesce(func.sum(QuotaEntry.amount_fen), 0)).where(
            QuotaEntry.buyer_id_number == purchase.buyer_id_number,
            QuotaEntry.year == purchase.year,
        )
    )
    used = Decimal(int(used_fen or 0)) / 100
    if used + purchase.amount > ANNUAL_LIMIT:
        english, chinese = limits.annual_limit_text(
            purchase.buyer_id_number, purchase.year, purchase.amount
        )
        return f"[{limits.ANNUAL.id}] {chinese} / {english}"  # Chinese first, like every returnInfo
    LedgerQuota.add(
        session,
        purchase.buyer_id_number,
        purchase.amount,
        date(purchase.year, 1, 1),
        declaration_id=declaration.id,
    )
    return None


def release_quota(session: Session, declaration_id: int) -> int:
    """Give back what the declaration counted against its buyer's annual quota (its 清单 was
    refused, deleted or changed, or customs rejected or returned it); returns rows removed."""
    result = session.execute(delete(QuotaEntry).where(QuotaEntry.declaration_id == declaration_id))
    return int(getattr(result, "rowcount", 0) or 0)
