"""Field tables of the import data messages (9610 direct purchase, 1210 bonded): CEB spec §3.

Order, type and length of every field follow the official 202205 import structure; required
text is non-empty there (``C1..n``). Regime differences are not written here but as rules in
``regimes.py``, so one table serves both import regimes.
"""

from __future__ import annotations

from model import Field, Node, opt, req

MONEY = "N19,5"  # amounts, quantities and weights


def submission(app_status: str) -> tuple[Field, ...]:
    """The four fields every data head starts with (e.g. CEB spec 202205 §3.1.4 p. 62)."""
    return (
        req("guid", "Guid"),
        req("appType", "C1"),
        req("appTime", "Time14"),
        req("appStatus", app_status),
    )


ORDER_HEAD = Node(
    "OrderHead",
    "电子订单表头 / import order head (CEB311)",
    (
        *submission("C1..3"),
        req("orderType", "C1"),
        req("orderNo", "C1..60"),
        req("ebpCode", "C1..18"),
        req("ebpName", "C1..100"),
        req("ebcCode", "C1..18"),
        req("ebcName", "C1..100"),
        req("goodsValue", MONEY),
        req("freight", MONEY),
        req("discount", MONEY),
        req("taxTotal", MONEY),
        req("acturalPaid", MONEY),
        req("currency", "C3", fixed="142"),
        req("buyerRegNo", "C1..60"),
        req("buyerName", "C1..60"),
        req("buyerTelephone", "C1..30"),
        req("buyerIdType", "C1"),
        req("buyerIdNumber", "C1..60"),
        opt("payCode", "C..18"),
        opt("payName", "C..100"),
        opt("payTransactionId", "C..60"),
        opt("batchNumbers", "C..100"),
        req("consignee", "C1..100"),
        req("consigneeTelephone", "C1..50"),
        req("consigneeAddress", "C1..200"),
        opt("consigneeDistrict", "C6"),
        opt("note", "C..1000"),
    ),
)

ORDER_LIST = Node(
    "OrderList",
    "电子订单商品 / import order line",
    (
        req("gnum", "int"),
        opt("itemNo", "C..30"),
        req("itemName", "C1..250"),
        req("gmodel", "C1..510"),
        opt("itemDescribe", "C..1000"),
        opt("barCode", "C..50"),
        req("unit", "C3"),
        req("qty", MONEY),
        req("price", MONEY),
        req("totalPrice", MONEY),
        req("currency", "C3", fixed="142"),
        req("country", "C3"),
        opt("note", "C..1000"),
    ),
)

PAYMENT_HEAD = Node(
    "PaymentHead",
    "支付凭证 / import payment (CEB411)",
    (
        *submission("C1..3"),
        req("payCode", "C1..18"),
        req("payName", "C1..100"),
        req("payTransactionId", "C1..60"),
        req("orderNo", "C1..60"),
        req("ebpCode", "C1..18"),
        req("ebpName", "C1..100"),
        req("payerIdType", "C1"),
        req("payerIdNumber", "C1..60"),
        req("payerName", "C1..60"),
        opt("telephone", "C..60"),
        req("amountPaid", MONEY),
        req("currency", "C3", fixed="142"),
        req("payTime", "Time14"),
        opt("note", "C..1000"),
    ),
)

LOGISTICS_HEAD = Node(
    "LogisticsHead",
    "物流运单 / import waybill (CEB511)",
    (
        *submission("C1..3"),
        req("logisticsCode", "C1..18"),
        req("logisticsName", "C1..100"),
        req("logisticsNo", "C1..60"),
        opt("billNo", "C..37"),
        req("orderNo", "C1..60"),
        opt("freight", MONEY),
        opt("insuredFee", MONEY),
        req("currency", "C3", fixed="142"),
        req("weight", MONEY),
        req("packNo", "N9"),
        opt("goodsInfo", "C..200"),
        req("consignee", "C1..100"),
        req("consigneeAddress", "C1..200"),
        req("consigneeTelephone", "C1..50"),
        opt("note", "C..1000"),
    ),
)

INVENTORY_HEAD = Node(
    "InventoryHead",
    "进口清单表头 / import inventory head (CEB621)",
    (
        *submission("C1..3"),
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
        req("assureCode", "C1..30"),
        opt("emsNo", "C..30"),
        opt("invtNo", "C..18"),
        req("ieFlag", "C1"),
        req("declTime", "Date8"),
        req("customsCode", "C4"),
        req("portCode", "C4"),
        opt("ieDate", "Date8"),
        req("buyerIdType", "C1"),
        req("buyerIdNumber", "C1..60"),
        req("buyerName", "C1..60"),
        req("buyerTelephone", "C1..30"),
        req("consigneeAddress", "C1..200"),
        req("agentCode", "C1..18"),
        req("agentName", "C1..100"),
        opt("areaCode", "C..18"),
        opt("areaName", "C..100"),
        req("tradeMode", "C4"),
        req("trafMode", "C1"),
        opt("trafNo", "C..100"),
        opt("voyageNo", "C..32"),
        opt("billNo", "C..37"),
        opt("loctNo", "C..10"),
        opt("licenseNo", "C..19"),
        req("country", "C3"),
        req("freight", MONEY),
        req("insuredFee", MONEY),
        req("currency", "C3", fixed="142"),
        opt("wrapType", "C1"),
        req("packNo", "N9"),
        req("grossWeight", MONEY),
        req("netWeight", MONEY),
        opt("note", "C..1000"),
    ),
)

INVENTORY_LIST = Node(
    "InventoryList",
    "进口清单表体 / import inventory line",
    (
        req("gnum", "int"),
        opt("itemRecordNo", "C..30"),
        opt("itemNo", "C..20"),
        opt("itemName", "C..250"),
        req("gcode", "C10"),
        req("gname", "C1..250"),
        req("gmodel", "C1..510"),
        opt("barCode", "C..50"),
        req("country", "C3"),
        opt("tradeCountry", "C1..3"),
        req("currency", "C3", fixed="142"),
        req("qty", MONEY),
        req("unit", "C3"),
        req("qty1", MONEY),
        req("unit1", "C3"),
        opt("qty2", MONEY),
        opt("unit2", "C3"),
        req("price", MONEY),
        req("totalPrice", MONEY),
        opt("note", "C..1000"),
    ),
)

NODES: dict[str, Node] = {
    node.name: node
    for node in (
        ORDER_HEAD,
        ORDER_LIST,
        PAYMENT_HEAD,
        LOGISTICS_HEAD,
        INVENTORY_HEAD,
        INVENTORY_LIST,
    )
}
