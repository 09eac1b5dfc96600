"""Receipt status codes (returnStatus) of the CEB spec 202205: §3.10.4 p. 86, §2.12.4 p. 33.

Negative business codes (e.g. -621005) are carried by rules as ``RuleInfo.spec_code``.
"""

from __future__ import annotations

from enum import IntEnum


class ReturnStatus(IntEnum):
    STAGED = 1  # 电子口岸已暂存
    DECLARING = 2  # 电子口岸申报中
    SENT = 3  # 发送海关成功
    SEND_FAILED = 4  # 发送海关失败
    REJECTED = 100  # 海关退单
    ACCEPTED = 120  # 海关入库
    MANUAL_REVIEW = 300  # 人工审核
    DECIDED = 399  # 海关审结
    INSPECTION = 500  # 查验
    DETAINED_CLEARANCE = 501  # 扣留移送通关
    DETAINED_ANTI_SMUGGLING = 502  # 扣留移送缉私
    DETAINED_LEGAL = 503  # 扣留移送法规
    DETAINED_OTHER = 599  # 其它扣留
    RETURNED = 700  # 退运
    RELEASED = 800  # 放行
    CLOSED = 899  # 结关

    @property
    def meaning_zh(self) -> str:
        return _ZH[self]

    @property
    def meaning_en(self) -> str:
        return _EN[self]

    @property
    def is_final(self) -> bool:
        """No further receipt follows (for a declaration list)."""
        return self in FINAL


_ZH = {
    ReturnStatus.STAGED: "电子口岸已暂存",
    ReturnStatus.DECLARING: "电子口岸申报中",
    ReturnStatus.SENT: "发送海关成功",
    ReturnStatus.SEND_FAILED: "发送海关失败",
    ReturnStatus.REJECTED: "海关退单",
    ReturnStatus.ACCEPTED: "海关入库",
    ReturnStatus.MANUAL_REVIEW: "人工审核",
    ReturnStatus.DECIDED: "海关审结",
    ReturnStatus.INSPECTION: "查验",
    ReturnStatus.DETAINED_CLEARANCE: "扣留移送通关",
    ReturnStatus.DETAINED_ANTI_SMUGGLING: "扣留移送缉私",
    ReturnStatus.DETAINED_LEGAL: "扣留移送法规",
    ReturnStatus.DETAINED_OTHER: "其它扣留",
    ReturnStatus.RETURNED: "退运",
    ReturnStatus.RELEASED: "放行",
    ReturnStatus.CLOSED: "结关",
}
_EN = {
    ReturnStatus.STAGED: "staged at E-Port",
    ReturnStatus.DECLARING: "being declared via E-Port",
    ReturnStatus.SENT: "sent to customs",
    ReturnStatus.SEND_FAILED: "sending to customs failed",
    ReturnStatus.REJECTED: "rejected by customs",
    ReturnStatus.ACCEPTED: "accepted by customs",
    ReturnStatus.MANUAL_REVIEW: "manual review",
    ReturnStatus.DECIDED: "customs decision completed",
    ReturnStatus.INSPECTION: "inspection",
    ReturnStatus.DETAINED_CLEARANCE: "detained, transferred to the clearance department",
    ReturnStatus.DETAINED_ANTI_SMUGGLING: "detained, transferred to anti-smuggling",
    ReturnStatus.DETAINED_LEGAL: "detained, transferred to the legal department",
    ReturnStatus.DETAINED_OTHER: "other detention",
    ReturnStatus.RETURNED: "returned (shipped back)",
    ReturnStatus.RELEASED: "released",
    ReturnStatus.CLOSED: "closed (cleared)",
}

DETENTIONS = frozenset(
    {
        ReturnStatus.DETAINED_CLEARANCE,
        ReturnStatus.DETAINED_ANTI_SMUGGLING,
        ReturnStatus.DETAINED_LEGAL,
        ReturnStatus.DETAINED_OTHER,
    }
)
FINAL = frozenset({ReturnStatus.REJECTED, ReturnStatus.RETURNED, ReturnStatus.CLOSED}) | DETENTIONS
