"""Field tables of the export messages after the 清单 (CEB spec 202205 §2.7-2.10, §2.13, §2.15):
the supervised site's arrival record (运抵单), the carrier's departure record (离境单), the
cancellation of a 清单 (撤销申请单) and the master-and-sub waybill list (清单总分单).

Order, type and length follow the official 202205 export structure, as in ``fields_export``
(most texts may be empty there: ``C..n``; transport codes collapse spaces first).
"""

from __future__ import annotations

from model import Field, Node, opt, req


def _head_start(app_status_default: str | None) -> tuple[Field, ...]:
    """The fields both heads start with (§2.7.4 p. 18, §2.9.4 p. 23); the arrival's appStatus
    defaults to 1 ("默认为 1", p. 18), the departure's has no default."""
    return (
        req("guid", "Guid"),
        req("appType", "C1"),
        req("appTime", "Time14"),
        req("appStatus", "C1", default=app_status_default),
        req("customsCode", "C4"),
        req("copNo", "C..30"),
        opt("preNo", "C18"),
    )


# A record split over several messages (msgCount, msgSeqNo), then its note: how the heads of
# the movement records, the master waybill and the summary messages end.
SPLIT = (req("msgCount", "N9"), req("msgSeqNo", "N9"), opt("note", "C..1000"))

ARRIVAL_HEAD = Node(
    "ArrivalHead",
    "运抵单表头 / the goods' arrival at the supervised site (CEB507, §2.7.4 p. 18)",
    (
        *_head_start("1"),
        req("operatorCode", "C..18"),
        req("operatorName", "C..100"),
        opt("loctNo", "C..10"),
        req("ieFlag", "C1"),
        req("trafMode", "C1-collapse"),
        opt("billNo", "C..37"),
        req("domesticTrafNo", "C..100-collapse"),
        req("logisticsCode", "C..18"),
        req("logisticsName", "C..100"),
        *SPLIT,
    ),
)

ARRIVAL_LIST = Node(
    "ArrivalList",
    "运抵单表体 / one waybill arrived (§2.7.4 p. 19)",
    (
        req("gnum", "N5"),
        req("logisticsNo", "C..32"),
        opt("totalPackageNo", "C..37"),
        opt("note", "C..1000"),
    ),
)

DEPARTURE_HEAD = Node(
    "DepartureHead",
    "离境单表头 / the goods' departure from China (CEB509, §2.9.4 p. 23)",
    (
        *_head_start(None),
        req("logisticsCode", "C..18"),
        req("logisticsName", "C..100"),
        req("trafMode", "C1-collapse"),
        opt("trafName", "C..100"),
        opt("voyageNo", "C..32"),
        opt("billNo", "C..37"),
        req("leaveTime", "Time14"),
        *SPLIT,
    ),
)

DEPARTURE_LIST = Node(
    "DepartureList",
    "离境单表体 / one waybill departed (§2.9.4 p. 24)",
    (
        req("gnum", "N5"),
        opt("totalPackageNo", "C..37"),
        req("logisticsNo", "C..32"),
        opt("note", "C..1000"),
    ),
)

INVT_CANCEL = Node(
    "InvtCancel",
    "撤销申请单 / cancellation of an export 清单 (CEB605, §2.13.4 p. 35)",
    (
        *_head_start(None),
        req("invtNo", "C..20"),
        req("reason", "C..1000-collapse"),
        req("agentCode", "C..18"),
        req("agentName", "C..100"),  # "agengName" in the spec's table, a typo of the structure's
        req("ebcCode", "C..18"),
        req("ebcName", "C..100"),
        opt("note", "C..1000"),
    ),
)

WAY_BILL_HEAD = Node(
    "WayBillHead",
    "清单总分单表头 / master waybill binding 清单 to a vehicle or flight (CEB607, §2.15.4 p. 39)",
    (
        *_head_start(None),
        req("agentCode", "C..18"),
        req("agentName", "C..100"),
        opt("loctNo", "C..10"),
        req("trafMode", "C1-collapse"),
        req("trafName", "C..100-collapse"),
        req("voyageNo", "C..32-collapse"),
        req("billNo", "C..37"),
        opt("domesticTrafNo", "C..100"),
        req("grossWeight", "N19,5"),
        req("logisticsCode", "C..18"),
        req("logisticsName", "C..100"),
        *SPLIT,
    ),
)

WAY_BILL_LIST = Node(
    "WayBillList",
    "清单总分单表体 / one parcel under the master waybill (§2.15.4 p. 40)",
    (
        req("gnum", "N5"),
        opt("totalPackageNo", "C..60"),
        req("logisticsNo", "C..32"),
        opt("invtNo", "C..20"),
        opt("note", "C..1000"),
    ),
)

NODES: dict[str, Node] = {
    node.name: node
    for node in (
        ARRIVAL_HEAD,
        ARRIVAL_LIST,
        DEPARTURE_HEAD,
        DEPARTURE_LIST,
        INVT_CANCEL,
        WAY_BILL_HEAD,
        WAY_BILL_LIST,
    )
}
