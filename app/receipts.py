"""Recording receipts (回执) — the one place a receipt is born, and its webhooks queued.

The clearance engine (a later step) calls ``record_receipt`` for every state change; this
function numbers the receipt within its declaration, and puts one outbox row per matching
active webhook of every enterprise that sent a document of the set, in the same transaction:
a receipt is never stored without its deliveries, nor delivered without being stored.

Feed cursor: clients poll ``receipts.id > cursor``. On PostgreSQL ids come from a sequence and
could commit out of order (a later id visible before an earlier one, which a poller would then
skip forever), so receipt writers take a transaction-level advisory lock: receipts commit in id
order. SQLite has a single writer, so the order is given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app import metrics
from app.db.models import Delivery, Document, Receipt, Webhook

RECEIPT_FEED_LOCK = 0x6463_7263  # "dcrc": an arbitrary, fixed advisory-lock id


def record_receipt(
    session: Session,
    *,
    message_code: str,
    return_status: int,
    return_info: str = "",
    declaration_id: int | None = None,
    document_id: int | None = None,
    sim_time: datetime | None = None,
) -> Receipt:
    if declaration_id is None and document_id is None:
        raise ValueError("a receipt answers a declaration or a document")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": RECEIPT_FEED_LOCK})

    if declaration_id is not None:
        same_subject = Receipt.declaration_id == declaration_id
    else:
        same_subject = (Receipt.document_id == document_id) & Receipt.declaration_id.is_(None)
    seq = (session.scalar(select(func.max(Receipt.seq)).where(same_subject)) or 0) + 1

    receipt = Receipt(
        declaration_id=declaration_id,
        document_id=document_id,
        message_code=message_code,
        return_status=return_status,
        return_info=return_info,
        seq=seq,
        sim_time=sim_time,
    )
    session.add(receipt)
    session.flush()
    for webhook in _subscribers(session, receipt):
        session.add(Delivery(receipt_id=receipt.id, webhook_id=webhook.id))
    session.flush()
    # Counted when recorded; a transaction rolled back later over-counts by one, which is
    # acceptable for a rate metric and keeps the counter next to the one place receipts are born.
    metrics.RECEIPTS.labels(message=message_code, status=str(return_status)).inc()
    return receipt


def _subscribers(session: Session, receipt: Receipt) -> list[Webhook]:
    """Active webhooks of the enterprises concerned whose event filter takes this receipt."""
    if receipt.declaration_id is not None:
        senders = select(Document.sender_id).where(
            Document.declaration_id == receipt.declaration_id
        )
    else:
        senders = select(Document.sender_id).where(Document.id == receipt.document_id)
    hooks = session.scalars(
        select(Webhook)
        .where(Webhook.active.is_(True), Webhook.enterprise_id.in_(senders))
        .order_by(Webhook.id)
    )
    return [h for h in hooks if not h.events or receipt.message_code in h.events]


def receipt_json(receipt: Receipt) -> dict[str, Any]:
    """The receipt as clients see it, in the feed and in webhook bodies."""
    return {
        "id": receipt.id,
        "message_code": receipt.message_code,
        "return_status": receipt.return_status,
        "return_info": receipt.return_info,
        "declaration_id": receipt.declaration_id,
        "document_id": receipt.document_id,
        "seq": receipt.seq,
        "sim_time": receipt.sim_time.isoformat() if receipt.sim_time else None,
        "created_at": receipt.created_at.isoformat(),
    }


def feed(session: Session, enterprise_id: int, *, after: int, limit: int) -> list[Receipt]:
    """Receipts concerning the enterprise (for its documents, or for sets it took part in),
    oldest first, with ``id > after``."""
    my_documents = select(Document.id).where(Document.sender_id == enterprise_id)
    my_declarations = select(Document.declaration_id).where(
        Document.sender_id == enterprise_id, Document.declaration_id.is_not(None)
    )
    return list(
        session.scalars(
            select(Receipt)
            .where(
                Receipt.id > after,
                Receipt.document_id.in_(my_documents) | Receipt.declaration_id.in_(my_declarations),
            )
            .order_by(Receipt.id)
            .limit(limit)
        )
    )
