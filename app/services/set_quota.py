"""The buyers' annual quota (26,000 CNY a year, 财关税〔2018〕49号), counted per set.

A complete, reconciled import set counts its 清单's purchase (``declarations.Purchase``, kept
with the 清单's facts on arrival) in the ledger, inside the write transaction (``count_quota``);
a refused, withdrawn or changed set gives it back (``release_quota``). The limit itself is the
core's (``declarations.annual_refusal``).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import bindparam, delete, func, insert, select, text
from sqlalchemy.orm import Session

from app.db.models import Declaration, QuotaEntry
from app.quota import whole_fen
from declarations import Finding, Purchase, annual_refusal

# In one statement: what the buyer's year has counted besides the set's own entry (a changed
# 清单's, given back before the new one is counted), and whether the set has one.
_OTHERS = select(func.coalesce(func.sum(QuotaEntry.amount_fen), 0)).where(
    QuotaEntry.buyer_id_number == bindparam("buyer"),
    QuotaEntry.year == bindparam("year"),
    QuotaEntry.declaration_id.is_distinct_from(bindparam("declaration_id")),
)
_OWN = select(QuotaEntry.id).where(QuotaEntry.declaration_id == bindparam("declaration_id"))
_COUNTED = select(_OTHERS.scalar_subquery(), _OWN.exists())


def count_quota(
    session: Session, declaration: Declaration, purchase: Purchase | None
) -> Finding | None:
    """Count the 清单's purchase in the ledger, or return the finding that refuses it.

    Validation already checked the quota when the 清单 arrived; this re-check runs inside the
    write transaction, so two 清单 of one buyer arriving together cannot both slip under it.
    The declaration's own earlier entry (a changed 清单) is replaced, not added to.
    """
    if purchase is None:
        return None
    if session.get_bind().dialect.name == "postgresql":
        # SQLite's write transaction already excludes every other writer.
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:buyer))"),
            {"buyer": purchase.buyer_id_number},
        )
    buyer, year = purchase.buyer_id_number, purchase.year
    values = {"buyer": buyer, "year": year, "declaration_id": declaration.id}
    # No ledger row is left pending in the session (``LedgerQuota.add`` flushes its own, this
    # inserts with a statement): nothing to flush before reading the ledger, and the set's own
    # changes wait for the transaction's last flush.
    with session.no_autoflush:
        others, own = session.execute(_COUNTED, values).one()
        if own:
            release_quota(session, declaration.id)
        refusal = annual_refusal(purchase, Decimal(int(others)) / 100)
        if refusal is not None:
            return refusal
        fen = whole_fen(purchase.amount)
        entry = {
            "buyer_id_number": buyer,
            "year": year,
            "amount_fen": fen,
            "declaration_id": declaration.id,
        }
        session.execute(insert(QuotaEntry), [entry])
    return None


def release_quota(session: Session, declaration_id: int) -> int:
    """Give back what the declaration counted against its buyer's annual quota (its 清单 was
    refused, deleted or changed, or customs rejected or returned it); returns rows removed."""
    result = session.execute(delete(QuotaEntry).where(QuotaEntry.declaration_id == declaration_id))
    return int(getattr(result, "rowcount", 0) or 0)
