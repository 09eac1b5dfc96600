"""Field tables of the import messages that follow the 清单 (CEB spec 202205 §3.7-3.8,
§3.11-3.18): the carrier's delivery status, cancellation, returns, entry at the supervised
site, and customs' electronic tax bill with its status.

Order, type and length follow the official 202205 import structure, as in ``fields_import``.
"""

from __future__ import annotations

from fields_import import MONEY, submission
from model import Node, opt, req

_BUYER = (
    req("buyerIdType", "C1"),
    req("buyerIdNumber", "C1..60"),
    req("buyerName", "C1..60"),
    req("buyerTelephone", "C1..30"),
)
# The parties and numbers of the 清单 a cancellation or a return names (§3.11.4 p. 88,
# §3.13.4 p. 93): the same fields, in the same order.
_INVENTORY_NAMED = (
    req("customsCode", "C4"),
    req("orderNo", "C1..60"),
    req("ebpCode", "C1..18"),
    req("ebpName", "C1..100"),
    req("ebcCode", "C1..18"),
    req("ebcName", "C1..100"),
    req("logisticsNo", "C1..60"),
    req("logisticsCode", "C1..18"),
    req("logisticsName", "C1..100"),
    opt("copNo", "C..20"),
    opt("preNo", "C..18"),
    req("invtNo", "C1..18"),
    *_BUYER,
    req("agentCode", "C1..18"),
    req("agentName", "C1..100"),
    req("reason", "C1..1000"),
    opt("note", "C..1000"),
)

LOGISTICS_STATUS = Node(
    "LogisticsStatus",
    "运单状态 / waybill status: delivered (CEB513, §3.7.4 p. 77)",
    (
        *submission("C1..3"),
        req("logisticsCode", "C1..18"),
        req("logisticsName", "C1..100"),
        req("logisticsNo", "C1..60"),
        req("logisticsStatus", "C1"),
        req("logisticsTime", "Time14"),
        opt("note", "C..1000"),
    ),
)

INVT_CANCEL = Node(
    "InvtCancel",
    "撤销申请单 / 清单 cancellation (CEB623, §3.11.4 p. 88)",
    (*submission("C1..3"), *_INVENTORY_NAMED),
)

INVT_REFUND_HEAD = Node(
    "InvtRefundHead",
    "退货申请单表头 / return application head (CEB625, §3.13.4 p. 93)",
    (*submission("C1..3"), *_INVENTORY_NAMED),
)

INVT_REFUND_LIST = Node(
    "InvtRefundList",
    "退货申请单表体 / return application line: a line of the 清单 and how much comes back",
    (
        req("gnum", "int"),
        req("gcode", "C10"),
        req("gname", "C1..250"),
        req("qty", MONEY),
        req("unit", "C3"),
        opt("note", "C..1000"),
    ),
)

DELIVERY_HEAD = Node(
    "DeliveryHead",
    "入库明细单表头 / entry at the supervised site (CEB711, §3.15.4 p. 98)",
    (
        *submission("C1..3"),
        req("customsCode", "C4"),
        opt("copNo", "C..20"),
        opt("preNo", "C..18"),
        opt("rkdNo", "C..18"),
        req("operatorCode", "C1..18"),
        req("operatorName", "C1..100"),
        req("ieFlag", "C1"),
        req("trafMode", "C1"),
        req("trafNo", "C1..100"),
        req("voyageNo", "C1..32"),
        req("billNo", "C1..37"),
        req("logisticsCode", "C1..18"),
        req("logisticsName", "C1..100"),
        opt("unloadLocation", "C..100"),
        opt("note", "C..1000"),
    ),
)

DELIVERY_LIST = Node(
    "DeliveryList",
    "入库明细单表体 / one waybill entered",
    (req("gnum", "int"), req("logisticsNo", "C1..60"), opt("note", "C..1000")),
)

TAX_HEAD_RD = Node(
    "TaxHeadRd",
    "电子税单表头 / electronic tax bill head, sent by customs (CEB816, §3.17.4 p. 102)",
    (
        req("guid", "Guid"),
        req("returnTime", "Time17"),
        req("invtNo", "C1..18"),
        req("taxNo", "C1..50"),
        req("customsTax", MONEY),
        req("valueAddedTax", MONEY),
        req("consumptionTax", MONEY),
        req("status", "C1"),
        opt("entDutyNo", "C..50"),
        opt("note", "C..1000"),
        opt("assureCode", "C..64"),
        opt("ebcCode", "C..64"),
        opt("logisticsCode", "C..64"),
        opt("agentCode", "C1..18"),
        opt("customsCode", "C4"),
    ),
)

TAX_LIST_RD = Node(
    "TaxListRd",
    "电子税单表体 / one line of the tax bill",
    (
        req("gnum", "int"),
        req("gcode", "C10"),
        req("taxPrice", MONEY),
        req("customsTax", MONEY),
        req("valueAddedTax", MONEY),
        req("consumptionTax", MONEY),
    ),
)

TAX_HEAD_STATUS = Node(
    "TaxHeadStatus",
    "电子税单状态 / tax bill status, sent by customs (CEB818, §3.18.4 p. 104)",
    (
        req("guid", "Guid"),
        req("returnTime", "Time17"),
        req("invtNo", "C1..18"),
        req("taxNo", "C1..50"),
        req("status", "C1"),
        opt("entDutyNo", "C..50"),
        opt("assureCode", "C..64"),
    ),
)

NODES: dict[str, Node] = {
    node.name: node
    for node in (
        LOGISTICS_STATUS,
        INVT_CANCEL,
        INVT_REFUND_HEAD,
        INVT_REFUND_LIST,
        DELIVERY_HEAD,
        DELIVERY_LIST,
        TAX_HEAD_RD,
        TAX_LIST_RD,
        TAX_HEAD_STATUS,
    )
}
