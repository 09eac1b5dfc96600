"""The records that name parcels at the supervised site (the judges: ``declarations.judge_entry``,
``judge_arrival``, ``judge_departure``; docs/live-clearance.md):

- 入库明细单 (CEB711 → CEB712, CEB spec 202205 §3.15-3.16): 9610 import goods entered the site;
  sent by the site's operator (``operatorCode``, role ``operator``), answered 2 → 3 → 120
  (海关入库). The clearance engine releases a 9610 import 清单 only after it.
- 运抵单 (CEB507 → CEB508, §2.7-2.8): export goods arrived at the site; sent by the site's
  operator, answered 2 → 3 → 399 (海关审结). The engine releases an export 清单 only after it.
- 离境单 (CEB509 → CEB510, §2.9-2.10): released export goods left China; sent by the carrier
  (``logisticsCode``, role ``logistics``), answered 2 → 3 → 399; each 清单 it names is closed
  (CEB604 899 结关).

Each record names its waybills by ``logisticsCode`` (head) and ``logisticsNo`` (one line each),
declared in the sets' waybills (CEB511 import, CEB505 export). danchuang plays the site and the
carrier itself unless a party of the set says it sends its own (``app.services.real_senders``).
A record and its receipts are its sender's alone: it joins no set, so its sender does not
become a party that may read the sets' orders, payments and 清单 (anyone can read a waybill
number off a parcel).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app import states
from app.db.models import Declaration, DocumentRow
from app.receipts import NewReceipt, record_receipts
from app.services.deliveries import beijing_time
from app.services.named_waybills import declarations_of_waybills
from app.services.plans import FollowUp, Plan, refused
from declarations import (
    EnteredWaybill,
    Facts,
    Refusal,
    ReturnStatus,
    judge_arrival,
    judge_departure,
    judge_entry,
)

_ENDED = frozenset({states.REJECTED, states.CANCELLED, states.DETAINED, states.RETURNED})
Judge = Callable[[Sequence[EnteredWaybill]], Refusal | None]


@dataclass(frozen=True, slots=True)
class _Record:
    """How one kind of site record is taken: the sets' waybills it names, its judge, the field
    dating it, its final status and text, and what it does to each declaration it names."""

    waybills: str  # CEB511 (import) or CEB505 (export)
    judge: Judge
    time_field: str
    final: ReturnStatus
    text: str  # formatted with n, the number of waybills
    act: Callable[[Session, Declaration, datetime], None]


def _date_entry(session: Session, declaration: Declaration, when: datetime) -> None:
    """The goods are at the site (entered or arrived) since ``when``."""
    declaration.site_entered_at = when


def _plan(session: Session, facts: Facts, record: _Record) -> Plan:
    carrier = facts.key("logisticsCode")
    numbers = [line.get("logisticsNo") or "" for line in facts.lines]
    found = declarations_of_waybills(session, record.waybills, carrier, numbers)
    refusal = record.judge([_as_entered(number, found.get(number)) for number in numbers])
    if refusal is not None:
        return refused(refusal)
    named = [found[number] for number in numbers]
    when = beijing_time(facts.head.get(record.time_field))  # the record's time: when it happened

    def apply(session: Session, first: Declaration) -> None:
        for declaration in named:
            record.act(session, declaration, when)

    answer = record.text.format(n=len(named))
    follow = FollowUp(named[0], apply, joins=False)
    return Plan(final=(int(record.final), answer), follow_up=follow)


def _close(session: Session, declaration: Declaration, when: datetime) -> None:
    """The goods left China at ``when``: the released export 清单 is closed (CEB604 899 结关)."""
    closed = int(ReturnStatus.CLOSED)
    status = ReturnStatus(closed)
    info = f"{status.meaning_zh}（离境）/ {status.meaning_en} (departed)"
    record_receipts(
        session,
        [NewReceipt("CEB604", closed, info, declaration_id=declaration.id, sim_time=when)],
    )
    declaration.return_status = closed
    declaration.sim_updated_at = when
    states.move(declaration, states.CLEARED)


_ENTRY = _Record(
    "CEB511",
    judge_entry,
    "appTime",
    ReturnStatus.ACCEPTED,
    "海关入库 {n} 票 / {n} waybill(s) entered the site",
    _date_entry,
)
_ARRIVAL = _Record(
    "CEB505",
    judge_arrival,
    "appTime",
    ReturnStatus.DECIDED,
    "海关审结：运抵 {n} 票 / {n} waybill(s) arrived at the site",
    _date_entry,
)
_DEPARTURE = _Record(
    "CEB505",
    judge_departure,
    "leaveTime",
    ReturnStatus.DECIDED,
    "海关审结：离境 {n} 票 / {n} waybill(s) left China",
    _close,
)


def plan_entry(session: Session, row: DocumentRow, facts: Facts) -> Plan:
    """Accept or refuse the 9610 import entry record ``row`` (CEB711, not yet stored)."""
    return _plan(session, facts, _ENTRY)


def plan_arrival(session: Session, row: DocumentRow, facts: Facts) -> Plan:
    """Accept or refuse the export arrival record ``row`` (CEB507, not yet stored)."""
    return _plan(session, facts, _ARRIVAL)


def plan_departure(session: Session, row: DocumentRow, facts: Facts) -> Plan:
    """Accept or refuse the export departure record ``row`` (CEB509, not yet stored)."""
    return _plan(session, facts, _DEPARTURE)


def _as_entered(number: str, declaration: Declaration | None) -> EnteredWaybill:
    if declaration is None:
        return EnteredWaybill(number, found=False)
    return EnteredWaybill(
        number,
        regime=declaration.regime,
        direction=declaration.direction,
        list_status=declaration.return_status,
        entered=declaration.site_entered_at is not None,
        closed=declaration.state in _ENDED,
    )
