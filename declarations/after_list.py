"""What may follow a released 清单: the carrier's delivery record (运单状态 CEB513, CEB spec
202205 §3.7) and the declarant's return (退货申请单 CEB625, §3.13); and for an export that left
China, its return (退货申请单 CEB213, §2.17).

The spec gives the refusals (table 7-2 pp. 114, 116) but not the states; this is danchuang's
model, which ``app.services.deliveries`` and ``app.services.returns`` apply to what the
database holds:

- goods are delivered, and may come back, only after customs released them (800 or 899);
- a delivery record says S (签收, "限定为S", §3.7.4 p. 77) and comes once (-505012); a
  waybill nobody declared is -505014 (未找到对应操作);
- a return comes within 30 days of the release (海关总署公告2020年第45号); each line names a
  line of the 清单 by ``gnum`` with its ``gcode`` (the original goods, else -625209) and at
  most what was released less earlier returns; a 清单 nobody declared is -625204.
- an export comes back only after it left (899), within a year (公告2020年第44号), under the
  return trade mode of its regime (9661, or 1261 from a special zone: §2.17.4 p. 45), with the
  same line rules (the export code table 7-2 lists the same -625 codes, p. 115).

A refusal without a code of its own is 100 (海关退单), the reason in its text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from declarations.codes import ReturnStatus
from declarations.lifecycle import Refusal

__all__ = [
    "EXPORT_RETURN_WINDOW",
    "RETURN_WINDOW",
    "judge_delivery",
    "judge_export_return",
    "judge_return",
    "returned_value",
]

RETURN_WINDOW = timedelta(days=30)  # 公告2020年第45号: apply within 30 days of release
# 公告2020年第44号: exported goods returned within a year of their export (as reported of it;
# danchuang's reading, the 202205 spec gives no time)
EXPORT_RETURN_WINDOW = timedelta(days=365)
_RELEASED = frozenset({int(ReturnStatus.RELEASED), int(ReturnStatus.CLOSED)})
_REFUSED = str(int(ReturnStatus.REJECTED))

Line = Mapping[str, str | None]


def _amount(text: str | None) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return Decimal(0)


def judge_delivery(
    list_status: int | None,
    *,
    found: bool = True,
    status: str | None = "S",
    delivered: bool = False,
) -> Refusal | None:
    """Why a delivery record of a waybill (``found``: declared in a set whose 清单 stands at
    ``list_status``) may not be taken; None when it may."""
    if not found:
        return Refusal("-505014", "no waybill with this number is declared", "未找到对应的物流运单")
    if status != "S":
        return Refusal("-505011", "logisticsStatus must be S (signed for)", "物流签收状态限定为S")
    if delivered:
        return Refusal("-505012", "the delivery is recorded already", "物流运单状态已存在")
    if list_status not in _RELEASED:
        return Refusal(_REFUSED, "the goods are not released yet", "货物尚未放行，不能签收")
    return None


def judge_return(
    list_status: int | None,
    *,
    found: bool = True,
    released_at: datetime | None = None,
    now: datetime | None = None,
    list_lines: Sequence[Line] = (),
    returned: Mapping[str | None, Decimal] | None = None,
    lines: Sequence[Line] = (),
) -> Refusal | None:
    """Why a return of ``lines`` from a 清单 (``found``, at ``list_status``, released at
    ``released_at``, with ``list_lines`` of which earlier returns took ``returned``) may not be
    taken; None when it may."""
    if not found:
        return Refusal("-625204", "no 清单 with this invtNo", "未找到该清单编号的清单")
    if list_status not in _RELEASED or released_at is None:
        return Refusal(_REFUSED, "the 清单 is not released yet", "清单尚未放行，不能退货")
    if now is not None and now - released_at > RETURN_WINDOW:
        return Refusal(_REFUSED, "more than 30 days since release (announcement 2020 No. 45)",
                       "超过放行之日起30日的退货申请期限（公告2020年第45号）")  # fmt: skip
    return _check_lines(list_lines, returned or {}, lines)


def judge_export_return(
    list_status: int | None,
    *,
    found: bool = True,
    departed_at: datetime | None = None,
    now: datetime | None = None,
    trade_mode: str | None = None,
    wanted_mode: str = "9661",
    list_lines: Sequence[Line] = (),
    returned: Mapping[str | None, Decimal] | None = None,
    lines: Sequence[Line] = (),
) -> Refusal | None:
    """Why a return application (CEB213) of ``lines`` from an export 清单 (``found``, at
    ``list_status``, departed at ``departed_at``, with ``list_lines`` of which earlier returns
    took ``returned``), declared under ``trade_mode`` where its export's regime wants
    ``wanted_mode``, may not be taken; None when it may. The codes are the export table's
    (table 7-2 p. 115: -625204, -625209)."""
    if not found:
        return Refusal("-625204", "no export 清单 with this invtNo", "未找到该清单编号的出口清单")
    if list_status != ReturnStatus.CLOSED or departed_at is None:
        return Refusal(_REFUSED, "the goods have not left China: nothing to return yet",
                       "货物尚未离境，不能退货")  # fmt: skip
    if now is not None and now - departed_at > EXPORT_RETURN_WINDOW:
        return Refusal(_REFUSED, "more than a year since the goods left (announcement 2020 No. 44)",
                       "超过离境之日起一年的退货期限（公告2020年第44号）")  # fmt: skip
    if trade_mode != wanted_mode:
        return Refusal(
            _REFUSED,
            f"tradeMode {trade_mode or '(none)'}: this export's return is declared under "
            f"{wanted_mode} (CEB spec 202205 §2.17.4 p. 45)",
            f"退货监管方式{trade_mode or '(空)'}有误：应填{wanted_mode}",
        )
    return _check_lines(list_lines, returned or {}, lines)


def _check_lines(
    list_lines: Sequence[Line], taken: Mapping[str | None, Decimal], lines: Sequence[Line]
) -> Refusal | None:
    """Each returned line names a line of the 清单 by gnum with its gcode (the original goods),
    for at most what left less what earlier returns took."""
    by_gnum = {line.get("gnum"): line for line in list_lines}
    for line in lines:
        gnum, gcode = line.get("gnum"), line.get("gcode")
        original = by_gnum.get(gnum)
        if original is None or original.get("gcode", gcode) != gcode:
            zh = f"在关联的清单中未找到表体序号为{gnum}、商品编号为{gcode}的数据"
            return Refusal("-625209", f"the 清单 has no line {gnum} of goods {gcode}", zh)
        left = _amount(original.get("qty")) - taken.get(gnum, Decimal(0))
        if _amount(line.get("qty")) > left:
            return Refusal(_REFUSED, f"line {gnum}: more than the {left} left to return",
                           f"第{gnum}项退货数量超过可退数量{left}")  # fmt: skip
    return None


def returned_value(list_lines: Sequence[Line], lines: Sequence[Line]) -> Decimal:
    """The returned goods' value: each line's qty × the 清单 line's price, to the fen."""
    price = {line.get("gnum"): _amount(line.get("price")) for line in list_lines}
    total = sum((_amount(line.get("qty")) * price.get(line.get("gnum"), Decimal(0))
                 for line in lines), Decimal(0))  # fmt: skip
    return total.quantize(Decimal("0.01"))
