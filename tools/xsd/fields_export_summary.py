"""Field tables of the export summary declaration (汇总申报, CEB spec 202205 §2.21, §2.23): the
declarant's summary application (汇总申请单, CEB701) and customs' summary result (汇总结果单,
CEB792), one per customs declaration (报关单) the summary forms.

Order, type and length follow the official 202205 export structure. It spells the follow-up
broker ``declAgentCode`` where the spec's tables say ``declagAgentCode``; the structure wins.
"""

from __future__ import annotations

from fields_export_after import SPLIT
from model import Node, opt, req

_WEIGHT = "N19,5"
# The declarant, the consignor and the broker of the follow-up 报关单, in both heads.
_PARTIES = (
    req("agentCode", "C..18"),
    req("agentName", "C..100"),
    req("ebcCode", "C..18"),
    req("ebcName", "C..100"),
    req("declAgentCode", "C..18"),
    req("declAgentName", "C..100"),
)

SUMMARY_APPLY_HEAD = Node(
    "SummaryApplyHead",
    "汇总申请单表头 / the 清单 to summarise into 报关单 (CEB701, §2.21.4 pp. 55-56)",
    (
        req("guid", "Guid"),
        req("appType", "C1"),
        req("appTime", "Time14"),
        req("appStatus", "C1", default="2"),  # the structure's default (the spec gives none)
        req("customsCode", "C4"),
        req("copNo", "C..30"),
        opt("preNo", "C..18"),
        opt("sumNo", "C..18"),
        *_PARTIES,
        opt("startTime", "Time14"),
        opt("endTime", "Time14"),
        opt("loctNo", "C..10"),
        req("summaryFlag", "C1"),
        req("itemNameFlag", "C1"),
        *SPLIT,
    ),
)

SUMMARY_APPLY_LIST = Node(
    "SummaryApplyList",
    "汇总申请单表体 / one 清单 to summarise (§2.21.4 p. 56)",
    (req("invtNo", "C..20"),),
)

SUMMARY_RESULT_HEAD = Node(
    "SummaryResultHead",
    "汇总结果单表头 / one 报关单 the summary formed (CEB792, §2.23.4 pp. 60-61)",
    (
        req("guid", "Guid"),
        req("customsCode", "C4"),
        req("sumNo", "C18"),
        req("opDate", "Time17"),
        req("declSeqNo", "C18"),
        opt("decTmpNo", "C18"),
        opt("decPreNo", "C18"),
        opt("entryId", "C18"),
        req("decState", "C1..3"),
        *_PARTIES,
        req("grossWeight", _WEIGHT),
        req("netWeight", _WEIGHT),
        *SPLIT,
    ),
)

SUMMARY_RESULT_LIST = Node(
    "SummaryResultList",
    "汇总结果单表体 / one 清单 line and the 报关单 item it went into (§2.23.4 p. 61)",
    (
        req("invtNo", "C..20"),
        req("logisticsNo", "C..32"),
        req("gseqno", "N5"),
        req("gnum", "N5"),
        req("gcode", "C10"),
    ),
)

NODES: dict[str, Node] = {
    node.name: node
    for node in (SUMMARY_APPLY_HEAD, SUMMARY_APPLY_LIST, SUMMARY_RESULT_HEAD, SUMMARY_RESULT_LIST)
}
