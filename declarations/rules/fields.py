"""Rules on single fields every data message shares: appType, code-list values, and orderNo
repeated within one message.

- appType (报送类型) is "1-新增 2-变更 3-删除" in every data message danchuang handles (CEB spec
  202205 p. 3 export order, p. 9 收款单, p. 14 export waybill, p. 28 export 清单, p. 62 import
  order, p. 68 payment, p. 73 import waybill, p. 81 import 清单). Our XSDs type it C1 only.
- Code fields name a value of a customs code list: currency, country (JGS-20 海关业务代码集,
  e.g. p. 64 and p. 84: 币制, 原产国), unit, unit1, unit2 (JGS-20 计量单位代码, p. 64, p. 84),
  customsCode and portCode (JGS/T 18 海关关区代码, p. 82). danchuang holds none of these lists,
  so it checks their form: three digits (four for a customs district), the form every code of
  those lists has. The XSDs type them C3/C4, which ``人民币`` or ``11吨`` pass.
- One message holds each order once: two records of one message naming the same orderNo are
  two declarations of one order (the order's number is unique on its platform, p. 62), which the
  platform must not send together. Reported on the second record; the spec's -301010 (已存在相同
  编号的订单) is about an order already held, so no spec code here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from declarations.findings import Finding, Layer, define_rule
from declarations.rules._common import Node, Unit

APP_TYPE = define_rule(
    "document.app-type",
    Layer.RULE,
    "appType is 1 (new), 2 (change) or 3 (delete) (CEB spec 202205 pp. 3, 9, 14, 28, 62, 68, "
    "73, 81)",
    "报送类型 appType 应为 1-新增、2-变更 或 3-删除",
)
CODE_FORMAT = define_rule(
    "document.code-format",
    Layer.RULE,
    "Code fields hold a code, not a name: currency, country, unit, unit1, unit2 three digits "
    "(JGS-20), customsCode and portCode four digits (JGS/T 18) (CEB spec 202205 pp. 64, 82-85)",
    "代码字段应填写代码而非名称：币制、国别、计量单位为3位数字（JGS-20），关区代码为4位数字"
    "（JGS/T 18）",
)
REPEATED_ORDER_NO = define_rule(
    "document.repeated-order-no",
    Layer.RULE,
    "One message names each orderNo once (CEB spec 202205 p. 62: the order number is unique)",
    "同一报文中订单编号不得重复",
)

APP_TYPES = frozenset({"1", "2", "3"})
_THREE_DIGITS = re.compile(r"[0-9]{3}")
_FOUR_DIGITS = re.compile(r"[0-9]{4}")
# Code field -> the form of its code list's values, and the list's name for the message.
CODE_FIELDS: dict[str, tuple[re.Pattern[str], str]] = {
    "currency": (_THREE_DIGITS, "a 3-digit JGS-20 currency code, e.g. 142"),
    "fCurrency": (_THREE_DIGITS, "a 3-digit JGS-20 currency code, e.g. 142"),
    "iCurrency": (_THREE_DIGITS, "a 3-digit JGS-20 currency code, e.g. 142"),
    "country": (_THREE_DIGITS, "a 3-digit JGS-20 country code, e.g. 142"),
    "unit": (_THREE_DIGITS, "a 3-digit JGS-20 unit code, e.g. 011"),
    "unit1": (_THREE_DIGITS, "a 3-digit JGS-20 unit code, e.g. 011"),
    "unit2": (_THREE_DIGITS, "a 3-digit JGS-20 unit code, e.g. 035"),
    "customsCode": (_FOUR_DIGITS, "a 4-digit JGS/T 18 customs district code, e.g. 5141"),
    "portCode": (_FOUR_DIGITS, "a 4-digit JGS/T 18 customs district code, e.g. 5141"),
}
_NAMES = tuple(CODE_FIELDS)


def check_fields(unit: Unit) -> Iterator[Finding]:
    """appType, and the form of every code field of the record's head and lines."""
    head = unit.head
    app_type = head.text("appType")
    if app_type is not None and app_type not in APP_TYPES:
        yield unit.finding(
            APP_TYPE,
            head,
            "appType",
            f"appType {app_type!r} is not 1 (new), 2 (change) or 3 (delete)",
            f"报送类型 {app_type!r} 不是 1-新增、2-变更、3-删除 之一",
        )
    yield from _codes(unit, head, None)
    for line in unit.lines:  # (a summary application's lines have no gnum: the 清单 they name)
        yield from _codes(unit, line, (line.text("gnum") if line.reads("gnum") else None) or "?")


def _codes(unit: Unit, node: Node, gnum: str | None) -> Iterator[Finding]:
    for name, value in node.present(_NAMES):
        pattern, wanted = CODE_FIELDS[name]
        if pattern.fullmatch(value):
            continue
        where_en, where_zh = (f"line {gnum}: ", f"第{gnum}项：") if gnum else ("", "")
        yield unit.finding(
            CODE_FORMAT,
            node,
            name,
            f"{where_en}{name} {value!r} is not {wanted}",
            f"{where_zh}{name} {value!r} 应填写海关代码（{_DIGITS_ZH[pattern]}）",
        )


_DIGITS_ZH = {_THREE_DIGITS: "3位数字", _FOUR_DIGITS: "4位数字"}


def check_repeated_order_no(units: Sequence[Unit]) -> Iterator[Finding]:
    """The second and later records of one message naming an orderNo already named."""
    if len(units) < 2:
        return
    seen: set[str] = set()
    for unit in units:
        head = unit.head
        if not head.reads("orderNo"):
            return  # (a message without orderNo: the export waybill)
        order_no = head.text("orderNo")
        if order_no is None:
            continue
        if order_no in seen:
            yield unit.finding(
                REPEATED_ORDER_NO,
                head,
                "orderNo",
                f"orderNo {order_no} is named by an earlier record of this message",
                f"订单编号 {order_no} 在本报文中重复",
            )
        seen.add(order_no)
