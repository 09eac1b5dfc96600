"""The buyers' annual quota (26,000 CNY a year, 财关税〔2018〕49号), counted per set.

A complete, reconciled import set counts its 清单's purchase (``declarations.Purchase``, kept
with the 清单's facts on arrival) in the ledger, inside the write transaction (``count_quota``);
a refused, withdrawn or changed set gives it back (``release_quota``). The limit itself is the
core's (``declarations.annual_refusal``); the ledger's sums are ``app.quota.used_fen``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from app.db.models import Declaration, QuotaEntry
from app.quota import LedgerQuota, used_fen
from declarations import Finding, Purchase, annual_refusal


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
    release_quota(session, declaration.id)
    used = used_fen(session, purchase.buyer_id_number, purchase.year) / 100
    refusal = annual_refusal(purchase, used)
    if refusal is not None:
        return refusal
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
