"""The carrier's delivery record: 运单状态 (CEB513), answered with CEB514 (CEB spec 202205
§3.7-3.8). When one is taken is the core's (``declarations.judge_delivery``); here:

- the record names the waybill by ``logisticsCode`` and ``logisticsNo``;
- only the carrier that sent the waybill records its delivery (403 ``access.not_the_sender``);
- an accepted record is answered 2 → 3 → 399 (the codes of CEB514, §3.8.4 p. 79, which has no
  120) and dates the declaration's delivery (``Declaration.delivered_at``, from
  ``logisticsTime``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.orm import Session

from app.db.models import Declaration, DocumentRow
from app.services import authority
from app.services.named_waybills import waybill_of
from app.services.plans import FollowUp, Plan, refused
from declarations import Facts, ReturnStatus, judge_delivery

_BEIJING = timezone(timedelta(hours=8), "CST")  # China keeps no daylight saving time


def plan(session: Session, row: DocumentRow, facts: Facts) -> Plan:
    """Accept or refuse the delivery record ``row`` (not yet stored)."""
    carrier, number = facts.key("logisticsCode"), facts.key("logisticsNo")
    waybill = waybill_of(session, "CEB511", carrier, number)
    declaration = session.get(Declaration, waybill.declaration_id) if waybill else None
    if waybill is not None and declaration is not None:
        authority.ensure_owner(row, waybill)
        row.declaration_id = declaration.id
    refusal = judge_delivery(
        declaration.return_status if declaration else None,
        found=declaration is not None,
        status=facts.key("logisticsStatus"),
        delivered=declaration is not None and declaration.delivered_at is not None,
    )
    if refusal is not None or declaration is None:
        return refused(refusal)
    when = beijing_time(facts.key("logisticsTime"))

    def apply(session: Session, declaration: Declaration) -> None:
        declaration.delivered_at = when

    text = f"签收 {when:%Y-%m-%d %H:%M} / delivered"
    return Plan(final=(int(ReturnStatus.DECIDED), text), follow_up=FollowUp(declaration, apply))


def beijing_time(text: str | None) -> datetime:
    """A time the spec writes YYYYMMDDhhmmss in Beijing time (``logisticsTime``, ``appTime``)
    in UTC; the schema has checked its length, a value that is no time is taken as now."""
    try:
        local = datetime.strptime(text or "", "%Y%m%d%H%M%S")
    except ValueError:
        return datetime.now(UTC)
    return local.replace(tzinfo=_BEIJING).astimezone(UTC)
