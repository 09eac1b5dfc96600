"""The messages danchuang sends playing the site and the carrier (``app.services.stand_ins``)
from the engine's transactions: the site's records (``Entries``), an export's binding to its
master waybill and departure at its CLOSED transition (``Departures``), and the delivery
records due after import releases (``deliver_due``).

Each goes through the intake like a real party's message, a transaction's messages of one
sender in one intake (``submission.take_played``), which writes together the records of the
kinds it lets share a group (``app.services.taking``). The engine reads ahead, once a
transaction, what they read (``app.services.stand_ins.read_ahead``) and what recording their
declarations' receipts needs (``app.receipts.read_ahead``), so that a message costs the
statements of its own intake only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

import structlog
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app import receipts, states
from app.accounts import Principal
from app.db.models import Declaration
from app.db.models_after import TaxBillRow
from app.engine.partitions import WHOLE, Partition
from app.receipts import NewReceipt
from app.services import stand_ins, submission, taking, tax_bills

log = structlog.get_logger("danchuang.engine")

Act = Callable[[Session, Declaration, datetime], bool]
_T = TypeVar("_T")


def built(
    make: Callable[[Session, Declaration, datetime], _T],
    session: Session,
    row: Declaration,
    at: datetime,
) -> _T | None:
    """A message danchuang plays for ``row``, built and checked (or, ``play``, sent): one its
    own checks refuse (a bug of danchuang's, never the tester's input) is logged and skipped
    (None), without the others, so that clearance goes on."""
    try:
        return make(session, row, at)
    except ValueError:
        log.exception("engine.stand_in_failed", declaration_id=row.id, act=make.__name__)
        return None


def play(act: Act, session: Session, row: Declaration, at: datetime) -> bool:
    """A message danchuang sends playing a party, at once; False when none was (``built``)."""
    return bool(built(act, session, row, at))


def take_by_sender(session: Session, played: Sequence[stand_ins.Played]) -> None:
    """Each sender's messages in one intake, in their order; senders as they first come."""
    by_sender: dict[int, tuple[Principal, list[taking.Arrival]]] = {}
    for sender, arrival in played:
        by_sender.setdefault(sender.id, (sender, []))[1].append(arrival)
    for sender, arrivals in by_sender.values():
        submission.take_played(session, sender, arrivals)


class Entries:
    """The site's records (``stand_ins.site_record``) of a transaction's declarations, kept
    until ``take`` takes them together, as one sender's (danchuang's site) in one intake."""

    def __init__(self) -> None:
        self._waiting: dict[int, taking.Arrival] = {}

    def __contains__(self, declaration_id: int) -> bool:
        return declaration_id in self._waiting

    def add(self, session: Session, row: Declaration, at: datetime) -> None:
        arrival = built(stand_ins.site_record, session, row, at)
        if arrival is not None:
            self._waiting[row.id] = arrival

    def take(self, session: Session, before: list[NewReceipt]) -> list[NewReceipt]:
        """The receipts ``before`` them recorded, take the records waiting; nothing is left
        to record (an empty list)."""
        receipts.record_receipts(session, before)
        if self._waiting:
            arrivals = list(self._waiting.values())
            self._waiting.clear()
            submission.take_played(session, stand_ins.site_operator(session), arrivals)
        return []


class Departures:
    """Exports whose goods leave at their CLOSED transition (the model's exit), kept until
    ``send``: the carrier binds the parcel to its master waybill (CEB607, if no list did) and
    its departure record (CEB509) closes its 清单 (``site_entries.plan_departure``: CEB604
    899). danchuang sends them, unless a real carrier does. CLOSED is a declaration's last
    transition, so they may wait for the transaction's other receipts: a declaration's own
    come first either way. Each carrier's CEB607s are taken together, then its CEB509s, each
    built once its parcel is bound (a binding supplies the 清单's transport, which the
    departure names)."""

    def __init__(self, real: Mapping[int, frozenset[str]]) -> None:
        self._real = real  # the messages real parties send (``real_senders``)
        self._waiting: list[tuple[Declaration, datetime]] = []

    def add(self, row: Declaration, at: datetime) -> None:
        """The export ``row`` leaves ``at``."""
        self._waiting.append((row, at))

    def send(self, session: Session) -> list[int]:
        """Send the messages waiting; returns the declarations whose departure danchuang could
        not send (their 899 is then recorded as it is), in order."""
        waiting, self._waiting = self._waiting, []
        real = self._real.get  # what real parties send
        binds = (
            built(stand_ins.binding, session, row, at)
            for row, at in waiting
            if "CEB607" not in real(row.id, ())
        )
        take_by_sender(session, [played for played in binds if played is not None])
        departs, unsent = [], []
        for row, at in waiting:
            if "CEB509" in real(row.id, ()):
                continue  # the real carrier's record closes it when it comes
            played = built(stand_ins.departure, session, row, at)
            if played is None:
                unsent.append(row.id)
            else:
                departs.append(played)
        take_by_sender(session, departs)
        return unsent


def follow_ups_due(session: Session, now: datetime | None, part: Partition = WHOLE) -> bool:
    """Is a delivery of danchuang's (of ``part``) or a tax bill's summing (the first
    partition's chore) due by ``now`` (None: any)?"""
    delivery = Declaration.delivery_due_at.is_not(None) & part.covers(Declaration.id)
    bill: ColumnElement[bool] = TaxBillRow.state == tax_bills.ISSUED
    if now is not None:
        delivery = delivery & (Declaration.delivery_due_at <= now)
        bill = bill & (TaxBillRow.due_at <= now)
    if session.scalar(select(Declaration.id).where(delivery).limit(1)) is not None:
        return True
    return part.first and session.scalar(select(TaxBillRow.id).where(bill).limit(1)) is not None


def deliver_due(session: Session, now: datetime | None, part: Partition = WHOLE) -> int:
    """danchuang, playing the carrier, delivers the goods of ``part`` due by ``now`` (None:
    all, the ``instant`` mode); returns how many delivery records it sent."""
    query = select(Declaration).where(
        Declaration.delivery_due_at.is_not(None), part.covers(Declaration.id)
    )
    if now is not None:
        query = query.where(Declaration.delivery_due_at <= now)
    rows = list(session.scalars(query.order_by(Declaration.id).limit(200)))
    stand_ins.read_ahead(session, [row.id for row in rows])  # their waybills, at once
    receipts.read_ahead(session, [("declaration", row.id) for row in rows])  # a record's 2 → 399
    deliveries = []
    for row in rows:
        assert row.delivery_due_at is not None
        if row.state != states.CANCELLED:
            played = built(stand_ins.delivery, session, row, row.delivery_due_at)
            if played is not None:
                deliveries.append(played)
    take_by_sender(session, deliveries)
    for row in rows:  # after the plays: not flushed by each, written together at the commit
        row.delivery_due_at = None
    return len(deliveries)
