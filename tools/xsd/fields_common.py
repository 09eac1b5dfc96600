"""Field tables shared by every regime: the envelope parts and the receipts (回执).

Transcribed from the CEB spec 202205 (envelope: root, BaseTransfer, e.g. §3.1.2-3.1.4 pp. 61-65;
receipts: the §2.x.4 and §3.x.4 receipt tables), checked against
the official 202205 structure. Import receipts demand non-empty keys (``C1..n``); the export
ones mostly do not (``C..n``) — a difference of the official structure that we keep.
"""

from __future__ import annotations

from model import Node, opt, req

XML_ELEMENT = "XMLElement"  # the free-XML content type of ExtendMessage/Message


def _base_transfer(name: str, cop_code: str, direction: str) -> Node:
    return Node(
        name,
        f"基础报文传输实体 / who transmits the message ({direction}: copCode {cop_code})",
        (
            req("copCode", cop_code),
            req("copName", "C..100"),
            req("dxpMode", "C3"),
            req("dxpId", "C..30"),
            opt("note", "C..1000"),
        ),
    )


IMPORT_BASE_TRANSFER = _base_transfer("ImportBaseTransferType", "C1..18", "import")
EXPORT_BASE_TRANSFER = _base_transfer("ExportBaseTransferType", "C..18", "export")

BASE_SUBSCRIBE = Node(
    "BaseSubscribeType",
    "基础回执订阅实体 / a third party subscribing to the data or receipts",
    (
        req("status", "C..100"),
        req("dxpMode", "C3"),
        req("dxpAddress", "C..100"),
        opt("note", "C..1000"),
    ),
)

EXTEND_MESSAGE = Node(
    "ExtendMessageType",
    "扩展自定义数据实体 / custom extension data",
    (req("name", "C..30"), req("version", "C..30"), req("Message", XML_ELEMENT)),
)


def _receipt(name: str, doc: str, *keys_and_tail: tuple[str, str, bool]) -> Node:
    fields = [req("guid", "Guid")]
    fields += [
        req(key, notation) if required else opt(key, notation)
        for key, notation, required in keys_and_tail
    ]
    return Node(name, doc, tuple(fields))


_R, _O = True, False
_IMPORT_TAIL = (("returnStatus", "C1..10", _R), ("returnTime", "Time17", _R))
_EXPORT_TAIL = (*_IMPORT_TAIL, ("returnInfo", "C..1000", _R))
_IMPORT_INFO = (("returnInfo", "C1..1000", _R),)
_RETURNS_TAIL = (("returnStatus", "C..10", _R), ("returnTime", "Time17", _R), _EXPORT_TAIL[-1])

RECEIPTS: tuple[Node, ...] = (
    _receipt(
        "ImportOrderReturnType",
        "订单回执 / import order receipt (CEB312)",
        ("ebpCode", "C1..18", _R),
        ("ebcCode", "C1..18", _R),
        ("orderNo", "C1..60", _R),
        *_IMPORT_TAIL,
        *_IMPORT_INFO,
    ),
    _receipt(
        "ImportPaymentReturnType",
        "支付单回执 / import payment receipt (CEB412)",
        ("payCode", "C1..18", _R),
        ("payTransactionId", "C1..60", _R),
        *_IMPORT_TAIL,
        *_IMPORT_INFO,
    ),
    _receipt(
        "ImportLogisticsReturnType",
        "运单回执 / import waybill receipt (CEB512)",
        ("logisticsCode", "C1..18", _R),
        ("logisticsNo", "C1..60", _R),
        *_IMPORT_TAIL,
        *_IMPORT_INFO,
    ),
    _receipt(
        "ImportInventoryReturnType",
        "清单回执 / import inventory receipt (CEB622)",
        ("customsCode", "C4", _O),
        ("ebpCode", "C1..18", _O),
        ("ebcCode", "C1..18", _O),
        ("agentCode", "C1..18", _O),
        ("copNo", "C1..20", _R),
        ("preNo", "C18", _R),
        ("invtNo", "C18", _O),
        *_IMPORT_TAIL,
        *_IMPORT_INFO,
    ),
    _receipt(
        "ImportLogisticsStatusReturnType",
        "运单状态回执 / waybill status receipt (CEB514)",
        ("logisticsCode", "C1..18", _R),
        ("logisticsNo", "C1..60", _R),
        ("logisticsStatus", "C1", _R),
        *_IMPORT_TAIL,
        *_IMPORT_INFO,
    ),
    *(
        _receipt(
            name,
            doc,
            ("customsCode", "C4", _O),
            ("agentCode", "C1..18", _O),
            ("ebpCode", "C1..18", _O),
            ("ebcCode", "C1..18", _O),
            ("copNo", "C1..20", _R),
            ("preNo", "C18", _R),
            ("invtNo", "C18", _O),
            *_IMPORT_TAIL,
            *_IMPORT_INFO,
        )
        for name, doc in (
            ("ImportInvtCancelReturnType", "撤销申请单回执 / cancellation receipt (CEB624)"),
            ("ImportInvtRefundReturnType", "退货申请单回执 / return receipt (CEB626)"),
        )
    ),
    _receipt(
        "ImportDeliveryReturnType",
        "入库明细单回执 / site entry receipt (CEB712)",
        ("customsCode", "C4", _O),
        ("operatorCode", "C1..18", _O),
        ("copNo", "C..20", _O),
        ("preNo", "C..18", _O),
        ("rkdNo", "C..18", _O),
        *_IMPORT_TAIL,
        *_IMPORT_INFO,
    ),
    Node(
        "ImportMessageReturnType",
        "报文格式校验回执 / format-check receipt (CEB900, §3.19.4 p. 105)",
        (
            req("guid", "Guid"),
            req("returnStatus", "C1..10"),
            req("returnInfo", "C..5000"),
            req("returnTime", "Time17"),
            req("oriCopMsgId", "C..255"),
            req("oriMessageType", "C..15"),
            req("oriBizMessage", "Text"),
        ),
    ),
    _receipt(
        "ExportOrderReturnType",
        "订单回执 / export order receipt (CEB304)",
        ("ebpCode", "C..18", _R),
        ("ebcCode", "C..18", _R),
        ("orderNo", "C..60", _R),
        *_EXPORT_TAIL,
    ),
    _receipt(
        "ExportReceiptsReturnType",
        "收款单回执 / export receipt-of-payment receipt (CEB404)",
        ("ebcCode", "C..18", _R),
        ("orderNo", "C..60", _R),
        ("payNo", "C..60", _O),
        *_EXPORT_TAIL,
    ),
    _receipt(
        "ExportLogisticsReturnType",
        "运单回执 / export waybill receipt (CEB506)",
        ("logisticsCode", "C..18", _R),
        ("logisticsNo", "C..32", _R),
        *_EXPORT_TAIL,
    ),
    _receipt(
        "ExportInventoryReturnType",
        "清单回执 / export inventory receipt (CEB604)",
        ("agentCode", "C..18", _R),
        ("copNo", "C..30", _R),
        ("preNo", "C18", _R),
        ("invtNo", "C..20", _R),
        ("ebcCode", "C..18", _R),
        ("ebpCode", "C..18", _R),
        ("orderNo", "C..60", _R),
        ("statisticsFlag", "C1", _R),
        *_EXPORT_TAIL,
    ),
    _receipt(
        "ExportArrivalReturnType",
        "运抵单回执 / arrival receipt (CEB508, §2.8.4 p. 21)",
        ("operatorCode", "C..18", _R),
        ("logisticsCode", "C..18", _R),
        ("preNo", "C18", _R),
        ("copNo", "C..30", _R),
        ("billNo", "C..37", _R),
        ("msgSeqNo", "N9", _R),
        *_EXPORT_TAIL,
    ),
    _receipt(
        "ExportDepartureReturnType",
        "离境单回执 / departure receipt (CEB510, §2.10.4 p. 26)",
        ("logisticsCode", "C..18", _R),
        ("copNo", "C..30", _R),
        ("preNo", "C18", _R),
        ("msgSeqNo", "N9", _R),
        *_EXPORT_TAIL,
    ),
    _receipt(
        "ExportInvtCancelReturnType",
        "撤销申请单回执 / cancellation receipt (CEB606, §2.14.4 p. 37)",
        ("agentCode", "C..18", _R),
        ("copNo", "C..30", _R),
        ("preNo", "C18", _R),
        ("invtNo", "C..20", _R),
        *_EXPORT_TAIL,
    ),
    _receipt(
        "ExportWayBillReturnType",
        "清单总分单回执 / master waybill receipt (CEB608, §2.16.4 p. 42)",
        ("agentCode", "C..18", _R),
        ("logisticsCode", "C..18", _R),
        ("copNo", "C..30", _R),
        ("preNo", "C18", _R),
        ("billNo", "C..37", _R),
        ("msgSeqNo", "N9", _R),
        *_EXPORT_TAIL,
    ),
    # The returns' receipts allow an empty returnStatus (C..10), unlike the others (C1..10).
    _receipt(
        "ExportRefundReturnType",
        "退货申请单回执 / return application receipt (CEB214, §2.18.4 p. 48)",
        ("ebpCode", "C..18", _O),
        ("ebcCode", "C..18", _O),
        ("agentCode", "C..18", _R),
        ("coElNo", "C..30", _R),
        ("preNo", "C..18", _O),
        ("invtNo", "C..20", _R),
        *_RETURNS_TAIL,
    ),
    _receipt(
        "ExportInvtRefundDetailReturnType",
        "退货理货明细单回执 / return tally receipt (CEB216, §2.20.4 p. 53)",
        ("operatorCode", "C..18", _R),
        ("logisticsCode", "C..18", _R),
        ("logisticsNo", "C..80", _R),
        ("coElNo", "C..30", _R),
        ("preNo", "C..18", _O),
        *_RETURNS_TAIL,
    ),
    _receipt(
        "ExportSummaryReturnType",
        "汇总申请单回执 / summary application receipt (CEB702, §2.22.4 p. 58)",
        ("agentCode", "C..18", _R),
        ("ebcCode", "C..18", _R),
        ("copNo", "C..30", _R),
        ("preNo", "C18", _R),
        ("sumNo", "C18", _O),
        ("msgSeqNo", "N9", _R),
        *_EXPORT_TAIL,
    ),
)

ENVELOPE: tuple[Node, ...] = (
    IMPORT_BASE_TRANSFER,
    EXPORT_BASE_TRANSFER,
    BASE_SUBSCRIBE,
    EXTEND_MESSAGE,
)
