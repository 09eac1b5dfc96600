"""The messages danchuang sends playing the site and the carrier (``app.services.stand_ins``)
from the engine's transactions: an export's departure in its place among the receipts
(``departs``), and the delivery records due after import releases (``deliver_due``).

Each goes through the intake like a real party's message. The engine reads ahead, once a
transaction, what they read (``app.services.stand_ins.read_ahead``) and what recording their
declarations' receipts needs (``app.receipts.read_ahead``), so that a message costs the
statements of its own intake only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import structlog
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app import receipts, states
from app.db.models import Declaration
from app.db.models_after import TaxBillRow
from app.engine.partitions import WHOLE, Partition
from app.receipts import NewReceipt
from app.services import stand_ins, submission, taking, tax_bills

log = structlog.get_logger("danchuang.engine")

Act = Callable[[Session, Declaration, datetime], bool]


def play(act: Act, session: Session, row: Declaration, at: datetime) -> bool:
    """A message danchuang sends playing a party; one its own checks refuse (a bug of
    danchuang's, never the tester's input) is logged and skipped, so that clearance goes on."""
    try:
        return act(session, row, at)
    except ValueError:
        log.exception("engine.stand_in_failed", declaration_id=row.id, act=act.__name__)
        return False


class Entries:
    """The site's records (``stand_ins.site_record``) of a transaction's declarations, kept
    until ``take`` takes them together, as one sender's (danchuang's site) in one intake."""

    def __init__(self) -> None:
        self._waiting: dict[int, taking.Arrival] = {}

    def __contains__(self, declaration_id: int) -> bool:
        return declaration_id in self._waiting

    def add(self, session: Session, row: Declaration, at: datetime) -> None:
        try:
            arrival = stand_ins.site_record(session, row, at)
        except ValueError:
            log.exception("engine.stand_in_failed", declaration_id=row.id, act="enter_site")
            return
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


def departs(
    session: Session, row: Declaration, at: datetime, real: Mapping[int, frozenset[str]]
) -> bool:
    """An export's goods leave ``at`` (the model's exit): the carrier binds the parcel to its
    master waybill (CEB607, if no list did) and its departure record (CEB509) closes its 清单
    (``site_entries.plan_departure``: CEB604 899). danchuang sends them, or a real carrier
    will; False when danchuang's could not be sent (899 is then recorded as it is)."""
    if "CEB607" not in real.get(row.id, ()):
        play(stand_ins.bind, session, row, at)  # the parcel on its master waybill
    if "CEB509" in real.get(row.id, ()):
        return True  # the real carrier's record closes it when it comes
    return play(stand_ins.depart, session, row, at)


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
    sent = 0
    rows = list(session.scalars(query.order_by(Declaration.id).limit(200)))
    stand_ins.read_ahead(session, [row.id for row in rows])  # their waybills, at once
    receipts.read_ahead(session, [("declaration", row.id) for row in rows])  # a record's 2 → 399
    for row in rows:
        assert row.delivery_due_at is not None
        if row.state != states.CANCELLED and play(
            stand_ins.deliver, session, row, row.delivery_due_at
        ):
            sent += 1
    for row in rows:  # after the plays: not flushed by each, written together at the commit
        row.delivery_due_at = None
    return sent
