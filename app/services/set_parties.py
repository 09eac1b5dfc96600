"""Who sees a set's receipts: its parties, each from the moment it sends a document of the set.

One story for the feed and the webhooks: a party sees a set's receipts from the moment it sends
a document of the set, those recorded before it joined included. When a document joins a set
(``sets.attach``), ``file_adopted`` moves the receipts of the documents that waited for the set
(orphans) under its declaration, numbered after the set's own (``seq`` is unique within a
declaration), and ``share_receipts`` queues for the webhooks of every party that now sees
receipts it did not (a newcomer to the set: all of them; the parties already there: the
adopted ones). What reaches a party's ``feed``, its webhooks push, from their registration on.

The orphans a group of records may adopt (``app.services.set_lookups``) have their receipts
read in one query (``read_waiting``), and those adopted are refiled in one statement when the
group has found its sets (``refile_adopted``), each set's numbered after its own as above.

``set_parties`` reads who the set's parties are together with what recording the set's next
receipts needs (``app.receipts``: its last ``seq``, its subscribers), so that a document
joining a known set costs one statement for all of it; ``share_receipts`` then adds the
newcomers' webhooks to the subscribers the transaction knows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from app.db.engine import transaction_state
from app.db.models import Delivery, DocumentRow, Enterprise, Receipt, Webhook
from app.receipts import (
    Book,
    Hook,
    Subject,
    guard,
    queue_deliveries,
    read_hooks,
    read_last_seq,
    receipt_book,
)

_ADOPTING = "danchuang.set_parties.adopting"  # a group's ``_Adopting``, in ``Session.info``
_SHARING = "danchuang.set_parties.sharing"  # the receipts of a group's sets (``read_ahead``)


def file_adopted(session: Session, declaration_id: int, document_ids: Sequence[int]) -> list[int]:
    """File the receipts of documents that waited for their set (orphans, numbered per
    document until now) under the declaration that adopts them: numbered after the set's own,
    in the order they were recorded. Returns their ids. Call before the set's next receipt of
    the transaction. Orphans whose receipts were read ahead (``read_waiting``) are refiled
    with the group's others (``refile_adopted``); any other, at once."""
    if not document_ids:
        return []
    book = receipt_book(session)
    subject: Subject = ("declaration", declaration_id)
    guard(session, book, [subject])
    read_last_seq(session, book, "declaration", [declaration_id])
    adopting = _adopting(session)
    if all(ident in adopting.waiting for ident in document_ids):
        waiting = sorted(r for ident in document_ids for r in adopting.waiting.pop(ident))
    else:
        waiting = list(session.scalars(_WAITING, {"ids": list(document_ids)}))
    first = book.last_seq[subject] + 1
    book.last_seq[subject] += len(waiting)
    refiles = [
        {"receipt": ident, "declaration": declaration_id, "seq_": seq}
        for seq, ident in enumerate(waiting, start=first)
    ]
    if adopting.grouped:
        adopting.refiles.extend(refiles)
    elif refiles:
        session.execute(_REFILE, refiles)
    return waiting


@dataclass
class _Adopting:
    """A group's orphans as ``read_waiting`` read them: the receipts of each (by document id,
    oldest first), and the refiles of those adopted, written by ``refile_adopted``."""

    grouped: bool = False
    waiting: dict[int, list[int]] = field(default_factory=dict)
    refiles: list[dict[str, int]] = field(default_factory=list)
    # what ``share_receipts`` asks of the receipts read: their codes, the deliveries given
    # (read at its first asking: a group without webhooks never does)
    codes: dict[int, str] = field(default_factory=dict)
    given: set[tuple[int, int]] | None = None

    def knows(self, receipts: Collection[int]) -> bool:
        """Were these receipts read ahead (``read_waiting``)?"""
        return all(receipt in self.codes for receipt in receipts)


def _adopting(session: Session) -> _Adopting:
    return transaction_state(session, _ADOPTING, _Adopting)


def read_waiting(session: Session, document_ids: Collection[int]) -> None:
    """The receipts of the orphans a group of records may adopt (``set_lookups.looked_up``),
    read in one query; the receipts of those adopted are refiled together
    (``refile_adopted``)."""
    adopting = _adopting(session)
    adopting.grouped = True
    adopting.waiting = {ident: [] for ident in document_ids}
    if not document_ids:
        return
    found = session.execute(_WAITING_OF, {"ids": sorted(document_ids)}).all()
    for receipt, document, code in found:
        adopting.waiting[cast(int, document)].append(receipt)  # asked by document_id
        adopting.codes[receipt] = code


def refile_adopted(session: Session, *, written: bool = True) -> None:
    """The group's adopted orphans' receipts refiled, in one statement (not ``written``: the
    group failed, its transaction is given up); what ``read_waiting`` read is forgotten."""
    adopting = _adopting(session)
    if written and adopting.refiles:
        session.execute(_REFILE, adopting.refiles)
    adopting.grouped, adopting.waiting, adopting.refiles = False, {}, []
    adopting.codes, adopting.given = {}, None


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
    book = receipt_book(session)
    owners = set(newcomers) | (set(members) if refiled else set())
    if not owners:
        return 0
    hooks = _active_hooks(session, book, owners)
    subject: Subject = ("declaration", declaration_id)
    if newcomers and subject in book.subscribers:  # read already this transaction: more now
        joining = [hook for hook in hooks if hook.enterprise_id in newcomers]
        book.subscribers[subject] = _subscribers(book.subscribers[subject], joining)
    if not hooks:
        return 0
    receipts = _receipts_to_share(session, declaration_id, newcomers, hooks, refiled)
    given = _given(session, hooks, refiled)
    missing = [
        (receipt, hook.id)
        for hook in hooks
        for receipt, code in receipts
        if (hook.enterprise_id in newcomers or receipt in refiled)
        and (receipt, hook.id) not in given
        and (not hook.events or code in hook.events)
    ]
    queue_deliveries(session, missing)
    return len(missing)


def _receipts_to_share(
    session: Session,
    declaration_id: int,
    newcomers: Collection[int],
    hooks: Collection[Hook],
    refiled: Collection[int],
) -> Sequence[tuple[int, str]]:
    """(id, message code) of the receipts ``share_receipts`` may give: the set's with a
    newcomer among the webhooks' owners, and those ``refiled`` (whether or not their refile
    is written yet: ``refile_adopted``). What a group read ahead is taken from there: a set's
    receipts (``read_ahead``, once), its orphans' (``read_waiting``)."""
    newcomer = any(hook.enterprise_id in newcomers for hook in hooks)
    adopting = _adopting(session)
    if not adopting.knows(refiled):
        of_set = Receipt.declaration_id == declaration_id
        wanted = (of_set | Receipt.id.in_(refiled)) if newcomer else Receipt.id.in_(refiled)
        return session.execute(select(*_SHARED).where(wanted)).all()
    shared = [(receipt, adopting.codes[receipt]) for receipt in sorted(refiled)]
    if not newcomer:
        return shared
    ahead = _sharing(session).pop(declaration_id, None)
    if ahead is None:
        found = session.execute(_SET_RECEIPTS, {"declaration_id": declaration_id})
        ahead = [(receipt, code) for receipt, code in found]
    return ahead + shared


def _given(
    session: Session, hooks: Collection[Hook], refiled: Collection[int]
) -> set[tuple[int, int]]:
    """(receipt id, webhook id) of the deliveries the ``hooks`` were given of the ``refiled``
    receipts. A webhook is given a set's receipts only as its party's (a sender of the set's
    documents: the set's subscribers in ``app.receipts``), so a newcomer's were given none of
    the set's: only receipts refiled from an orphan can have reached a webhook before (as its
    document's)."""
    if not refiled:
        return set()
    ids = {hook.id for hook in hooks}
    adopting = _adopting(session)
    if adopting.knows(refiled):  # the deliveries of every receipt read ahead, once
        if adopting.given is None:
            given = session.execute(_GIVEN, {"ids": sorted(adopting.codes)})
            adopting.given = {(receipt, webhook) for receipt, webhook in given}
        return {(r, w) for r, w in adopting.given if r in refiled and w in ids}
    query = select(Delivery.receipt_id, Delivery.webhook_id).where(
        Delivery.webhook_id.in_(ids), Delivery.receipt_id.in_(refiled)
    )
    return {(receipt, webhook) for receipt, webhook in session.execute(query)}


def _sharing(session: Session) -> dict[int, list[tuple[int, str]]]:
    """The receipts of the sets a group joins, read ahead (``read_ahead``), by set id."""
    return transaction_state(session, _SHARING, dict)


def forget_shared(session: Session) -> None:
    """A group's end: the receipts read ahead for it and not taken are no longer its sets'."""
    _sharing(session).clear()


def _active_hooks(session: Session, book: Book, owners: Collection[int]) -> list[Hook]:
    """The active webhooks of ``owners``, each enterprise's read once a transaction (a batch's
    records share their sender: ``app.receipts.read_hooks``)."""
    read_hooks(session, owners)
    return [hook for owner in owners for hook in book.hooks[owner]]


def _subscribers(
    known: Iterable[tuple[int, list[str]]], hooks: Iterable[Hook]
) -> list[tuple[int, list[str]]]:
    """Subscribers as ``_learn`` lists them: each webhook once, by id."""
    merged = dict(known) | {hook.id: list(hook.events or []) for hook in hooks}
    return sorted(merged.items())


def set_parties(session: Session, declaration_id: int, joining: int) -> set[int]:
    """The set's parties (the senders of its documents), read in one statement with what
    ``record_receipts`` will ask of the set in this transaction (its last ``seq``, under its
    lock: ``app.receipts.guard``; its subscribers) and the active webhooks of the enterprise
    ``joining`` it, which ``share_receipts`` looks for."""
    book, subject = receipt_book(session), ("declaration", declaration_id)
    guard(session, book, [subject])
    values = {"declaration_id": declaration_id, "joining": joining}
    rows = session.execute(_PARTIES, values).all()
    parties = {owner for owner, party, *_ in rows if party}
    for owner, _, hook_id, events, _ in rows:
        hooks = book.hooks.setdefault(owner, [])
        if hook_id is not None and all(hook.id != hook_id for hook in hooks):
            hooks.append(Hook(hook_id, owner, events))
    if rows:  # ``joining`` is an enterprise: there is always one
        book.last_seq.setdefault(subject, rows[0][-1] or 0)
        of_parties = (hook for owner in sorted(parties) for hook in book.hooks[owner])
        book.subscribers[subject] = _subscribers((), of_parties)
    return parties


def read_ahead(session: Session, parties: Mapping[int, Collection[int]], joining: int) -> None:
    """What ``set_parties`` reads, for the known sets a group of records joins (set id: its
    parties, the senders of its documents, read ahead by ``set_lookups``), in one statement
    per kind of answer however many sets: their last ``seq`` (under their locks), their
    subscribers, and the active webhooks of the enterprise ``joining`` them."""
    if not parties:
        return
    book = receipt_book(session)
    subjects: list[Subject] = [("declaration", ident) for ident in sorted(parties)]
    guard(session, book, subjects)
    read_last_seq(session, book, "declaration", parties)
    _active_hooks(session, book, {joining, *(p for of_set in parties.values() for p in of_set)})
    for ident, of_set in parties.items():
        of_parties = (hook for owner in sorted(of_set) for hook in book.hooks[owner])
        book.subscribers[("declaration", ident)] = _subscribers((), of_parties)
    # The receipts ``share_receipts`` gives the joiner's webhooks, of the sets it is new to:
    # read under the sets' locks (``guard`` above), before the group records any of its own.
    joined = sorted(ident for ident, of_set in parties.items() if joining not in of_set)
    if book.hooks[joining] and joined:
        sharing = _sharing(session)
        sharing.update((ident, []) for ident in joined)
        for of_set_id, receipt, code in session.execute(_SETS_RECEIPTS, {"ids": joined}):
            sharing[cast(int, of_set_id)].append((receipt, code))  # asked by declaration_id


# Built once (building a statement costs about as much as running it on the hot path).
_WAITING = (
    select(Receipt.id)
    .where(
        Receipt.document_id.in_(bindparam("ids", expanding=True)),
        Receipt.declaration_id.is_(None),
    )
    .order_by(Receipt.id)
)
_WAITING_OF = (
    select(Receipt.id, Receipt.document_id, Receipt.message_code)
    .where(
        Receipt.document_id.in_(bindparam("ids", expanding=True)),
        Receipt.declaration_id.is_(None),
    )
    .order_by(Receipt.id)
)
_GIVEN = select(Delivery.receipt_id, Delivery.webhook_id).where(
    Delivery.receipt_id.in_(bindparam("ids", expanding=True))
)
_SHARED = (Receipt.id, Receipt.message_code)
_SET_RECEIPTS = select(*_SHARED).where(Receipt.declaration_id == bindparam("declaration_id"))
_SETS_RECEIPTS = (
    select(Receipt.declaration_id, *_SHARED)
    .where(Receipt.declaration_id.in_(bindparam("ids", expanding=True)))
    .order_by(Receipt.id)
)
_RECEIPTS = cast(Table, Receipt.__table__)
_REFILE = (
    update(_RECEIPTS)
    .where(_RECEIPTS.c.id == bindparam("receipt"))
    .values(declaration_id=bindparam("declaration"), seq=bindparam("seq_"))
)
_SENDERS = select(DocumentRow.sender_id).where(
    DocumentRow.declaration_id == bindparam("declaration_id")
)
# ``set_parties``: the set's senders and the one joining it, each with its active webhooks
# (a row each) and the set's last seq.
_PARTIES = (
    select(
        Enterprise.id,
        Enterprise.id.in_(_SENDERS),
        Webhook.id,
        Webhook.events,
        select(func.max(Receipt.seq))
        .where(Receipt.declaration_id == bindparam("declaration_id"))
        .scalar_subquery(),
    )
    .outerjoin(Webhook, (Webhook.enterprise_id == Enterprise.id) & Webhook.active.is_(True))
    .where((Enterprise.id == bindparam("joining")) | Enterprise.id.in_(_SENDERS))
    .order_by(Enterprise.id, Webhook.id)
)
