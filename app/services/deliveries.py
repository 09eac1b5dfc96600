"""The carrier's delivery record: 运单状态 (CEB513), answered with CEB514 (CEB spec 202205
§3.7-3.8).

The spec gives the refusals (table 7-2 p. 114) but not the states; danchuang's model:

- the record names the waybill by ``logisticsCode`` and ``logisticsNo``: no such waybill (or
  one in no set) is -505014 (未找到对应操作);
- only the carrier that sent the waybill records its delivery (403 ``access.not_the_sender``);
- ``logisticsStatus`` must be S (签收, "限定为S", §3.7.4 p. 77): else -505011 (参数校验不通过);
- goods are delivered after customs releases them: a declaration not released (800) or closed
  (899) is answered 100, the reason in the text;
- a waybill delivered already is -505012 (物流运单状态已存在).

An accepted record is answered 2 → 3 → 399 (the codes of CEB514, §3.8.4 p. 79, which has no
120) and dates the declaration's delivery (``Declaration.delivered_at``, ``logisticsTime``):
the return window starts there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Declaration, DocumentRow
from app.services import authority
from app.services.plans import FollowUp, Plan
from declarations import Facts, ReturnStatus

_WAYBILLS = ("CEB511",)
_BEIJING = timezone(timedelta(hours=8), "CST")  # China keeps no daylight saving time
_RELEASED = (int(ReturnStatus.RELEASED), int(ReturnStatus.CLOSED))


def _refused(code: int, zh: str, en: str) -> Plan:
    return Plan(final=(code, f"{zh} / {en}"))


def plan(session: Session, row: DocumentRow, facts: Facts) -> Plan:
    """Accept or refuse the delivery record ``row`` (not yet stored)."""
    waybill = session.scalars(
        select(DocumentRow).where(
            DocumentRow.logistics_code == facts.key("logisticsCode"),
            DocumentRow.logistics_no == facts.key("logisticsNo"),
            DocumentRow.message_code.in_(_WAYBILLS),
            DocumentRow.current.is_(True),
        )
    ).first()
    declaration = session.get(Declaration, waybill.declaration_id) if waybill else None
    if waybill is None or declaration is None:
        return _refused(-505014, "未找到对应的物流运单", "no waybill with this number is declared")
    authority.ensure_owner(row, waybill)
    row.declaration_id = declaration.id
    if facts.key("logisticsStatus") != "S":
        return _refused(-505011, "物流签收状态限定为S", "logisticsStatus must be S (signed for)")
    if declaration.delivered_at is not None:
        return _refused(-505012, "物流运单状态已存在", "the delivery is recorded already")
    if declaration.return_status not in _RELEASED:
        return _refused(100, "货物尚未放行，不能签收", "the goods are not released yet")
    when = _logistics_time(facts.key("logisticsTime"))

    def apply(session: Session, declaration: Declaration) -> None:
        declaration.delivered_at = when

    text = f"签收 {when:%Y-%m-%d %H:%M} / delivered"
    return Plan(final=(int(ReturnStatus.DECIDED), text), follow_up=FollowUp(declaration, apply))


def _logistics_time(text: str | None) -> datetime:
    """``logisticsTime`` (YYYYMMDDhhmmss, Beijing time as the spec's times are) in UTC; the
    schema has checked its length, a value that is no time is taken as now."""
    try:
        local = datetime.strptime(text or "", "%Y%m%d%H%M%S")
    except ValueError:
        return datetime.now(UTC)
    return local.replace(tzinfo=_BEIJING).astimezone(UTC)
