"""Recording receipts (回执) — the one place a receipt is born, and its webhooks queued.

Every receipt (the submission side's 2 → 3 → 120 and the clearance engine's state changes) is
recorded through ``record_receipts`` (or ``record_receipt`` for one): it numbers the receipt
within its declaration (or its document, when the document has no set), and puts one outbox row
per matching active webhook of every enterprise that sent a document of the set, in the same
transaction: a receipt is never stored without its deliveries, nor delivered without being
stored.

The hot path is a handful of statements per transaction, not per receipt: the receipts of one
call are one ``INSERT ... RETURNING`` (the caller gets values, ``StoredReceipt``, not ORM
rows), their deliveries one more; a subject's last ``seq`` and its subscribers are read once
per transaction (``Book``), and not at all for a subject the caller knows is new
(``first_receipts``). On PostgreSQL a subject's last ``seq`` is read under the subject's own
advisory lock (``guard``), so its writers number it in turn whoever calls (callers hold the
set's lock already: ``app.services.set_locks``). Within one transaction a set's subscribers
are read at its first receipt, or with its parties (``app.services.set_parties``), and grow
when a party joins it (``share_receipts``); the active webhooks of a party are read once.

Who sees a set's receipts, and the receipts a party joining a set is given, is
``app.services.set_parties``'.

Feed cursor: on PostgreSQL a writer, before its first receipt id (``guard``), takes a shared
advisory lock keyed ``FEED_MARK`` + the receipt sequence's last value, so that the feed
(``app.feed``) shows no id an unfinished writer could still fall under; ``app.feed`` says why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, func, insert, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from app import metrics
from app.db.driver_rows import insert_many
from app.db.engine import transaction_state
from app.db.models import Delivery, DocumentRow, Receipt, Webhook, utcnow

# Feed marks: FEED_MARK + the sequence's last value (``pg_locks``: classid = key >> 32).
FEED_MARK = 0x6466 << 48  # "df"
LAST_ID = "coalesce(pg_sequence_last_value(pg_get_serial_sequence('receipts', 'id')::regclass), 0)"
_MARK = f"pg_advisory_xact_lock_shared({FEED_MARK} + {LAST_ID})"
SUBJECT_LOCK = 0x6473 << 48  # "ds": a subject's lock is this + its id (+ 2^47: a document's)
_SUBJECT_KIND = {"declaration": 0, "document": 1 << 47}
_BOOK = "danchuang.receipt_book"  # where a transaction's Book lives in ``Session.info``

# A receipt's subject: ("declaration", id) or ("document", id) when the document has no set.
Subject = tuple[str, int]


@dataclass(frozen=True, slots=True)
class NewReceipt:
    """One receipt to record: what it says, and what it answers."""

    message_code: str
    return_status: int
    return_info: str = ""
    declaration_id: int | None = None
    document_id: int | None = None
    sim_time: datetime | None = None

    @property
    def subject(self) -> Subject:
        return subject_of(self.declaration_id, self.document_id)


@dataclass(frozen=True, slots=True)
class StoredReceipt:
    """A receipt as ``record_receipts`` stored it: the row's values, not an ORM object, which
    the session does not hold (a ``Receipt`` built for each, for callers that mostly drop it,
    was a large share of recording them)."""

    id: int
    declaration_id: int | None
    document_id: int | None
    message_code: str
    return_status: int
    return_info: str
    seq: int
    sim_time: datetime | None
    created_at: datetime


# A receipt as its readers see it (JSON, XML): a row read back, or one just recorded.
AnyReceipt = Receipt | StoredReceipt


def subject_of(declaration_id: int | None, document_id: int | None) -> Subject:
    """Whose receipts these are: the declaration's when there is one, else the document's."""
    if declaration_id is not None:
        return ("declaration", declaration_id)
    if document_id is not None:
        return ("document", document_id)
    raise ValueError("a receipt answers a declaration or a document")


class Hook(NamedTuple):
    """An active webhook: its id, its enterprise, the receipt codes it wants (none: all)."""

    id: int
    enterprise_id: int
    events: list[str] | None


@dataclass
class Book:
    """What one transaction has learnt about receipt subjects: their last ``seq`` and their
    subscribers (webhook id, events). Bound to the transaction: a new one starts afresh."""

    marked: bool = False
    guarded: set[Subject] = field(default_factory=set)
    last_seq: dict[Subject, int] = field(default_factory=dict)
    subscribers: dict[Subject, list[tuple[int, list[str]]]] = field(default_factory=dict)
    hooks: dict[int, list[Hook]] = field(default_factory=dict)  # active ones, by enterprise


def receipt_book(session: Session) -> Book:
    return transaction_state(session, _BOOK, Book)


def guard(session: Session, book: Book, subjects: Collection[Subject]) -> None:
    """On PostgreSQL, one statement: the feed mark (before the first receipt id) and the lock
    of each subject not numbered yet (a subject made in this transaction is no one else's)."""
    new = sorted({s for s in subjects if s not in book.last_seq and s not in book.guarded})
    if book.marked and not new:
        return
    if session.get_bind().dialect.name == "postgresql":
        keys = [SUBJECT_LOCK + _SUBJECT_KIND[kind] + ident for kind, ident in new]
        calls = ([] if book.marked else [_MARK]) + [f"pg_advisory_xact_lock({k})" for k in keys]
        session.execute(text(f"SELECT {', '.join(calls)}"))
    book.marked = True
    book.guarded.update(new)


def first_receipts(
    session: Session, *, declaration_id: int | None = None, document_id: int | None = None
) -> None:
    """Tell the book that this subject has no receipts yet (a document or declaration created
    in this transaction), so its numbering starts at 1 without asking the database."""
    receipt_book(session).last_seq.setdefault(subject_of(declaration_id, document_id), 0)


def read_ahead(session: Session, subjects: Collection[Subject]) -> None:
    """Learn what recording receipts of these subjects needs (their last ``seq``, under their
    lock: ``guard``; their subscribers) at once, two queries per kind of subject: for a caller
    that records each subject's receipts in several calls (the clearance engine, between the
    messages it plays)."""
    book = receipt_book(session)
    guard(session, book, subjects)
    _learn(session, book, list(subjects))


def read_hooks(session: Session, enterprise_ids: Collection[int]) -> None:
    """Read the active webhooks of the enterprises the book does not know yet, in one query:
    the subscribers of the documents they send in this transaction (``_learn``)."""
    book = receipt_book(session)
    unknown = sorted(set(enterprise_ids) - book.hooks.keys())
    if not unknown:
        return
    for owner in unknown:
        book.hooks[owner] = []
    for hook in session.execute(_ACTIVE_HOOKS, {"owners": unknown}):
        book.hooks[hook.enterprise_id].append(Hook(*hook))


def record_receipt(
    session: Session,
    *,
    message_code: str,
    return_status: int,
    return_info: str = "",
    declaration_id: int | None = None,
    document_id: int | None = None,
    sim_time: datetime | None = None,
) -> StoredReceipt:
    """Record one receipt (see ``record_receipts``)."""
    new = NewReceipt(
        message_code, return_status, return_info, declaration_id, document_id, sim_time
    )
    return record_receipts(session, [new])[0]


def record_receipts(session: Session, receipts: Sequence[NewReceipt]) -> list[StoredReceipt]:
    """Store ``receipts`` in this order (ids and per-subject ``seq`` grow with it) and queue
    their webhook deliveries; returns what was stored, in this order (values, not ORM rows:
    the session holds none of them)."""
    if not receipts:
        return []
    subjects = [r.subject for r in receipts]  # raises for a receipt without a subject
    book = receipt_book(session)
    guard(session, book, subjects)
    _learn(session, book, subjects)
    values: list[dict[str, Any]] = []
    for new, subject in zip(receipts, subjects, strict=True):
        seq = book.last_seq[subject] + 1
        book.last_seq[subject] = seq
        values.append(
            {
                "declaration_id": new.declaration_id,
                "document_id": new.document_id,
                "message_code": new.message_code,
                "return_status": new.return_status,
                "return_info": new.return_info,
                "seq": seq,
                "sim_time": new.sim_time,
            }
        )
    # One statement for all of them: Core INSERT ... RETURNING (no unit of work, no identity
    # map), then values built from what was written, for the callers. RETURNING promises no
    # order, so the rows are matched back by their (subject, seq), which is unique.
    returned = session.execute(_INSERT, values)
    written = {
        (subject_of(declaration_id, document_id), seq): (ident, created_at)
        for ident, created_at, declaration_id, document_id, seq in returned
    }
    stored = []
    for subject, value in zip(subjects, values, strict=True):
        ident, created_at = written[(subject, value["seq"])]
        stored.append(StoredReceipt(id=ident, created_at=created_at, **value))
    deliveries = [
        (receipt.id, webhook_id)
        for receipt, subject in zip(stored, subjects, strict=True)
        for webhook_id, events in book.subscribers[subject]
        if not events or receipt.message_code in events
    ]
    queue_deliveries(session, deliveries)
    # Counted when recorded; a transaction rolled back later over-counts, which is acceptable
    # for a rate metric and keeps the counter next to the one place receipts are born.
    # Once a label pair: finding a child counter costs more than adding to it.
    counted = Counter((receipt.message_code, receipt.return_status) for receipt in stored)
    for (code, status), n in counted.items():
        metrics.RECEIPTS.labels(message=code, status=str(status)).inc(n)
    return stored


def queue_deliveries(session: Session, deliveries: Sequence[tuple[int, int]]) -> None:
    """Queue a delivery of each (receipt id, webhook id), due now. Written through the driver:
    SQLAlchemy's work a row cost three times the write (``app.db.driver_rows``)."""
    insert_many(
        session, _DELIVERIES, ("receipt_id", "webhook_id"), deliveries, same=_queued(utcnow())
    )


def _queued(now: datetime) -> dict[str, Any]:
    """A new delivery's columns but its receipt and webhook: due now, never tried."""
    return {"attempts": 0, "next_attempt_at": now, "delivered_at": None, "failed_at": None,
            "last_error": None, "created_at": now}  # fmt: skip


def _last_seq_query(key: Any, *where: Any) -> Any:
    ids = key.in_(bindparam("ids", expanding=True))
    return select(key, func.max(Receipt.seq)).where(ids, *where).group_by(key)


def _subscribers_query(owner: Any) -> Any:
    """Active webhooks of every sender of a document of the set (or of the document)."""
    return (
        select(owner, Webhook.id, Webhook.events)
        .join(DocumentRow, DocumentRow.sender_id == Webhook.enterprise_id)
        .where(Webhook.active.is_(True), owner.in_(bindparam("ids", expanding=True)))
        .order_by(owner, Webhook.id)
    )


# Built once (building a statement costs about as much as running it on the hot path): every
# write transaction that answers a document runs the INSERT, and up to two of the reads.
_TABLE = cast(Table, Receipt.__table__)
_DELIVERIES = cast(Table, Delivery.__table__)
_INSERT = insert(_TABLE).returning(
    _TABLE.c.id, _TABLE.c.created_at, _TABLE.c.declaration_id, _TABLE.c.document_id, _TABLE.c.seq
)
# A ``StoredReceipt``'s columns in its fields' order: ``select(*STORED)`` reads them back.
STORED = tuple(_TABLE.c[f.name] for f in fields(StoredReceipt))
_LAST_SEQ = {
    "declaration": _last_seq_query(Receipt.declaration_id),
    "document": _last_seq_query(Receipt.document_id, Receipt.declaration_id.is_(None)),
}
_ACTIVE_HOOKS = select(Webhook.id, Webhook.enterprise_id, Webhook.events).where(
    Webhook.active.is_(True), Webhook.enterprise_id.in_(bindparam("owners", expanding=True))
)
_SUBSCRIBERS = {
    "declaration": _subscribers_query(DocumentRow.declaration_id),
    "document": _subscribers_query(DocumentRow.id),
}


def read_last_seq(session: Session, book: Book, kind: str, ids: Collection[int]) -> None:
    """Read the last ``seq`` of the subjects of ``kind`` (``ids``) the book has not numbered
    yet, in one query (under their locks: ``guard`` first)."""
    unnumbered = sorted(i for i in ids if (kind, i) not in book.last_seq)
    if unnumbered:
        last = {ident: seq for ident, seq in session.execute(_LAST_SEQ[kind], {"ids": unnumbered})}
        for ident in unnumbered:
            book.last_seq[(kind, ident)] = last.get(ident) or 0


def _learn(session: Session, book: Book, subjects: Sequence[Subject]) -> None:
    """Read the last ``seq`` and the subscribers of every subject the book does not know yet:
    two queries per kind of subject, however many subjects (the engine records a hundred
    declarations' receipts at once). A document's subscribers are its sender's active
    webhooks: none is read for a document of a sender the book knows (``_by_sender``)."""
    for kind in ("declaration", "document"):
        ids: list[int] = sorted(
            {i for k, i in subjects if k == kind and (k, i) not in book.subscribers}
        )
        if not ids:
            continue
        read_last_seq(session, book, kind, ids)
        senders = _by_sender(session, book, ids) if kind == "document" else {}
        ids = [i for i in ids if (kind, i) not in book.subscribers]
        if not ids:
            continue
        for ident in ids:
            book.subscribers[(kind, ident)] = []
        # A sender of two documents of the set joins twice: keep each webhook once (no
        # DISTINCT: PostgreSQL cannot compare json values).
        for ident, hook_id, events in session.execute(_SUBSCRIBERS[kind], {"ids": ids}):
            hooks = book.subscribers[(kind, ident)]
            if not hooks or hooks[-1][0] != hook_id:  # ordered: a repeat follows its first
                hooks.append((hook_id, list(events or [])))
        for ident, sender in senders.items():  # read now: their next documents need not
            hooks = book.subscribers[(kind, ident)]
            book.hooks.setdefault(sender, [Hook(h, sender, events) for h, events in hooks])


def _by_sender(session: Session, book: Book, document_ids: Sequence[int]) -> dict[int, int]:
    """The documents the session holds (stored in this transaction) whose sender's active
    webhooks the book knows are given them as their subscribers; returns the senders of the
    others, by document, whose webhooks the book learns from the subscribers ``_learn`` reads."""
    unknown = {}
    for ident in document_ids:
        row = session.identity_map.get(identity_key(DocumentRow, ident))
        if not isinstance(row, DocumentRow):
            continue
        known = book.hooks.get(row.sender_id)
        if known is None:
            unknown[ident] = row.sender_id
            continue
        of_sender = {hook.id: list(hook.events or []) for hook in known}
        book.subscribers[("document", ident)] = sorted(of_sender.items())
    return unknown


def receipt_json(receipt: AnyReceipt) -> dict[str, Any]:
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
