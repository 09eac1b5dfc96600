"""Field tables of the export returns, the 2022 additions (CEB spec 202205 §2.17, §2.19): the
return application (退货申请单, CEB213) and the site's tally of the returned parcel (退货理货明细单,
CEB215).

Order, type and length follow the official 202205 export structure, which is looser than the
spec's tables in three places: ``tradeMode`` may be absent there (the spec: required, 9661 or
1261), ``reason`` and ``note`` hold 500 characters (the spec: 1000), and ``invtNo`` has no
minimum length. The schema keeps the structure's limits; the business rules check what the
spec adds (``declarations/rules``).
"""

from __future__ import annotations

from model import Node, opt, req

_MONEY = "N19,5"

_SUBMISSION = (
    req("guid", "Guid"),
    req("appType", "C1"),
    req("appTime", "Time14"),
    req("appStatus", "C1"),
    req("customsCode", "C4"),
)

INVT_REFUND_HEAD = Node(
    "InvtRefundHead",
    "退货申请单表头 / return of exported parcels (CEB213, §2.17.4 pp. 44-45)",
    (
        *_SUBMISSION,
        opt("loctNo", "C..10"),
        req("ebpCode", "C..18"),
        req("ebpName", "C..100"),
        req("ebcCode", "C..18"),
        req("ebcName", "C..100"),
        req("logisticsNo", "C..80"),
        req("logisticsCode", "C..18"),
        req("logisticsName", "C..100"),
        req("coElNo", "C..30"),
        opt("preNo", "C..18"),
        req("invtNo", "C..20"),
        opt("tradeMode", "C4"),
        req("agentCode", "C..18"),
        req("agentName", "C..100"),
        req("billNo", "C..37"),
        req("ieFlag", "C..1"),
        req("trafMode", "C..1"),
        req("trafName", "C..100"),
        req("portCode", "C..4"),
        req("reason", "C..500"),
        req("country", "C..3"),
        req("voyageNo", "C..32"),
        opt("note", "C..500"),
    ),
)

INVT_REFUND_LIST = Node(
    "InvtRefundList",
    "退货申请单表体 / one returned line of the original 清单 (§2.17.4 pp. 45-46)",
    (
        req("gnum", "N4"),
        req("gcode", "C..10"),
        req("gname", "C..250"),
        req("gmodel", "C..250"),
        req("qty", _MONEY),
        req("qty1", _MONEY),
        req("unit", "C3"),
        req("unit1", "C3"),
        opt("qty2", _MONEY),
        opt("unit2", "C3"),
        opt("note", "C..500"),
    ),
)

INVT_REFUND_DETAIL = Node(
    "InvtRefundDetail",
    "退货理货明细单 / the site's tally of a returned parcel (CEB215, §2.19.4 pp. 50-51)",
    (
        *_SUBMISSION,
        req("operatorCode", "C..18"),
        req("operatorName", "C..100"),
        req("logisticsCode", "C..18"),
        req("logisticsName", "C..100"),
        req("logisticsNo", "C..80"),
        opt("invtNo", "C..20"),
        req("coElNo", "C..20"),
        opt("preNo", "C..18"),
        req("billNo", "C..37"),
        req("ieFlag", "C1"),
        req("trafMode", "C1"),
        req("trafName", "C..100"),
        req("voyageNo", "C..32"),
        opt("location", "C..250"),
        opt("note", "C..250"),
    ),
)

NODES: dict[str, Node] = {
    node.name: node for node in (INVT_REFUND_HEAD, INVT_REFUND_LIST, INVT_REFUND_DETAIL)
}
