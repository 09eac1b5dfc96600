"""Field tables of the export data messages (9610, 1210, 9710, 9810): CEB spec 202205 §2.

Order, type and length of every field follow the official 202205 export structure. Unlike the
import side, export text may mostly be empty (``C..n``), a few codes collapse spaces first
(``-collapse``), and ``appStatus``/``freight`` have defaults an empty element takes.
"""

from __future__ import annotations

from model import Field, Node, opt, req

MONEY = "N19,5"


def _submission(app_status_default: str | None) -> tuple[Field, ...]:
    return (
        req("guid", "Guid"),
        req("appType", "C1"),
        req("appTime", "Time14"),
        req("appStatus", "C1", default=app_status_default),
    )


ORDER_HEAD = Node(
    "OrderHead",
    "电子订单表头 / export order head (CEB303); for 9810 the overseas-warehouse booking",
    (
        *_submission("1"),
        req("orderType", "C1"),
        req("orderNo", "C..60"),
        req("ebpCode", "C..18"),
        req("ebpName", "C..100"),
        req("ebcCode", "C..18"),
        req("ebcName", "C..100"),
        req("goodsValue", MONEY),
        req("freight", MONEY, default="0"),
        req("currency", "C3"),
        opt("note", "C..1000"),
    ),
)

ORDER_LIST = Node(
    "OrderList",
    "电子订单商品 / export order line",
    (
        req("gnum", "N5"),
        req("itemNo", "C..30"),
        req("itemName", "C..250"),
        opt("itemDescribe", "C..1000"),
        opt("barCode", "C..50"),
        req("unit", "C3"),
        req("currency", "C3"),
        req("qty", MONEY),
        req("price", MONEY),
        req("totalPrice", MONEY),
        opt("note", "C..1000"),
    ),
)

RECEIPTS = Node(
    "Receipts",
    "收款单 / export receipt of payment (CEB403)",
    (
        *_submission("1"),
        req("ebpCode", "C..18"),
        req("ebpName", "C..100"),
        req("ebcCode", "C..18"),
        req("ebcName", "C..100"),
        req("orderNo", "C..60"),
        opt("payCode", "C..18"),
        req("payName", "C..100"),
        opt("payNo", "C..60"),
        req("charge", MONEY),
        req("currency", "C3"),
        req("accountingDate", "Time14"),
        opt("note", "C..1000"),
    ),
)

LOGISTICS = Node(
    "Logistics",
    "物流运单 / export waybill (CEB505)",
    (
        *_submission("2"),
        req("logisticsCode", "C..18"),
        req("logisticsName", "C..100"),
        req("logisticsNo", "C..32"),
        req("freight", MONEY),
        req("insuredFee", MONEY),
        req("currency", "C3"),
        req("grossWeight", MONEY),
        req("packNo", "N9"),
        req("goodsInfo", "C..200-collapse"),
        opt("ebcCode", "C..18"),
        opt("ebcName", "C..100"),
        opt("ebcTelephone", "C..50"),
        opt("note", "C..1000"),
    ),
)

INVENTORY_HEAD = Node(
    "InventoryHead",
    "出口清单表头 / export inventory head (CEB603)",
    (
        *_submission(None),
        req("customsCode", "C4"),
        req("ebpCode", "C..18"),
        req("ebpName", "C..100"),
        req("orderNo", "C..60"),
        req("logisticsCode", "C..18"),
        req("logisticsName", "C..100"),
        req("logisticsNo", "C..32"),
        req("copNo", "C..30"),
        opt("preNo", "C18"),
        opt("invtNo", "C..20"),
        req("ieFlag", "C1"),
        req("portCode", "C4"),
        req("ieDate", "Date8"),
        req("statisticsFlag", "C1"),
        req("agentCode", "C..18"),
        req("agentName", "C..100"),
        req("ebcCode", "C..18"),
        req("ebcName", "C..100"),
        req("ownerCode", "C..18"),
        req("ownerName", "C..100"),
        opt("iacCode", "C..18"),
        opt("iacName", "C..100"),
        opt("emsNo", "C..30"),
        req("tradeMode", "C4"),
        req("trafMode", "C1-collapse"),
        opt("trafName", "C..100"),
        opt("voyageNo", "C..32"),
        opt("billNo", "C..37"),
        opt("totalPackageNo", "C..37"),
        opt("loctNo", "C..10"),
        opt("licenseNo", "C..19"),
        req("country", "C3"),
        req("POD", "C3..4-collapse"),
        req("freight", MONEY),
        req("fCurrency", "C3"),
        req("fFlag", "C1", fixed="3"),
        req("insuredFee", MONEY),
        req("iCurrency", "C3"),
        req("iFlag", "C1", fixed="3"),
        req("wrapType", "C1-collapse"),
        req("packNo", "N9"),
        req("grossWeight", MONEY),
        req("netWeight", MONEY),
        opt("note", "C..1000"),
    ),
)

INVENTORY_LIST = Node(
    "InventoryList",
    "出口清单表体 / export inventory line",
    (
        req("gnum", "N5"),
        req("itemNo", "C..20"),
        opt("itemRecordNo", "C..30"),
        opt("itemName", "C..250"),
        req("gcode", "C10"),
        req("gname", "C..250"),
        req("gmodel", "C..250-collapse"),
        req("barCode", "C..50-collapse"),
        req("country", "C3"),
        req("currency", "C3"),
        req("qty", MONEY),
        req("qty1", MONEY),
        opt("qty2", MONEY),
        req("unit", "C3"),
        req("unit1", "C3"),
        opt("unit2", "C..3"),
        req("price", MONEY),
        req("totalPrice", MONEY),
        opt("note", "C..1000"),
    ),
)

NODES: dict[str, Node] = {
    node.name: node
    for node in (ORDER_HEAD, ORDER_LIST, RECEIPTS, LOGISTICS, INVENTORY_HEAD, INVENTORY_LIST)
}
