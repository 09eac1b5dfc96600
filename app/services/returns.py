"""Goods the buyer sends back: the 退货申请单 (CEB625), answered with CEB626 (CEB spec 202205
§3.13-3.14).

海关总署公告2020年第45号 lets the declarant return all or part of a released 清单's goods when
it applies within 30 days of the release. The spec gives the refusals (table 7-2 p. 116) but
not the states; danchuang's model:

- the return names its 清单 by ``invtNo`` (and its order by ``orderNo``, ``ebpCode``): no such
  清单 is -625204 (未找到…的清单);
- only the declarant that sent the 清单 returns its goods (403 ``access.not_the_sender``);
- the 清单 is released (800) or closed (899), and released at most 30 days ago (the 800
  receipt's time): else 100, the reason in the text;
- each line names a line of the 清单 by ``gnum`` with the same ``gcode`` (the original goods):
  else -625209 (在关联的清单中未找到表体序号…的数据); its ``qty`` is at most what was released
  less what earlier returns took: else 100;
- an accepted return is answered 2 → 3 → 120 → 399, and its value (each line's qty × the 清单
  line's price) comes back to the buyer's annual quota.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Declaration, DocumentRow, Receipt
from app.quota import LedgerQuota
from app.services import authority
from app.services.plans import FollowUp, Plan
from app.services.set_documents import facts_of
from declarations import Facts, ReturnStatus

WINDOW = timedelta(days=30)  # 公告2020年第45号: apply within 30 days of release
_LISTS, _RETURNS = ("CEB621",), "CEB625"
_RELEASED = (int(ReturnStatus.RELEASED), int(ReturnStatus.CLOSED))


def _refused(code: int, zh: str, en: str) -> Plan:
    return Plan(final=(code, f"{zh} / {en}"))


def _amount(text: str | None) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return Decimal(0)


def plan(session: Session, row: DocumentRow, facts: Facts) -> Plan:
    """Accept or refuse the return ``row`` (not yet stored)."""
    listed = session.scalars(
        select(DocumentRow).where(
            DocumentRow.invt_no == facts.key("invtNo"),
            DocumentRow.message_code.in_(_LISTS),
            DocumentRow.current.is_(True),
        )
    ).first()
    declaration = session.get(Declaration, listed.declaration_id) if listed else None
    named = declaration is not None and (declaration.order_no, declaration.ebp_code) == (
        facts.key("orderNo"),
        facts.key("ebpCode"),
    )
    if listed is None or declaration is None or not named:
        return _refused(-625204, "未找到该清单编号的清单", "no 清单 with this invtNo")
    authority.ensure_owner(row, listed)
    row.declaration_id, row.invt_no = declaration.id, listed.invt_no
    released = _released_at(session, declaration.id)
    if declaration.return_status not in _RELEASED or released is None:
        return _refused(100, "清单尚未放行，不能退货", "the 清单 is not released yet")
    if datetime.now(UTC) - released > WINDOW:
        return _refused(100, "超过放行之日起30日的退货申请期限（公告2020年第45号）",
                        "more than 30 days since release (announcement 2020 No. 45)")  # fmt: skip
    problem = _lines_problem(session, declaration.id, facts_of(listed), facts)
    if problem is not None:
        return problem
    value = _value(facts_of(listed), facts)

    def apply(session: Session, declaration: Declaration) -> None:
        purchase = facts_of(listed).purchase
        if purchase is not None and value:
            LedgerQuota.add(session, purchase.buyer_id_number, -value, date(purchase.year, 1, 1),
                            declaration_id=declaration.id)  # fmt: skip

    text = f"退货审结，退还额度 {value} 元 / return accepted, {value} CNY back to the quota"
    follow = FollowUp(declaration, apply, between=(int(ReturnStatus.ACCEPTED),))
    return Plan(final=(int(ReturnStatus.DECIDED), text), follow_up=follow)


def _released_at(session: Session, declaration_id: int) -> datetime | None:
    return session.scalar(
        select(Receipt.created_at).where(
            Receipt.declaration_id == declaration_id,
            Receipt.return_status == int(ReturnStatus.RELEASED),
        )
    )


def _lines_problem(
    session: Session, declaration_id: int, listed: Facts, facts: Facts
) -> Plan | None:
    by_gnum = {line.get("gnum"): line for line in listed.lines}
    taken = _returned_before(session, declaration_id)
    for line in facts.lines:
        gnum, gcode = line.get("gnum"), line.get("gcode")
        original = by_gnum.get(gnum)
        if original is None or original.get("gcode", gcode) != gcode:
            zh = f"在关联的清单中未找到表体序号为{gnum}、商品编号为{gcode}的数据"
            return _refused(-625209, zh, f"the 清单 has no line {gnum} of goods {gcode}")
        left = _amount(original.get("qty")) - taken[gnum]
        if _amount(line.get("qty")) > left:
            en = f"line {gnum}: more than the {left} left to return"
            return _refused(100, f"第{gnum}项退货数量超过可退数量{left}", en)
    return None


def _returned_before(session: Session, declaration_id: int) -> dict[str | None, Decimal]:
    """What accepted returns of the declaration took back, per 清单 line."""
    taken: dict[str | None, Decimal] = defaultdict(Decimal)
    for row in session.scalars(
        select(DocumentRow).where(
            DocumentRow.declaration_id == declaration_id,
            DocumentRow.message_code == _RETURNS,
            DocumentRow.return_status == int(ReturnStatus.DECIDED),
        )
    ):
        for line in facts_of(row).lines:
            taken[line.get("gnum")] += _amount(line.get("qty"))
    return taken


def _value(listed: Facts, facts: Facts) -> Decimal:
    """The returned goods' value: each line's qty × the 清单 line's price, to the fen."""
    price = {line.get("gnum"): _amount(line.get("price")) for line in listed.lines}
    total = sum((_amount(line.get("qty")) * price.get(line.get("gnum"), Decimal(0))
                 for line in facts.lines), Decimal(0))  # fmt: skip
    return total.quantize(Decimal("0.01"))
