"""Rules on orders: import CEB311 and export CEB303 (CEB spec 202205 §3.1, §2.1).

Facts our XSDs already enforce are left to the schema layer, which runs first: the import
currency 142, buyerIdType 1 and the orderType of each regime (I; E for 9610/1210 export; B for
9710; W for 9810). That an order's type fits its 清单's tradeMode is a reconciliation rule.
"""

from __future__ import annotations

from collections.abc import Iterator

from declarations.findings import Finding, Layer, define_rule
from declarations.rules import limits
from declarations.rules._common import QuotaScope, Unit, agree, lines_total, money
from declarations.rules.fields import check_fields
from declarations.rules.lines import (
    check_gnum_sequence,
    check_line_totals,
    check_lines_in_head_currency,
)

ACTURAL_PAID = define_rule(
    "order.actural-paid",
    Layer.RULE,
    "acturalPaid = goodsValue + freight + taxTotal − discount",
    "实际支付金额 = 商品价格 + 运杂费 + 代扣税款 − 非现金抵扣金额",
)
LINE_TOTAL = define_rule(
    "order.line-total",
    Layer.RULE,
    "Order line totalPrice = price × qty",
    "订单商品总价 = 单价 × 数量",
)
GNUM_SEQUENCE = define_rule(
    "order.gnum-sequence",
    Layer.RULE,
    "Order line numbers are not repeated (CEB spec 202205 table 7-2 p. 113: -301002)",
    "订单商品信息内有重复商品序号",
    spec_code="-301002",
)
GNUM_GAP = define_rule(
    "order.gnum-gap",
    Layer.RULE,
    "Order line numbers run from 1 without gaps: they pair one-to-one with the 清单's, which "
    "run 1, 2, … (CEB spec 202205 p. 64 and p. 84; p. 4 and p. 30 for export)",
    "订单商品序号从1开始连续编号（与清单商品序号一一对应）",
)
GOODS_VALUE = define_rule(
    "order.goods-value",
    Layer.RULE,
    "goodsValue = Σ line totalPrice. Both are the goods' actual transaction price (goodsValue: "
    "商品实际成交价，含非现金抵扣金额, CEB spec 202205 p. 63, export p. 4; totalPrice = price × "
    "qty, p. 64); non-cash deductions are in goodsValue and declared apart (discount), so no "
    "coupon lets them differ: an error, not a warning",
    "商品价格应等于表体商品总价之和（均为商品实际成交价，含非现金抵扣金额）",
)
CURRENCY = define_rule(
    "order.currency",
    Layer.RULE,
    "Export order lines are in the head's currency",
    "出口订单表体币制与表头币制一致",
)


def check_import_order(unit: Unit, scope: QuotaScope) -> Iterator[Finding]:
    head = unit.head
    goods, freight = head.decimal("goodsValue"), head.decimal("freight")
    tax, discount, paid = (
        head.decimal("taxTotal"),
        head.decimal("discount"),
        head.decimal("acturalPaid"),
    )
    if (
        goods is not None
        and freight is not None
        and tax is not None
        and discount is not None
        and paid is not None
    ):
        expected = goods + freight + tax - discount
        if not agree(paid, expected):
            yield unit.finding(
                ACTURAL_PAID,
                head,
                "acturalPaid",
                f"acturalPaid {money(paid)} is not goodsValue {money(goods)} + freight "
                f"{money(freight)} + taxTotal {money(tax)} − discount {money(discount)} "
                f"= {money(expected)}",
                f"实际支付金额 {money(paid)} 不等于商品价格 {money(goods)} + 运杂费 "
                f"{money(freight)} + 代扣税款 {money(tax)} − 非现金抵扣 {money(discount)} "
                f"= {money(expected)}",
            )
    yield from check_fields(unit)
    yield from check_line_totals(unit, LINE_TOTAL)
    yield from check_gnum_sequence(unit, GNUM_SEQUENCE, GNUM_GAP)
    yield from _check_goods_value(unit)
    if goods is not None:
        value = goods + freight if freight is not None else goods
        yield from limits.check_single_transaction(
            unit, limits.ORDER_SINGLE_TRANSACTION, value, "goodsValue"
        )


def check_export_order(unit: Unit, scope: QuotaScope) -> Iterator[Finding]:
    yield from check_fields(unit)
    yield from check_line_totals(unit, LINE_TOTAL)
    yield from check_gnum_sequence(unit, GNUM_SEQUENCE, GNUM_GAP)
    yield from _check_goods_value(unit)
    yield from check_lines_in_head_currency(unit, CURRENCY)


def _check_goods_value(unit: Unit) -> Iterator[Finding]:
    goods = unit.head.decimal("goodsValue")
    if goods is None or not unit.lines:
        return
    total = lines_total(unit.lines)
    if agree(goods, total):
        return
    yield unit.finding(
        GOODS_VALUE,
        unit.head,
        "goodsValue",
        f"goodsValue {money(goods)} is not the lines' total {money(total)} (Σ totalPrice); "
        "non-cash deductions belong in goodsValue (and, on import, in discount)",
        f"商品价格 {money(goods)} 不等于表体商品总价之和 {money(total)}；"
        "非现金抵扣金额应包含在商品价格内（进口另填非现金抵扣金额）",
    )
