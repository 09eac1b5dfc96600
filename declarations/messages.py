"""The catalogue of CEB messages danchuang understands, and the regimes that use them.

One entry per root element. ``record`` is the repeated business node directly under the root
(up to 100 per message); ``head`` and ``lines`` name its children where the node is split into a
head and lines (orders, inventories), and are ``None`` where the node is flat (payments,
waybills, export receipts of payment). See CEB spec 202205 §2 (export) and §3 (import).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

CEB_NS = "http://www.chinaport.gov.cn/ceb"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"


class Direction(StrEnum):
    IMPORT = "import"
    EXPORT = "export"


class Regime(StrEnum):
    """Customs supervision codes (监管方式) for cross-border e-commerce."""

    DIRECT = "9610"  # 跨境贸易电子商务: direct-purchase import, B2C export
    BONDED = "1210"  # 保税跨境贸易电子商务: bonded import, special-area export
    B2B_DIRECT = "9710"  # 跨境电商B2B直接出口
    OVERSEAS_WAREHOUSE = "9810"  # 跨境电商出口海外仓

    @property
    def directions(self) -> tuple[Direction, ...]:
        if self in (Regime.DIRECT, Regime.BONDED):
            return (Direction.IMPORT, Direction.EXPORT)
        return (Direction.EXPORT,)

    def trade_modes(self, direction: Direction) -> tuple[str, ...]:
        """The 清单's ``tradeMode`` values under this regime: its own code; a special-area export
        (1210) also 1239, which the official export structure names beside it (贸易方式: 一般出口为
        9610, 特殊区域出口为1210/1239). Import takes 1210 only (直购进口9610, 保税进口1210: the
        import structure, and §3.9.4 p. 84)."""
        if self is Regime.BONDED and direction is Direction.EXPORT:
            return (self.value, SPECIAL_AREA_EXPORT_A)
        return (self.value,)


SPECIAL_AREA_EXPORT_A = "1239"  # a second special-area export code (see Regime.trade_modes)
# The return of an export (CEB213) is declared under its own 监管方式 (CEB spec 202205 §2.17.4
# p. 45: 一般出口填 9661，特殊区域出口填 1261): the regimes of the exports each code returns, the
# first the one assumed when nothing else says (9710 and 9810 goods leave as general exports).
RETURN_TRADE_MODES: dict[str, tuple[Regime, ...]] = {
    "9661": (Regime.DIRECT, Regime.B2B_DIRECT, Regime.OVERSEAS_WAREHOUSE),
    "1261": (Regime.BONDED,),
}


def return_trade_mode(regime: Regime) -> str:
    """The trade mode the return of an export of ``regime`` is declared under (9661, 1261)."""
    return next(mode for mode, regimes in RETURN_TRADE_MODES.items() if regime in regimes)


# The regime a 清单's tradeMode names.
REGIME_OF_TRADE_MODE: dict[str, Regime] = {
    code: regime
    for regime in Regime
    for direction in regime.directions
    for code in regime.trade_modes(direction)
}


class Kind(StrEnum):
    """The document's place in a set. The payment slot holds CEB411 (import) or CEB403 (export)."""

    ORDER = "order"
    PAYMENT = "payment"
    WAYBILL = "waybill"
    INVENTORY = "inventory"  # 清单
    RETURN = "return"  # 回执 (a receipt customs sends back)
    # What follows a 清单 (import: CEB spec 202205 §3.7, §3.11, §3.13, §3.15, §3.17-3.18)
    WAYBILL_STATUS = "waybill-status"  # 运单状态: the carrier's delivery record
    CANCELLATION = "cancellation"  # 撤销申请单
    REFUND = "refund"  # 退货申请单 (InvtRefund): goods the buyer sends back
    SITE_ENTRY = "site-entry"  # 入库明细单: goods entered at the supervised site
    TAX_BILL = "tax-bill"  # 电子税单, customs' own message
    TAX_STATUS = "tax-status"  # 电子税单状态, customs' own message
    # The goods' movement (export: CEB spec 202205 §2.7, §2.9)
    ARRIVAL = "arrival"  # 运抵单: the goods arrived at the supervised site
    DEPARTURE = "departure"  # 离境单: the goods left China
    # After the export 清单 (§2.15, §2.19, §2.21, §2.23; cancellation and return above)
    MASTER_WAYBILL = "master-waybill"  # 清单总分单: parcels bound to a vehicle or flight
    RETURN_TALLY = "return-tally"  # 退货理货明细单: the site's tally of a returned parcel
    SUMMARY = "summary"  # 汇总申请单: released 清单 summarised into 报关单
    SUMMARY_RESULT = "summary-result"  # 汇总结果单, customs' own message: one 报关单


@dataclass(frozen=True, slots=True)
class MessageType:
    code: str  # "CEB311"
    direction: Direction
    kind: Kind
    name_en: str
    name_zh: str
    record: str  # repeated business node under the root
    head: str | None = None
    lines: str | None = None
    receipt: str | None = None  # for data messages: the code of the receipt customs answers with
    answers: str | None = None  # for receipts: the code of the data message they answer
    # Fields of the record/head naming the enterprise that really sends the message; the sender's
    # code must appear in one of them (checked by the live service's access rules).
    sender_fields: tuple[str, ...] = ()
    # Where a record names nobody in ``sender_fields``, the fields naming who sends it instead.
    fallback_sender_fields: tuple[str, ...] = ()

    def senders(self, value: Callable[[str], str | None]) -> tuple[str, ...]:
        """The sender fields that apply to a record whose fields ``value`` reads."""
        if self.fallback_sender_fields and not any(value(f) for f in self.sender_fields):
            return self.fallback_sender_fields
        return self.sender_fields

    @property
    def root(self) -> str:
        return f"{self.code}Message"

    @property
    def is_receipt(self) -> bool:
        return self.kind is Kind.RETURN


_I, _E = Direction.IMPORT, Direction.EXPORT

MESSAGES: tuple[MessageType, ...] = (
    # import (9610 direct purchase, 1210 bonded)
    MessageType("CEB311", _I, Kind.ORDER, "order", "电子订单", "Order", "OrderHead", "OrderList",
                receipt="CEB312", sender_fields=("ebpCode", "ebcCode")),
    MessageType("CEB411", _I, Kind.PAYMENT, "payment", "支付单", "Payment", "PaymentHead",
                receipt="CEB412", sender_fields=("payCode",)),
    MessageType("CEB511", _I, Kind.WAYBILL, "waybill", "物流运单", "Logistics", "LogisticsHead",
                receipt="CEB512", sender_fields=("logisticsCode",)),
    MessageType("CEB621", _I, Kind.INVENTORY, "declaration list", "进口清单", "Inventory",
                "InventoryHead", "InventoryList", receipt="CEB622", sender_fields=("agentCode",)),
    MessageType("CEB312", _I, Kind.RETURN, "order receipt", "订单回执", "OrderReturn",
                answers="CEB311"),
    MessageType("CEB412", _I, Kind.RETURN, "payment receipt", "支付单回执", "PaymentReturn",
                answers="CEB411"),
    MessageType("CEB512", _I, Kind.RETURN, "waybill receipt", "运单回执", "LogisticsReturn",
                answers="CEB511"),
    MessageType("CEB622", _I, Kind.RETURN, "declaration list receipt", "清单回执",
                "InventoryReturn", answers="CEB621"),
    # import, after the 清单 (schemas and identification; their lifecycle: docs/api.md)
    MessageType("CEB513", _I, Kind.WAYBILL_STATUS, "waybill status", "运单状态",
                "LogisticsStatus", receipt="CEB514", sender_fields=("logisticsCode",)),
    MessageType("CEB623", _I, Kind.CANCELLATION, "declaration list cancellation",
                "撤销申请单", "InvtCancel", receipt="CEB624", sender_fields=("agentCode",)),
    MessageType("CEB625", _I, Kind.REFUND, "return application", "退货申请单", "InvtRefund",
                "InvtRefundHead", "InvtRefundList", receipt="CEB626",
                sender_fields=("agentCode",)),
    MessageType("CEB711", _I, Kind.SITE_ENTRY, "site entry record", "入库明细单", "Delivery",
                "DeliveryHead", "DeliveryList", receipt="CEB712",
                sender_fields=("operatorCode",)),
    MessageType("CEB816", _I, Kind.TAX_BILL, "electronic tax bill", "电子税单", "Tax",
                "TaxHeadRd", "TaxListRd"),
    MessageType("CEB818", _I, Kind.TAX_STATUS, "tax bill status", "电子税单状态", "Tax",
                "TaxHeadStatus"),
    MessageType("CEB514", _I, Kind.RETURN, "waybill status receipt", "运单状态回执",
                "LogisticsStatusReturn", answers="CEB513"),
    MessageType("CEB624", _I, Kind.RETURN, "cancellation receipt", "撤销申请单回执",
                "InvtCancelReturn", answers="CEB623"),
    MessageType("CEB626", _I, Kind.RETURN, "return application receipt", "退货申请单回执",
                "InvtRefundReturn", answers="CEB625"),
    MessageType("CEB712", _I, Kind.RETURN, "site entry receipt", "入库明细单回执",
                "DeliveryReturn", answers="CEB711"),
    # the exchange platform's format check answers any message (§3.19, declarations.receipts)
    MessageType("CEB900", _I, Kind.RETURN, "format-check receipt", "报文格式校验回执",
                "MessageReturn"),
    # export (9610, 1210 special area, 9710 B2B, 9810 overseas warehouse)
    MessageType("CEB303", _E, Kind.ORDER, "order", "电子订单", "Order", "OrderHead", "OrderList",
                receipt="CEB304", sender_fields=("ebpCode", "ebcCode")),
    # payCode is required of domestic payment companies only (§2.3.4 p. 9: 国内企业必填; payName
    # "现金支付" for offline payment): without one, the e-commerce enterprise collecting the money
    # sends it (danchuang's reading; the structure names only 支付企业).
    MessageType("CEB403", _E, Kind.PAYMENT, "receipt of payment", "收款单", "Receipts",
                receipt="CEB404", sender_fields=("payCode",),
                fallback_sender_fields=("ebcCode",)),
    MessageType("CEB505", _E, Kind.WAYBILL, "waybill", "物流运单", "Logistics",
                receipt="CEB506", sender_fields=("logisticsCode",)),
    MessageType("CEB603", _E, Kind.INVENTORY, "declaration list", "出口清单", "Inventory",
                "InventoryHead", "InventoryList", receipt="CEB604", sender_fields=("agentCode",)),
    # the goods' movement (schemas and identification; not live yet: docs/api.md)
    MessageType("CEB507", _E, Kind.ARRIVAL, "arrival record", "运抵单", "Arrival",
                "ArrivalHead", "ArrivalList", receipt="CEB508",
                sender_fields=("operatorCode",)),
    MessageType("CEB509", _E, Kind.DEPARTURE, "departure record", "离境单", "Departure",
                "DepartureHead", "DepartureList", receipt="CEB510",
                sender_fields=("logisticsCode",)),
    # what may follow the export 清单 (§2.13, §2.15, §2.17, §2.19, §2.21, §2.23)
    MessageType("CEB605", _E, Kind.CANCELLATION, "declaration list cancellation",
                "撤销申请单", "InvtCancel", receipt="CEB606", sender_fields=("agentCode",)),
    MessageType("CEB607", _E, Kind.MASTER_WAYBILL, "master-and-sub waybill list",
                "清单总分单", "WayBill", "WayBillHead", "WayBillList", receipt="CEB608",
                sender_fields=("logisticsCode", "agentCode")),
    MessageType("CEB213", _E, Kind.REFUND, "return application", "退货申请单", "InvtRefund",
                "InvtRefundHead", "InvtRefundList", receipt="CEB214",
                sender_fields=("agentCode",)),
    MessageType("CEB215", _E, Kind.RETURN_TALLY, "return tally", "退货理货明细单",
                "InvtRefundDetail", receipt="CEB216", sender_fields=("operatorCode",)),
    MessageType("CEB701", _E, Kind.SUMMARY, "summary application", "汇总申请单",
                "SummaryApply", "SummaryApplyHead", "SummaryApplyList", receipt="CEB702",
                sender_fields=("agentCode",)),
    MessageType("CEB792", _E, Kind.SUMMARY_RESULT, "summary result", "汇总结果单",
                "SummaryResult", "SummaryResultHead", "SummaryResultList"),
    MessageType("CEB304", _E, Kind.RETURN, "order receipt", "订单回执", "OrderReturn",
                answers="CEB303"),
    MessageType("CEB404", _E, Kind.RETURN, "receipt-of-payment receipt", "收款单回执",
                "ReceiptsReturn", answers="CEB403"),
    MessageType("CEB506", _E, Kind.RETURN, "waybill receipt", "运单回执", "LogisticsReturn",
                answers="CEB505"),
    MessageType("CEB604", _E, Kind.RETURN, "declaration list receipt", "清单回执",
                "InventoryReturn", answers="CEB603"),
    MessageType("CEB508", _E, Kind.RETURN, "arrival receipt", "运抵单回执", "ArrivalReturn",
                answers="CEB507"),
    MessageType("CEB510", _E, Kind.RETURN, "departure receipt", "离境单回执", "DepartureReturn",
                answers="CEB509"),
    MessageType("CEB606", _E, Kind.RETURN, "cancellation receipt", "撤销申请单回执",
                "InvtCancelReturn", answers="CEB605"),
    MessageType("CEB608", _E, Kind.RETURN, "master waybill receipt", "清单总分单回执",
                "WayBillReturn", answers="CEB607"),
    MessageType("CEB214", _E, Kind.RETURN, "return application receipt", "退货申请单回执",
                "RefundReturn", answers="CEB213"),
    MessageType("CEB216", _E, Kind.RETURN, "return tally receipt", "退货理货明细单回执",
                "InvtRefundDetailReturn", answers="CEB215"),
    MessageType("CEB702", _E, Kind.RETURN, "summary application receipt", "汇总申请单回执",
                "SummaryReturn", answers="CEB701"),
)  # fmt: skip

BY_CODE: dict[str, MessageType] = {m.code: m for m in MESSAGES}

# The enterprise each party field names, by its role (``sender_fields`` are among these).
PARTY_FIELDS: dict[str, str] = {
    "ebpCode": "ebp",  # e-commerce platform
    "ebcCode": "ebc",  # e-commerce enterprise
    "payCode": "pay",  # payment company
    "logisticsCode": "logistics",  # carrier
    "agentCode": "agent",  # customs broker / declarant
    "operatorCode": "operator",  # supervised-site operator (监管场所经营人, CEB711)
}
BY_ROOT: dict[str, MessageType] = {m.root: m for m in MESSAGES}


# The data messages (not the receipts) by direction and kind: findings about a set name its
# documents often.
DATA_MESSAGES: dict[tuple[Direction, Kind], MessageType] = {
    (m.direction, m.kind): m for m in MESSAGES if m.kind is not Kind.RETURN
}

# The data documents of a set in sending order: the 清单 last, so that it meets a complete set
# (customs checks it against the others).
SET_KINDS: tuple[Kind, ...] = (Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY)
_SEND_RANKS = {kind: rank for rank, kind in enumerate(SET_KINDS)}


def data_message(direction: Direction, kind: Kind) -> MessageType:
    """The data message of a direction and kind, e.g. (import, order) -> CEB311. KeyError for
    ``Kind.RETURN``: receipts are not data messages."""
    return DATA_MESSAGES[(direction, kind)]


def send_rank(kind: Kind) -> int:
    """A kind's place in ``SET_KINDS``; receipts come after every data document."""
    return _SEND_RANKS.get(kind, len(SET_KINDS))
