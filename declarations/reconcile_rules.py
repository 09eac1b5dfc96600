"""The rules of the reconciliation layer (三单对碰): what ``declarations.reconcile`` checks,
one ``RuleInfo`` each, registered in ``declarations.findings.RULES`` at import.

The spec's basis and danchuang's own modelling choices are in ``declarations.reconcile``.
"""

from __future__ import annotations

from declarations.findings import Layer, Severity, define_rule
from declarations.messages import SET_KINDS, Direction, Kind, Regime

__all__ = [
    "BUYER_PAYER",
    "CONSIGNEE",
    "DUPLICATE",
    "EXPORT_CHARGE",
    "INVENTORY_AMOUNTS",
    "INVENTORY_BUYER",
    "INVENTORY_GOODS",
    "INVENTORY_LINES",
    "INVENTORY_ORDER_LINK",
    "INVENTORY_WAYBILL_LINK",
    "MISSING_DOCUMENT",
    "PAYMENT_AMOUNT",
    "PAYMENT_LINK",
    "TRADE_MODE",
    "WAYBILL_ORDER_LINK",
    "required_kinds",
]

MISSING_DOCUMENT = define_rule(
    "reconcile.missing-document",
    Layer.RECONCILE,
    "The set holds every document its regime requires",
    "单证齐全：缺少监管方式要求的单证",
)
DUPLICATE = define_rule(
    "reconcile.duplicate-document",
    Layer.RECONCILE,
    "One document of each kind per order",
    "同一订单同类单证只能有一份",
)
PAYMENT_AMOUNT = define_rule(
    "reconcile.payment-amount",
    Layer.RECONCILE,
    "The payment equals the order: amountPaid = acturalPaid (CEB spec 202205 p. 63: 与支付凭证的"
    "支付金额一致); export: the receipt is in the order's currency",
    "支付金额与订单一致：支付单支付金额 = 订单实际支付金额（出口：收款单币制与订单一致）",
)
EXPORT_CHARGE = define_rule(
    "reconcile.export-charge",
    Layer.RECONCILE,
    "An export receipt's charge is not above the order's goodsValue + freight. A warning only: "
    "the spec defines charge as the order's transaction amount (CEB spec 202205 p. 10) and "
    "goodsValue as including non-cash deductions (p. 4), so a coupon makes charge lower and "
    "no equality holds; collecting more than goods and freight is only suspicious",
    "收款金额高于订单商品金额加运杂费（提示）：收款金额为订单交易金额，商品金额含非现金抵扣",
    severity=Severity.WARNING,
)
PAYMENT_LINK = define_rule(
    "reconcile.payment-link",
    Layer.RECONCILE,
    "The payment names the order's platform (ebpCode)",
    "支付单与订单的电商平台代码一致",
)
CONSIGNEE = define_rule(
    "reconcile.consignee",
    Layer.RECONCILE,
    "Order and waybill name the same consignee, phone and address",
    "订单与运单的收货人姓名、电话、地址一致",
)
BUYER_PAYER = define_rule(
    "reconcile.buyer-payer",
    Layer.RECONCILE,
    "The buyer is the payer (name and ID number). A warning only: the spec does not require it "
    "(CEB spec 202205 p. 63, p. 69 define buyer and payer apart), and 海关总署公告2018年第194号 "
    "requires it only of orderers whose identity is not authenticated, which no message field "
    "tells",
    "订购人与支付人不一致（提示）：身份信息未经认证的订购人应与支付人一致",
    severity=Severity.WARNING,
)
INVENTORY_BUYER = define_rule(
    "reconcile.inventory-buyer",
    Layer.RECONCILE,
    "The 清单's buyer is the order's buyer (name and ID number)",
    "清单订购人与订单订购人一致（姓名、证件号码）",
)
INVENTORY_ORDER_LINK = define_rule(
    "reconcile.inventory-order-link",
    Layer.RECONCILE,
    "The 清单 names the order (orderNo, ebpCode, ebcCode)",
    "清单与订单的订单编号、电商平台代码、电商企业代码一致",
)
INVENTORY_WAYBILL_LINK = define_rule(
    "reconcile.inventory-waybill-link",
    Layer.RECONCILE,
    "The 清单 names the waybill (logisticsNo, logisticsCode)",
    "清单与运单的物流运单编号、物流企业代码一致",
)
WAYBILL_ORDER_LINK = define_rule(
    "reconcile.waybill-order-link",
    Layer.RECONCILE,
    "An import waybill names the order (orderNo)",
    "进口运单与订单的订单编号一致",
)
TRADE_MODE = define_rule(
    "reconcile.trade-mode",
    Layer.RECONCILE,
    "The 清单's tradeMode fits the order's type (I, E: 9610/1210; B: 9710; W: 9810)",
    "清单贸易方式与订单类型一致（I、E：9610/1210；B：9710；W：9810）",
)
INVENTORY_LINES = define_rule(
    "reconcile.inventory-lines",
    Layer.RECONCILE,
    "清单 lines match order lines one-to-one by gnum",
    "清单商品序号与订单商品序号一一对应",
)
INVENTORY_GOODS = define_rule(
    "reconcile.inventory-goods",
    Layer.RECONCILE,
    "清单 goods are the order's: import gname = itemName (CEB spec 202205 p. 84); export itemNo = "
    "itemNo when the order's fits the 清单's 20 characters (order C..30 p. 4, 清单 C..20 p. 30)",
    "清单商品与订单一致：进口商品名称；出口商品货号（订单货号不超过20位时）",
)
INVENTORY_AMOUNTS = define_rule(
    "reconcile.inventory-amounts",
    Layer.RECONCILE,
    "清单 lines have the order's quantity and unit price",
    "清单商品数量、单价与订单一致",
)


# The kinds of a set in their order (messages.SET_KINDS); without the payment on the export
# 清单 route.
_WITHOUT_PAYMENT = (Kind.ORDER, Kind.WAYBILL, Kind.INVENTORY)
_B2C = (Regime.DIRECT, Regime.BONDED)


def required_kinds(direction: Direction, regime: Regime | None) -> tuple[Kind, ...]:
    """The documents of a complete set (``MISSING_DOCUMENT``; docs/api.md): 9710/9810 on the
    清单 route have no payment."""
    if direction is Direction.EXPORT and regime not in _B2C:
        return _WITHOUT_PAYMENT
    return SET_KINDS
