"""The engine's reads and writes: taking declarations, and recording their transitions.

The database holds the engine's progress: a declaration is ``clearing`` from the moment the
engine takes it until its final receipt, and ``return_status`` is its latest receipt. Recording
is idempotent per (declaration, receipt code, status): a transition replayed after a restart
finds its receipt already there and is skipped, so no receipt is stored (or pushed) twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app import receipts, states
from app.db.models import Declaration, Enterprise
from app.engine import lookups, plays
from app.engine.outcomes import OutcomeError, marker_in_note, normalise
from app.engine.partitions import WHOLE, Partition
from app.receipts import NewReceipt, record_receipts
from app.services import real_senders, set_locks, sets, stand_ins, tax_bills
from declarations import ReturnStatus
from simulation.scenario import CreditClass

log = structlog.get_logger("danchuang.engine")


def receipt_code(direction: str) -> str:
    """CEB622 answers the import 清单, CEB604 the export one."""
    return "CEB604" if direction == "export" else "CEB622"


_LIST_RECEIPTS = (receipt_code("import"), receipt_code("export"))


@dataclass(frozen=True)
class Pickup:
    """What the engine needs to put one declaration into the model."""

    declaration_id: int
    regime: str | None
    direction: str
    credit_class: str  # the platform's (ebp) credit rating, a CreditClass value
    forced: str | None  # a normalised outcome (app.engine.outcomes), or None
    # A 9610 import's release waits for its goods' entry (CEB711), an export's for their
    # arrival (CEB507): ``awaits_entry`` when a real site sends it (the engine reports it to
    # the model), else danchuang plays the site.
    awaits_entry: bool = False
    entered: bool = False  # the entry (arrival) record is in already

    @property
    def enters_site(self) -> bool:
        """Do the goods come to a supervised site before release (9610 import, export)?"""
        return comes_to_site(self.direction, self.regime)


def comes_to_site(direction: str, regime: str | None) -> bool:
    """A 9610 import's goods enter the site (CEB711), an export's arrive there (CEB507); bonded
    imports (1210) are in their zone already."""
    return direction == "export" or regime in (None, "9610")


def site_record(direction: str) -> str:
    """The site's record of the goods: CEB711 (import entry) or CEB507 (export arrival)."""
    return "CEB507" if direction == "export" else "CEB711"


@dataclass(frozen=True)
class Transition:
    declaration_id: int
    direction: str
    status: int  # a ReturnStatus, or a negative business code for a forced rejection
    sim_time: datetime
    info: str = ""
    # An act of a party danchuang plays at that moment, instead of a receipt: "site_entry"
    # (the site's CEB711, app.services.stand_ins).
    act: str = ""
    # An import's release: seconds until danchuang, playing the carrier, delivers (the flow's
    # ``delivery``; None: ``DELIVERY_AFTER``).
    deliver_after: float | None = None


SITE_ENTRY = "site_entry"


def take_ready(
    session: Session, limit: int, sim_now: datetime, part: Partition = WHOLE
) -> list[Pickup]:
    """Move up to ``limit`` clearance-ready declarations of ``part`` to ``clearing`` (oldest
    first). Only sets no submission holds (``set_locks``): the others wait for the next tick."""
    ready = (Declaration.state == states.CLEARANCE_READY, part.covers(Declaration.id))
    found = session.execute(
        select(Declaration.id, Declaration.direction, Declaration.ebp_code, Declaration.order_no)
        .where(*ready)
        .order_by(Declaration.id)
        .limit(limit)
    ).all()
    keys = {ident: set_locks.set_key(*key) for ident, *key in found}
    free = set_locks.try_lock(session, list(keys.values()))
    taken = [ident for ident, key in keys.items() if key in free]
    rows = list(
        session.scalars(
            select(Declaration)
            .where(*ready, Declaration.id.in_(taken))
            .order_by(Declaration.id)
            .with_for_update(skip_locked=True)  # a row a party's request holds (a forced outcome)
        )
    )
    for row in rows:
        states.move(row, states.CLEARING)
        row.sim_declared_at = sim_now
        row.sim_updated_at = sim_now
    return _pickups(session, rows)


def any_ready(session: Session, part: Partition = WHOLE) -> bool:
    """Is a clearance-ready declaration of ``part`` waiting to be taken?"""
    found = session.scalar(
        select(Declaration.id)
        .where(Declaration.state == states.CLEARANCE_READY, part.covers(Declaration.id))
        .limit(1)
    )
    return found is not None


def in_flight(session: Session, part: Partition = WHOLE) -> list[Pickup]:
    """Declarations of ``part`` a previous engine took and did not finish (recovery after a
    crash)."""
    rows = list(
        session.scalars(
            select(Declaration)
            .where(Declaration.state == states.CLEARING, part.covers(Declaration.id))
            .order_by(Declaration.id)
        )
    )
    return _pickups(session, rows)


def _pickups(session: Session, rows: list[Declaration]) -> list[Pickup]:
    if not rows:
        return []
    ids = [row.id for row in rows]
    credit: dict[str, str] = {
        code: credit_class
        for code, credit_class in session.execute(
            select(Enterprise.code, Enterprise.credit_class).where(
                Enterprise.code.in_({row.ebp_code for row in rows})
            )
        )
    }
    notes = lookups.notes(session, ids)
    real = real_senders.sent_by_real_parties(session, ids)
    pickups = []
    for row in rows:
        pickup = Pickup(
            declaration_id=row.id,
            regime=row.regime,
            direction=row.direction,
            credit_class=credit.get(row.ebp_code, CreditClass.GENERAL),
            forced=row.forced_outcome or _marker(row.id, notes.get(row.id)),
            entered=row.site_entered_at is not None,
        )
        if pickup.enters_site and site_record(row.direction) in real.get(row.id, ()):
            pickup = replace(pickup, awaits_entry=True)
        pickups.append(pickup)
    return pickups


def entered(session: Session, declaration_ids: list[int]) -> set[int]:
    """Which of the declarations have their goods' entry (CEB711) or arrival (CEB507) in."""
    return set(
        session.scalars(
            select(Declaration.id).where(
                Declaration.id.in_(declaration_ids), Declaration.site_entered_at.is_not(None)
            )
        )
    )


def _marker(declaration_id: int, note: str | None) -> str | None:
    marker = marker_in_note(note)
    if marker is None:
        return None
    try:
        return normalise(marker)
    except OutcomeError as error:
        # The 清单 was accepted; a bad marker only means "no forcing". Say so in the log.
        log.warning("engine.bad_marker", declaration_id=declaration_id, problem=str(error))
        return None


_DECLARATIONS = select(Declaration).where(Declaration.id.in_(bindparam("ids", expanding=True)))


def record(session: Session, transitions: list[Transition]) -> int:
    """Store the receipts of ``transitions`` (in order) and move their declarations on;
    returns how many receipts were new. Transitions of declarations that are not ``clearing``
    any more (finished, or cancelled meanwhile) and already-recorded ones are skipped."""
    if not transitions:
        return 0
    ids = {t.declaration_id for t in transitions}
    set_locks.lock_declarations(
        session, ids
    )  # before reading them: a late document of the set waits, or we do
    rows = {row.id: row for row in session.scalars(_DECLARATIONS, {"ids": sorted(ids)})}
    done = lookups.recorded(session, ids, _LIST_RECEIPTS)  # what a replay finds there already
    real = real_senders.sent_by_real_parties(session, ids)  # danchuang plays the others
    # What danchuang's messages and the tax bills read (the 清单, waybills, orders), and the
    # declarations' last seq and subscribers (the receipts are recorded in several calls,
    # between the messages): at once.
    stand_ins.read_ahead(session, {t.declaration_id for t in transitions if _reads_set(t)})
    receipts.read_ahead(session, [("declaration", ident) for ident in sorted(rows)])

    created = 0
    new: list[NewReceipt] = []
    latest: dict[int, Transition] = {}
    released: list[tuple[Declaration, Transition]] = []
    clearing = dict(rows)  # less those a final receipt ends in this batch
    entries = plays.Entries()  # the site's records, taken together before what follows them
    departures = plays.Departures(real)  # exports leaving: taken after the receipts
    closing: dict[int, Transition] = {}  # their CLOSED, recorded as it is if none is sent
    for t in transitions:
        row = clearing.get(t.declaration_id)
        if row is None or row.state != states.CLEARING:
            continue
        if row.id in entries:  # its site record, in its place among the receipts
            new = entries.take(session, new)
        if t.act == SITE_ENTRY:  # danchuang plays the site: its record, taken with others
            entries.add(session, row, t.sim_time)
            continue
        if t.status == ReturnStatus.RELEASED and _enters_unrecorded(row, real):
            # danchuang plays the site: its entry record, in its place among the receipts
            new = _recorded(session, new)
            plays.play(stand_ins.enter_site, session, row, t.sim_time)
        if t.status == ReturnStatus.CLOSED and row.direction == "export":
            # its goods leave: danchuang's departure (``plays.Departures``), after its receipts
            pending = latest.pop(row.id, None)
            if pending is not None:  # its release, in this batch: the departure checks it
                row.return_status = pending.status
                row.sim_updated_at = pending.sim_time
            departures.add(row, t.sim_time)
            closing[row.id] = t
            clearing.pop(t.declaration_id)  # its last transition
            continue
        if not _receipt(t, done, new):
            continue
        if t.status == ReturnStatus.RELEASED:
            released.append((row, t))
        created += 1
        latest[t.declaration_id] = t
        if states.final_state(t.status) is not None:
            clearing.pop(t.declaration_id)  # nothing follows a final receipt
    # All the receipts in one statement (their numbering reads each declaration's last seq).
    entries.take(session, new)
    unsent = [closing[ident] for ident in departures.send(session)]
    created += _closed(session, unsent, done, latest)
    _move_on(session, rows, latest)
    _after_release(session, [(row, t) for row, t in released if row.direction == "import"], real)
    return created


def _closed(
    session: Session,
    unsent: list[Transition],
    done: Mapping[int, set[tuple[str, int]]],
    latest: dict[int, Transition],
) -> int:
    """The CLOSED (899) of exports danchuang's departure could not close, recorded as it is;
    how many were new."""
    new: list[NewReceipt] = []
    for t in unsent:
        if _receipt(t, done, new):
            latest[t.declaration_id] = t
    record_receipts(session, new)
    return len(new)


def _recorded(session: Session, new: list[NewReceipt]) -> list[NewReceipt]:
    """The receipts so far recorded, before a message danchuang plays: nothing left."""
    record_receipts(session, new)
    return []


def _receipt(
    t: Transition, done: Mapping[int, set[tuple[str, int]]], new: list[NewReceipt]
) -> bool:
    """Add ``t``'s receipt to ``new``; False when a replay finds it recorded already."""
    code = receipt_code(t.direction)
    if (code, t.status) in done[t.declaration_id]:
        return False
    new.append(
        NewReceipt(
            code,
            t.status,
            t.info or _info(t.status),
            declaration_id=t.declaration_id,
            sim_time=t.sim_time,
        )
    )
    done[t.declaration_id].add((code, t.status))
    return True


def _move_on(
    session: Session, rows: Mapping[int, Declaration], latest: Mapping[int, Transition]
) -> None:
    """The declarations move on after their receipts: one UPDATE each, not one per receipt."""
    for declaration_id, t in latest.items():
        row = rows[declaration_id]
        row.return_status = t.status
        row.sim_updated_at = t.sim_time
        final = states.final_state(t.status)
        if final is not None:
            states.move(row, final)
        if final in (states.REJECTED, states.RETURNED):
            # The goods were not imported: the quota and the bonded stock are given back.
            sets.give_back(session, declaration_id)


def _reads_set(t: Transition) -> bool:
    """Does recording ``t`` read its set's documents (a site's record, a tax bill, an export's
    departure)?"""
    return bool(t.act) or t.status in (ReturnStatus.RELEASED, ReturnStatus.CLOSED)


# When danchuang, playing the carrier, delivers after release if the flow gives no ``delivery``.
DELIVERY_AFTER = timedelta(hours=24)


def _enters_unrecorded(row: Declaration, real: Mapping[int, frozenset[str]]) -> bool:
    """A 9610 import or an export released with no entry (arrival) record: its flow drew no
    arrival, and danchuang plays the site (a real site's record is awaited before release):
    it comes now."""
    return (
        comes_to_site(row.direction, row.regime)
        and row.site_entered_at is None
        and site_record(row.direction) not in real.get(row.id, ())
    )


def _after_release(
    session: Session,
    imports: list[tuple[Declaration, Transition]],
    real: Mapping[int, frozenset[str]],
) -> None:
    """Import releases: customs issues their tax bills (all at once), and danchuang, playing
    the carrier, will deliver the goods the flow's ``delivery`` later (``plays.deliver_due``),
    unless a real carrier does."""
    forced = [  # their 清单 were read ahead (``record``)
        row.forced_outcome or _marker(row.id, lookups.note(session, row.id, "CEB621"))
        for row, _ in imports
    ]
    tax_bills.issue_all(
        session, [(row, t.sim_time, f) for (row, t), f in zip(imports, forced, strict=True)]
    )
    for row, t in imports:
        if row.delivered_at is None and "CEB513" not in real.get(row.id, ()):
            later = (
                DELIVERY_AFTER if t.deliver_after is None else timedelta(seconds=t.deliver_after)
            )
            row.delivery_due_at = t.sim_time + later


def _info(status: int) -> str:
    try:
        known = ReturnStatus(status)
    except ValueError:
        return f"海关退单[{status}] rejected by customs"
    return f"{known.meaning_zh} {known.meaning_en}"
