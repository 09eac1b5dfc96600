"""Receipt messages (回执) as customs would send them: CEB312/412/512/622 (and, after the 清单,
CEB514/624/626/712) and CEB304/404/506/604.

A receipt node carries the business keys of the document it answers, ``returnStatus``,
``returnTime`` (yyyyMMddHHmmssSSS) and ``returnInfo`` (e.g. CEB spec 202205 §3.10.4 p. 86). The
field order of each node below is the order of the 202205 structure; optional keys are left
out when unknown.

Each receipt is written in the form of the official 202205 sample of its type, which clients
written against the real E-Port parse: the import receipts in the default namespace under
``<?xml version="1.0" encoding="UTF-8" standalone="yes"?>``, the export receipts with the
``ceb:`` prefix under ``<?xml version="1.0" encoding="UTF-8"?>``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from lxml import etree

from declarations.messages import BY_CODE, CEB_NS, Direction, MessageType

_STATUS_AND_TIME = ("returnStatus", "returnTime", "returnInfo")

# The form of the official samples' receipts: (namespace map, XML declaration). The import ones
# use the default namespace (lxml's prefix None, which its type stubs lack), under a declaration
# with standalone="yes" except the receipts of the messages after the 清单; the export ones the
# ceb: prefix.
_DEFAULT_NS = cast(dict[str, str], {None: CEB_NS})
_PLAIN = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_FORM: dict[Direction, tuple[dict[str, str], bytes]] = {
    Direction.IMPORT: (
        _DEFAULT_NS,
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
    ),
    Direction.EXPORT: ({"ceb": CEB_NS}, _PLAIN),
}
_FORM_OF_CODE = {code: (_DEFAULT_NS, _PLAIN) for code in ("CEB514", "CEB624", "CEB626", "CEB712")}
_FORM_OF_CODE["CEB216"] = _FORM[Direction.IMPORT]  # its sample: default namespace, standalone

# The key fields of each receipt node, in the 202205 order; "?" marks an optional one, "!" one
# that is required but may be empty (CEB508's billNo: a mail arrival names no bill, §2.7.4 p. 18).
_NODE_KEYS: dict[str, str] = {
    "CEB312": "guid ebpCode ebcCode orderNo",
    "CEB412": "guid payCode payTransactionId",
    "CEB512": "guid logisticsCode logisticsNo",
    "CEB622": "guid customsCode? ebpCode? ebcCode? agentCode? copNo preNo invtNo?",
    # after the 清单 (§3.8.4 p. 79, §3.12.4 p. 90, §3.14.4 p. 96, §3.16.4 p. 101)
    "CEB514": "guid logisticsCode logisticsNo logisticsStatus",
    "CEB624": "guid customsCode? agentCode? ebpCode? ebcCode? copNo preNo invtNo?",
    "CEB626": "guid customsCode? agentCode? ebpCode? ebcCode? copNo preNo invtNo?",
    "CEB712": "guid customsCode? operatorCode? copNo? preNo? rkdNo?",
    "CEB304": "guid ebpCode ebcCode orderNo",
    "CEB404": "guid ebcCode orderNo payNo?",
    "CEB506": "guid logisticsCode logisticsNo",
    "CEB604": "guid agentCode copNo preNo invtNo ebcCode ebpCode orderNo statisticsFlag",
    # the goods' movement (§2.8.4 p. 21, §2.10.4 p. 26)
    "CEB508": "guid operatorCode logisticsCode preNo copNo billNo! msgSeqNo",
    "CEB510": "guid logisticsCode copNo preNo msgSeqNo",
    # after the export 清单 (§2.14.4 p. 37, §2.16.4 p. 42, §2.18.4 p. 48, §2.20.4 p. 53,
    # §2.22.4 p. 58)
    "CEB606": "guid agentCode copNo preNo invtNo",
    "CEB608": "guid agentCode logisticsCode copNo preNo billNo msgSeqNo",
    "CEB214": "guid ebpCode? ebcCode? agentCode coElNo preNo? invtNo",
    "CEB216": "guid operatorCode logisticsCode logisticsNo coElNo preNo?",
    "CEB702": "guid agentCode ebcCode copNo preNo sumNo? msgSeqNo",
}

RECEIPT_KEY_FIELDS: Mapping[str, tuple[str, ...]] = {
    code: tuple(name.rstrip("?!") for name in keys.split()) for code, keys in _NODE_KEYS.items()
}


def return_time(moment: datetime) -> str:
    """``returnTime``: yyyyMMddHHmmssSSS (17 characters)."""
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


@dataclass(frozen=True, slots=True)
class ReceiptEntry:
    """One receipt node: the answered document's keys, a status and its text."""

    keys: Mapping[str, str]  # must include "guid": the guid of the document answered
    status: int
    info: str
    time: datetime


def receipt_type(data_message_code: str) -> MessageType:
    """The receipt message that answers a data message, e.g. CEB621 -> CEB622."""
    receipt = BY_CODE[data_message_code].receipt
    if receipt is None:
        raise ValueError(f"{data_message_code} is not answered with a receipt")
    return BY_CODE[receipt]


def build_receipt(
    receipt_code: str, entries: Sequence[ReceiptEntry], *, guid: str | None = None
) -> bytes:
    """The receipt message as UTF-8 XML bytes; raises ValueError when a required key is missing."""
    if receipt_code not in _NODE_KEYS:
        raise ValueError(f"danchuang does not emit {receipt_code}")
    if not 1 <= len(entries) <= 100:
        raise ValueError("a receipt message holds 1 to 100 receipt nodes")
    message = BY_CODE[receipt_code]
    nsmap, declaration = _FORM_OF_CODE.get(receipt_code) or _FORM[message.direction]
    root = etree.Element(
        f"{{{CEB_NS}}}{message.root}",
        nsmap=nsmap,
        guid=guid or str(uuid.uuid4()).upper(),
        version="1.0",
    )
    for entry in entries:
        node = etree.SubElement(root, f"{{{CEB_NS}}}{message.record}")
        for field in _NODE_KEYS[receipt_code].split():
            name = field.rstrip("?!")
            value = entry.keys.get(name)
            if not value and field.endswith("!"):
                etree.SubElement(node, f"{{{CEB_NS}}}{name}").text = ""
                continue
            if not value:
                if not field.endswith("?"):
                    raise ValueError(f"{receipt_code} needs {name!r} in its receipt keys")
                continue
            etree.SubElement(node, f"{{{CEB_NS}}}{name}").text = value
        values = (str(entry.status), return_time(entry.time), entry.info or "-")
        for name, value in zip(_STATUS_AND_TIME, values, strict=True):
            etree.SubElement(node, f"{{{CEB_NS}}}{name}").text = value[:1000]
    return declaration + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def receipt_keys(
    data_message_code: str,
    document_guid: str,
    head: Mapping[str, str | None],
    assigned: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The keys of a receipt node answering one record of a data message.

    ``head`` holds the record's (or head's) fields as read from the document; ``assigned``
    holds the numbers customs gave it (preNo, invtNo, and copNo where the sender gave none),
    which win over the document's own values.
    """
    keys = {"guid": document_guid}
    for name in RECEIPT_KEY_FIELDS[receipt_type(data_message_code).code]:
        value = head.get(name)
        if value:
            keys[name] = value
    keys.update(assigned or {})
    return keys


# --- the format-check receipt (CEB900, CEB spec 202205 §3.19 pp. 104-106) -----------------

FORMAT_RECEIPT = "CEB900"
UNKNOWN_TYPE = "Unknown"  # oriMessageType of a message whose type cannot be told
# returnStatus of a format-check receipt: negative (§3.19.4 table 3-65 p. 105). The spec gives
# no values; danchuang numbers them after the platform's error codes (table 7-1 p. 112):
# 0001 报文格式错误 and 0002 数据包不能通过schema验证.
NOT_WELL_FORMED = -1
FAILS_SCHEMA = -2
# (Chinese, English) meaning of each, in the words of table 7-1.
FORMAT_STATUS_MEANINGS: Mapping[int, tuple[str, str]] = {
    NOT_WELL_FORMED: ("报文格式错误", "the message is not well-formed"),
    FAILS_SCHEMA: ("数据包不能通过schema验证", "the message fails the schema"),
    # A signature refused under the ``require`` mode (declarations.signature_check): the
    # exchange platform's security codes of table 7-1 (CEB spec 202205 §7 p. 112), negative.
    -1001: ("数字签名无效", "the signature is missing or invalid"),
    -1002: ("数字签名过期", "the signing certificate is expired"),
    -1004: ("签名与数据不符", "the message is not the one signed"),
    -1999: ("其他安全错误", "another security error (certificate unknown or another's)"),
}
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class FormatReceipt:
    """What a CEB900 says about one message that failed the format check."""

    status: int  # NOT_WELL_FORMED or FAILS_SCHEMA
    info: str
    time: datetime
    original: bytes  # the message as received (oriBizMessage)
    original_type: str  # its root, e.g. "CEB311Message", or UNKNOWN_TYPE
    original_guid: str  # the message's guid (as for every receipt node: the one it answers)
    original_cop_msg_id: str  # the transport message's CopMsgId; a bare message: its guid


def original_type(root_name: str | None) -> str:
    """``oriMessageType``: the root of a CEB message (``CEB311Message``), else ``Unknown``."""
    if root_name and re.fullmatch(r"CEB\d{3}Message", root_name):
        return root_name
    return UNKNOWN_TYPE


def build_format_receipt(receipt: FormatReceipt, *, guid: str | None = None) -> bytes:
    """The CEB900 message, in the form of the import receipts (it is defined with them, in the
    import structure): the original message in a CDATA section, as text."""
    guid = guid or str(uuid.uuid4()).upper()
    nsmap, declaration = _FORM[Direction.IMPORT]
    root = etree.Element(f"{{{CEB_NS}}}CEB900Message", nsmap=nsmap, guid=guid, version="1.0")
    node = etree.SubElement(root, f"{{{CEB_NS}}}MessageReturn")
    values = (
        ("guid", receipt.original_guid),
        ("returnStatus", str(receipt.status)),
        ("returnInfo", receipt.info[:5000] or "-"),
        ("returnTime", return_time(receipt.time)),
        ("oriCopMsgId", receipt.original_cop_msg_id[:255]),
        ("oriMessageType", receipt.original_type[:15]),
    )
    for name, value in values:
        etree.SubElement(node, f"{{{CEB_NS}}}{name}").text = value
    text = _XML_ILLEGAL.sub("\ufffd", receipt.original.decode("utf-8", errors="replace"))
    original = etree.SubElement(node, f"{{{CEB_NS}}}oriBizMessage")
    # CDATA as the spec shows it, unless the text closes a CDATA section itself: then plain
    # (escaped) text, which a parser reads back the same.
    original.text = etree.CDATA(text) if "]]>" not in text else text
    return declaration + etree.tostring(root, encoding="UTF-8", xml_declaration=False)
