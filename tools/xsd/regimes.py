"""The six schema files: which messages each covers and what each regime tightens.

Every regime of a direction shares the field tables of that direction; what makes 1210 import
differ from 9610 import is the short list of rules below, each with the reason taken from
the CEB spec 202205 (§2.1.4, §2.11.4, §3.1.4, §3.3.4, §3.9.4). A rule only ever *narrows* the
official structure, so a
document our schema accepts is always accepted by the official one.
"""

from __future__ import annotations

import fields_export
import fields_export_after
import fields_export_returns
import fields_export_summary
import fields_import
import fields_import_after
from model import DataMessage, ReceiptMessage, Rule, Schema

from declarations.messages import Direction, Regime

IMPORT_DATA = (
    DataMessage(
        "CEB311", "电子订单 / import order", "Order", (("OrderHead", 1), ("OrderList", 99))
    ),
    DataMessage("CEB411", "支付凭证 / import payment", "Payment", (("PaymentHead", 1),)),
    DataMessage("CEB511", "物流运单 / import waybill", "Logistics", (("LogisticsHead", 1),)),
    DataMessage(
        "CEB621",
        "进口清单 / import inventory (signature mandatory)",
        "Inventory",
        (("InventoryHead", 1), ("InventoryList", 99)),
        signature_required=True,
    ),
    # after the 清单 (CEB spec 202205 §3.7, §3.11, §3.13, §3.15, §3.17-3.18)
    DataMessage("CEB513", "运单状态 / waybill status", "LogisticsStatus", signature_required=False),
    DataMessage("CEB623", "撤销申请单 / 清单 cancellation", "InvtCancel", signature_required=True),
    DataMessage(
        "CEB625",
        "退货申请单 / return application",
        "InvtRefund",
        (("InvtRefundHead", 1), ("InvtRefundList", 99)),
        signature_required=True,
    ),
    DataMessage(
        "CEB711",
        "入库明细单 / entry at the supervised site",
        "Delivery",
        (("DeliveryHead", 1), ("DeliveryList", 0)),
        signature_required=True,
        max_records="1",
    ),
    DataMessage(
        "CEB816",
        "电子税单 / electronic tax bill (customs)",
        "Tax",
        (("TaxHeadRd", 1), ("TaxListRd", 99)),
        max_records="unbounded",
        transfer=False,
        record_type="TaxBillType",
    ),
    DataMessage(
        "CEB818",
        "电子税单状态 / tax bill status (customs)",
        "Tax",
        (("TaxHeadStatus", 1),),
        max_records="unbounded",
        transfer=False,
        record_type="TaxStatusType",
    ),
)
IMPORT_RECEIPTS = (
    ReceiptMessage("CEB312", "订单回执 / order receipt", "OrderReturn", "ImportOrderReturnType"),
    ReceiptMessage(
        "CEB412", "支付单回执 / payment receipt", "PaymentReturn", "ImportPaymentReturnType"
    ),
    ReceiptMessage(
        "CEB512", "运单回执 / waybill receipt", "LogisticsReturn", "ImportLogisticsReturnType"
    ),
    ReceiptMessage(
        "CEB622", "清单回执 / inventory receipt", "InventoryReturn", "ImportInventoryReturnType"
    ),
    ReceiptMessage(
        "CEB514",
        "运单状态回执 / waybill status receipt",
        "LogisticsStatusReturn",
        "ImportLogisticsStatusReturnType",
    ),
    ReceiptMessage(
        "CEB624",
        "撤销申请单回执 / cancellation receipt",
        "InvtCancelReturn",
        "ImportInvtCancelReturnType",
    ),
    ReceiptMessage(
        "CEB626",
        "退货申请单回执 / return receipt",
        "InvtRefundReturn",
        "ImportInvtRefundReturnType",
    ),
    ReceiptMessage(
        "CEB900",
        "报文格式校验回执 / format-check receipt",
        "MessageReturn",
        "ImportMessageReturnType",
        max_nodes="1",
    ),
    ReceiptMessage(
        "CEB712",
        "入库明细单回执 / site entry receipt",
        "DeliveryReturn",
        "ImportDeliveryReturnType",
    ),
)

IMPORT_NODES = fields_import.NODES | fields_import_after.NODES

EXPORT_NODES = (
    fields_export.NODES
    | fields_export_after.NODES
    | fields_export_returns.NODES
    | fields_export_summary.NODES
)

# Export records are either split (Order, Inventory) or flat (Receipts, Logistics: no parts).
EXPORT_DATA = (
    DataMessage(
        "CEB303", "电子订单 / export order", "Order", (("OrderHead", 1), ("OrderList", 100))
    ),
    DataMessage("CEB403", "收款单 / export receipt of payment", "Receipts"),
    DataMessage("CEB505", "物流运单 / export waybill", "Logistics"),
    DataMessage(
        "CEB603",
        "出口清单 / export inventory",
        "Inventory",
        (("InventoryHead", 1), ("InventoryList", 100)),
    ),
    # the goods' movement (CEB spec 202205 §2.7, §2.9)
    DataMessage(
        "CEB507",
        "运抵单 / arrival at the supervised site",
        "Arrival",
        (("ArrivalHead", 1), ("ArrivalList", 0)),
        optional_parts=("ArrivalList",),  # "运抵单表体（允许为空）", §2.7.4 p. 19
    ),
    DataMessage(
        "CEB509",
        "离境单 / departure",
        "Departure",
        (("DepartureHead", 1), ("DepartureList", 0)),
    ),
    # what may follow the 清单 (§2.13, §2.15, §2.17, §2.19, §2.21, §2.23)
    DataMessage("CEB605", "撤销申请单 / 清单 cancellation", "InvtCancel"),
    DataMessage(
        "CEB607",
        "清单总分单 / master waybill binding 清单 to a vehicle or flight",
        "WayBill",
        (("WayBillHead", 1), ("WayBillList", 0)),
    ),
    DataMessage(
        "CEB213",
        "退货申请单 / return of exported parcels",
        "InvtRefund",
        (("InvtRefundHead", 1), ("InvtRefundList", 100)),
    ),
    DataMessage("CEB215", "退货理货明细单 / tally of a returned parcel", "InvtRefundDetail"),
    DataMessage(
        "CEB701",
        "汇总申请单 / summary application",
        "SummaryApply",
        (("SummaryApplyHead", 1), ("SummaryApplyList", 0)),
        optional_parts=("SummaryApplyList",),  # a time range may stand for the list, §2.21.4
    ),
    DataMessage(
        "CEB792",
        "汇总结果单 / summary result: one 报关单 (customs)",
        "SummaryResult",
        (("SummaryResultHead", 1), ("SummaryResultList", 0)),
        optional_parts=("SummaryResultList",),  # "后续数据，则允许为空", §2.23.4 p. 60
        transfer=False,
    ),
)
EXPORT_RECEIPTS = (
    ReceiptMessage("CEB304", "订单回执 / order receipt", "OrderReturn", "ExportOrderReturnType"),
    ReceiptMessage(
        "CEB404",
        "收款单回执 / receipt-of-payment receipt",
        "ReceiptsReturn",
        "ExportReceiptsReturnType",
    ),
    ReceiptMessage(
        "CEB506", "运单回执 / waybill receipt", "LogisticsReturn", "ExportLogisticsReturnType"
    ),
    ReceiptMessage(
        "CEB604", "清单回执 / inventory receipt", "InventoryReturn", "ExportInventoryReturnType"
    ),
    ReceiptMessage(
        "CEB508", "运抵单回执 / arrival receipt", "ArrivalReturn", "ExportArrivalReturnType"
    ),
    ReceiptMessage(
        "CEB510", "离境单回执 / departure receipt", "DepartureReturn", "ExportDepartureReturnType"
    ),
    ReceiptMessage(
        "CEB606",
        "撤销申请单回执 / cancellation receipt",
        "InvtCancelReturn",
        "ExportInvtCancelReturnType",
    ),
    ReceiptMessage(
        "CEB608",
        "清单总分单回执 / master waybill receipt",
        "WayBillReturn",
        "ExportWayBillReturnType",
    ),
    ReceiptMessage(
        "CEB214", "退货申请单回执 / return receipt", "RefundReturn", "ExportRefundReturnType"
    ),
    ReceiptMessage(
        "CEB216",
        "退货理货明细单回执 / return tally receipt",
        "InvtRefundDetailReturn",
        "ExportInvtRefundDetailReturnType",
    ),
    ReceiptMessage(
        "CEB702", "汇总申请单回执 / summary receipt", "SummaryReturn", "ExportSummaryReturnType"
    ),
)

# Import: the buyer must be identified by identity card and the order is an import order,
# whatever the regime (CEB spec 202205 §3.1.4 pp. 62-63, §3.3.4 p. 69, §3.9.4 p. 82).
_IMPORT_IDENTITY = (
    Rule("OrderHead", "orderType", "import orders are type I (CEB spec §3.1.4)", only="I"),
    Rule("OrderHead", "buyerIdType", "buyer identified by identity card (§3.1.4)", only="1"),
    Rule("PaymentHead", "payerIdType", "payer identified by identity card (§3.3.4)", only="1"),
    Rule("InventoryHead", "buyerIdType", "buyer identified by identity card (§3.9.4)", only="1"),
)


def _trade_mode(regime: str, direction: str) -> Rule:
    """The regime's tradeMode values (``declarations.messages.Regime.trade_modes``)."""
    modes = Regime(regime).trade_modes(Direction(direction))
    return Rule("InventoryHead", "tradeMode", f"the 清单 of regime {regime}", only=modes)


def _order_type(order_type: str, why: str) -> Rule:
    return Rule("OrderHead", "orderType", why, only=order_type)


_BONDED = "1210 bonded: "
SCHEMAS: tuple[Schema, ...] = (
    Schema(
        "9610",
        "import",
        "9610 直购进口 / direct-purchase import",
        IMPORT_DATA,
        IMPORT_RECEIPTS,
        IMPORT_NODES,
        (*_IMPORT_IDENTITY, _trade_mode("9610", "import")),
    ),
    Schema(
        "1210",
        "import",
        "1210 网购保税进口 / bonded import",
        IMPORT_DATA,
        IMPORT_RECEIPTS,
        IMPORT_NODES,
        (
            *_IMPORT_IDENTITY,
            _trade_mode("1210", "import"),
            Rule(
                "InventoryHead", "emsNo", _BONDED + "account book for zone write-off", require=True
            ),
            Rule("InventoryHead", "areaCode", _BONDED + "zone warehouse enterprise", require=True),
            Rule("InventoryHead", "areaName", _BONDED + "zone warehouse enterprise", require=True),
            Rule("InventoryHead", "country", _BONDED + "goods leave a zone in China", only="142"),
            Rule("InventoryList", "itemRecordNo", _BONDED + "account-book item", require=True),
        ),
    ),
    Schema(
        "9610",
        "export",
        "9610 一般出口 / B2C export",
        EXPORT_DATA,
        EXPORT_RECEIPTS,
        EXPORT_NODES,
        (_order_type("E", "9610 export orders are B2C (type E)"), _trade_mode("9610", "export")),
    ),
    Schema(
        "1210",
        "export",
        "1210 特殊区域出口 / B2C export from a special customs zone",
        EXPORT_DATA,
        EXPORT_RECEIPTS,
        EXPORT_NODES,
        (
            _order_type("E", "1210 export orders are B2C (type E)"),
            _trade_mode("1210", "export"),
            Rule("InventoryHead", "iacCode", "1210 export: zone enterprise", require=True),
            Rule("InventoryHead", "iacName", "1210 export: zone enterprise", require=True),
            Rule("InventoryHead", "emsNo", "1210 export: zone account book", require=True),
            Rule("InventoryList", "itemRecordNo", "1210 export: account-book item", require=True),
        ),
    ),
    Schema(
        "9710",
        "export",
        "9710 跨境电商B2B直接出口 / B2B direct export",
        EXPORT_DATA,
        EXPORT_RECEIPTS,
        EXPORT_NODES,
        (_order_type("B", "9710 orders are B2B orders (type B)"), _trade_mode("9710", "export")),
    ),
    Schema(
        "9810",
        "export",
        "9810 跨境电商出口海外仓 / export to an overseas warehouse",
        EXPORT_DATA,
        EXPORT_RECEIPTS,
        EXPORT_NODES,
        (
            _order_type("W", "9810 orders are overseas-warehouse bookings (type W)"),
            _trade_mode("9810", "export"),
        ),
    ),
)
