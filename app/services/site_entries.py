"""The goods' entry at the supervised site: 入库明细单 (CEB711), answered with CEB712 (CEB spec
202205 §3.15-3.16). When one is taken is the core's (``declarations.judge_entry``); here:

- the record names its waybills by ``logisticsCode`` (head) and ``logisticsNo`` (one line
  each); each must be declared in a 9610 import set;
- only the site's operator sends it (``operatorCode``, role ``operator``: ``app.security``);
  danchuang plays the site itself unless a party of the set says it sends its own
  (``app.services.real_senders``);
- an accepted record is answered 2 → 3 → 120 (海关入库) and dates the entry of every
  declaration it names (``Declaration.site_entered_at``): the clearance engine releases a 9610
  import 清单 only after it. The record and its CEB712 receipts are the operator's alone: it
  joins no set, so its sender does not become a party that may read the sets' orders,
  payments and 清单 (anyone can read a waybill number off a parcel).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import states
from app.db.models import Declaration, DocumentRow
from app.services.deliveries import beijing_time
from app.services.plans import FollowUp, Plan, refused
from declarations import EnteredWaybill, Facts, ReturnStatus, judge_entry

_WAYBILLS = ("CEB511",)
_ENDED = frozenset({states.REJECTED, states.CANCELLED, states.DETAINED, states.RETURNED})


def plan(session: Session, row: DocumentRow, facts: Facts) -> Plan:
    """Accept or refuse the entry record ``row`` (not yet stored)."""
    carrier = facts.key("logisticsCode")
    numbers = [line.get("logisticsNo") or "" for line in facts.lines]
    found = _declarations(session, carrier, numbers)
    refusal = judge_entry([_as_entered(number, found.get(number)) for number in numbers])
    if refusal is not None:
        return refused(refusal)
    entered = [found[number] for number in numbers]
    when = beijing_time(facts.head.get("appTime"))  # the record's time: the goods' entry

    def apply(session: Session, first: Declaration) -> None:
        for declaration in entered:
            declaration.site_entered_at = when

    count = len(entered)
    text = f"海关入库 {count} 票 / {count} waybill(s) entered the site"
    follow = FollowUp(entered[0], apply, joins=False)
    return Plan(final=(int(ReturnStatus.ACCEPTED), text), follow_up=follow)


def _declarations(
    session: Session, carrier: str | None, numbers: list[str]
) -> dict[str, Declaration]:
    """The declarations of the carrier's waybills ``numbers``, by waybill number."""
    if not carrier or not numbers:
        return {}
    rows = session.execute(
        select(DocumentRow.logistics_no, Declaration)
        .join(Declaration, Declaration.id == DocumentRow.declaration_id)
        .where(
            DocumentRow.logistics_code == carrier,
            DocumentRow.logistics_no.in_(numbers),
            DocumentRow.message_code.in_(_WAYBILLS),
            DocumentRow.current.is_(True),
        )
    )
    return {number: declaration for number, declaration in rows if number is not None}


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
