"""Recording receipts (回执) — the one place a receipt is born, and its webhooks queued.

Every receipt (the submission side's 2 → 3 → 120 and the clearance engine's state changes) is
recorded through ``record_receipts`` (or ``record_receipt`` for one): it numbers the receipt
within its declaration (or its document, when the document has no set), and puts one outbox row
per matching active webhook of every enterprise that sent a document of the set, in the same
transaction: a receipt is never stored without its deliveries, nor delivered without being
stored.

The hot path is a handful of statements per transaction, not per receipt: the receipts of one
call are one ``INSERT ... RETURNING``, their deliveries one more; a subject's last ``seq`` and
its subscribers are read once per transaction (``_Book``), and not at all for a subject the
caller knows is new (``first_receipts``). On PostgreSQL a subject's last ``seq`` is read
under the subject's own advisory lock (``_guard``), so its writers number it in turn whoever
calls (callers hold the set's lock already: ``app.services.set_locks``). Within one
transaction a set's subscribers are read at its first receipt, and again after a party joins it
(``share_receipts``); the active webhooks of a party, once.

One story for the feed and the webhooks: a party sees a set's receipts from the moment it sends
a document of the set, those recorded before it joined included. When a document joins a set
(``sets.attach``), ``file_adopted`` moves the receipts of the documents that waited for the set
(orphans) under its declaration, numbered after the set's own (``seq`` is unique within a
declaration), and ``share_receipts`` queues for the webhooks of every party that now sees
receipts it did not (a newcomer to the set: all of them; the parties already there: the
adopted ones). What reaches a party's ``feed``, its webhooks push, from their registration on.

Feed cursor: on PostgreSQL a writer, before its first receipt id (``_guard``), takes a shared
advisory lock keyed ``FEED_MARK`` + the receipt sequence's last value, so that the feed
(``app.feed``) shows no id an unfinished writer could still fall under; ``app.feed`` says why.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from app import metrics
from app.db.engine import transaction_state
from app.db.models import Delivery, DocumentRow, Receipt, Webhook

# Feed marks: FEED_MARK + the sequence's last value (``pg_locks``: classid = key >> 32).
FEED_MARK = 0x6466 << 48  # "df"
LAST_ID = "coalesce(pg_sequence_last_value(pg_get_serial_sequence('receipts', 'id')::regclass), 0)"
_MARK = f"pg_advisory_xact_lock_shared({FEED_MARK} + {LAST_ID})"
SUBJECT_LOCK = 0x6473 << 48  # "ds": a subject's lock is this + its id (+ 2^47: a document's)
_SUBJECT_KIND = {"declaration": 0, "document": 1 << 47}
_BOOK = "danchuang.receipt_book"  # where a transaction's _Book lives in ``Session.info``

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


def subject_of(declaration_id: int | None, document_id: int | None) -> Subject:
    """Whose receipts these are: the declaration's when there is one, else the document's."""
    if declaration_id is not None:
        return ("declaration", declaration_id)
    if document_id is not None:
        return ("document", document_id)
    raise ValueError("a receipt answers a declaration or a document")


@dataclass
class _Book:
    """What one transaction has learnt about receipt subjects: their last ``seq`` and their
    subscribers (webhook id, events). Bound to the transaction: a new one starts afresh."""

    marked: bool = False
    guarded: set[Subject] = field(default_factory=set)
    last_seq: dict[Subject, int] = field(default_factory=dict)
    subscribers: dict[Subject, list[tuple[int, list[str]]]] = field(default_factory=dict)
    hooks: dict[int, list[Any]] = field(default_factory=dict)  # active webhooks by enterprise


def _book(session: Session) -> _Book:
    return transaction_state(session, _BOOK, _Book)


def _guard(session: Session, book: _Book, subjects: Collection[Subject]) -> None:
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
    _book(session).last_seq.setdefault(subject_of(declaration_id, document_id), 0)


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
    """Record one receipt (see ``record_receipts``)."""
    new = NewReceipt(
        message_code, return_status, return_info, declaration_id, document_id, sim_time
    )
    return record_receipts(session, [new])[0]


def record_receipts(session: Session, receipts: Sequence[NewReceipt]) -> list[Receipt]:
    """Store ``receipts`` in this order (ids and per-subject ``seq`` grow with it) and queue
    their webhook deliveries; returns the stored rows."""
    if not receipts:
        return []
    subjects = [r.subject for r in receipts]  # raises for a receipt without a subject
    book = _book(session)
    _guard(session, book, subjects)
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
    # map), then ORM objects built from what was written, for the callers. RETURNING promises
    # no order, so the rows are matched back by their (subject, seq), which is unique.
    table = cast(Table, Receipt.__table__)
    returned = session.execute(
        insert(table).returning(
            table.c.id, table.c.created_at, table.c.declaration_id, table.c.document_id, table.c.seq
        ),
        values,
    )
    written = {
        (subject_of(declaration_id, document_id), seq): (ident, created_at)
        for ident, created_at, declaration_id, document_id, seq in returned
    }
    stored = []
    for subject, value in zip(subjects, values, strict=True):
        ident, created_at = written[(subject, value["seq"])]
        stored.append(Receipt(id=ident, created_at=created_at, **value))
    deliveries = [
        {"receipt_id": receipt.id, "webhook_id": webhook_id}
        for receipt, subject in zip(stored, subjects, strict=True)
        for webhook_id, events in book.subscribers[subject]
        if not events or receipt.message_code in events
    ]
    if deliveries:
        session.execute(insert(Delivery), deliveries)
    # Counted when recorded; a transaction rolled back later over-counts, which is acceptable
    # for a rate metric and keeps the counter next to the one place receipts are born.
    for receipt in stored:
        metrics.RECEIPTS.labels(
            message=receipt.message_code, status=str(receipt.return_status)
        ).inc()
    return stored


def file_adopted(session: Session, declaration_id: int, document_ids: Sequence[int]) -> list[int]:
    """File the receipts of documents that waited for their set (orphans, numbered per
    document until now) under the declaration that adopts them: numbered after the set's own,
    in the order they were recorded. Returns their ids. Call before the set's next receipt of
    the transaction."""
    if not document_ids:
        return []
    book = _book(session)
    subject: Subject = ("declaration", declaration_id)
    _guard(session, book, [subject])
    if subject not in book.last_seq:
        rows = session.execute(_LAST_SEQ["declaration"], {"ids": [declaration_id]})
        book.last_seq[subject] = next((seq for _, seq in rows), None) or 0
    waiting = list(
        session.scalars(
            select(Receipt.id)
            .where(Receipt.document_id.in_(document_ids), Receipt.declaration_id.is_(None))
            .order_by(Receipt.id)
        )
    )
    if waiting:
        first = book.last_seq[subject] + 1
        book.last_seq[subject] += len(waiting)
        session.execute(
            update(Receipt),
            [
                {"id": ident, "declaration_id": declaration_id, "seq": seq}
                for seq, ident in enumerate(waiting, start=first)
            ],
        )
    return waiting


def share_receipts(
    session: Session,
    declaration_id: int,
    *,
    newcomers: Collection[int],
    members: Collection[int] = (),
    refiled: Collection[int] = (),
) -> int:
    """Queue what reaches parties' feeds after it was recorded: a party joining the set
    (``newcomers``) now sees every receipt of it; the parties already in it (``members``) now
    see the receipts of the orphans it adopted (``refiled``). Each of their active webhooks is
    given those its events select and it was not given yet; a webhook registered later is not
    given what reached its party's feed before. Returns the deliveries queued."""
    refiled = set(refiled)
    book = _book(session)
    if newcomers:  # the set's subscribers, if read already this transaction, are more now
        book.subscribers.pop(("declaration", declaration_id), None)
    owners = set(newcomers) | (set(members) if refiled else set())
    if not owners:
        return 0
    hooks = _active_hooks(session, book, owners)
    if not hooks:
        return 0
    of_set = Receipt.declaration_id == declaration_id
    if not any(hook.enterprise_id in newcomers for hook in hooks):
        of_set = Receipt.id.in_(refiled)
    receipts = session.execute(select(Receipt.id, Receipt.message_code).where(of_set)).all()
    # A webhook is given a set's receipts only as its party's (a sender of the set's documents,
    # ``_SUBSCRIBERS``), so a newcomer's were given none of them: only receipts refiled from an
    # orphan can have reached a webhook before (as its document's).
    given = set()
    if refiled:
        given = {
            (receipt_id, webhook_id)
            for receipt_id, webhook_id in session.execute(
                select(Delivery.receipt_id, Delivery.webhook_id).where(
                    Delivery.webhook_id.in_([hook.id for hook in hooks]),
                    Delivery.receipt_id.in_(refiled),
                )
            )
        }
    missing = [
        {"receipt_id": receipt.id, "webhook_id": hook.id}
        for hook in hooks
        for receipt in receipts
        if (hook.enterprise_id in newcomers or receipt.id in refiled)
        and (receipt.id, hook.id) not in given
        and (not hook.events or receipt.message_code in hook.events)
    ]
    if missing:
        session.execute(insert(Delivery), missing)
    return len(missing)


def _active_hooks(session: Session, book: _Book, owners: Collection[int]) -> list[Any]:
    """The active webhooks (id, enterprise_id, events) of ``owners``, each enterprise's read
    once a transaction (a batch's records share their sender)."""
    unknown = sorted(set(owners) - book.hooks.keys())
    if unknown:
        for owner in unknown:
            book.hooks[owner] = []
        for hook in session.execute(_ACTIVE_HOOKS, {"owners": unknown}):
            book.hooks[hook.enterprise_id].append(hook)
    return [hook for owner in owners for hook in book.hooks[owner]]


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


_ACTIVE_HOOKS = select(Webhook.id, Webhook.enterprise_id, Webhook.events).where(
    Webhook.active.is_(True), Webhook.enterprise_id.in_(bindparam("owners", expanding=True))
)
# Built once: every write transaction that answers a document runs two of them.
_LAST_SEQ = {
    "declaration": _last_seq_query(Receipt.declaration_id),
    "document": _last_seq_query(Receipt.document_id, Receipt.declaration_id.is_(None)),
}
_SUBSCRIBERS = {
    "declaration": _subscribers_query(DocumentRow.declaration_id),
    "document": _subscribers_query(DocumentRow.id),
}


def _learn(session: Session, book: _Book, subjects: Sequence[Subject]) -> None:
    """Read the last ``seq`` and the subscribers of every subject the book does not know yet:
    two queries per kind of subject, however many subjects (the engine records a hundred
    declarations' receipts at once)."""
    for kind in ("declaration", "document"):
        ids: list[int] = sorted(
            {i for k, i in subjects if k == kind and (k, i) not in book.subscribers}
        )
        if not ids:
            continue
        unnumbered = [i for i in ids if (kind, i) not in book.last_seq]
        if unnumbered:
            rows = session.execute(_LAST_SEQ[kind], {"ids": unnumbered})
            last = {ident: seq for ident, seq in rows}
            for ident in unnumbered:
                book.last_seq[(kind, ident)] = last.get(ident) or 0
        for ident in ids:
            book.subscribers[(kind, ident)] = []
        # A sender of two documents of the set joins twice: keep each webhook once (no
        # DISTINCT: PostgreSQL cannot compare json values).
        for ident, hook_id, events in session.execute(_SUBSCRIBERS[kind], {"ids": ids}):
            hooks = book.subscribers[(kind, ident)]
            if not hooks or hooks[-1][0] != hook_id:  # ordered: a repeat follows its first
                hooks.append((hook_id, list(events or [])))


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
