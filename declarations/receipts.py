"""Receipt messages (回执) as customs would send them: CEB312/412/512/622 and CEB304/404/506/604.

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

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from declarations.messages import BY_CODE, CEB_NS, Direction, MessageType

_STATUS_AND_TIME = ("returnStatus", "returnTime", "returnInfo")

# The form of the official samples' receipts, by direction: (namespace prefix, XML declaration).
_FORM: dict[Direction, tuple[str | None, bytes]] = {
    Direction.IMPORT: (None, b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'),
    Direction.EXPORT: ("ceb", b'<?xml version="1.0" encoding="UTF-8"?>\n'),
}

# The key fields of each receipt node, in the 202205 order; "?" marks an optional one.
_NODE_KEYS: dict[str, str] = {
    "CEB312": "guid ebpCode ebcCode orderNo",
    "CEB412": "guid payCode payTransactionId",
    "CEB512": "guid logisticsCode logisticsNo",
    "CEB622": "guid customsCode? ebpCode? ebcCode? agentCode? copNo preNo invtNo?",
    "CEB304": "guid ebpCode ebcCode orderNo",
    "CEB404": "guid ebcCode orderNo payNo?",
    "CEB506": "guid logisticsCode logisticsNo",
    "CEB604": "guid agentCode copNo preNo invtNo ebcCode ebpCode orderNo statisticsFlag",
}

RECEIPT_KEY_FIELDS: Mapping[str, tuple[str, ...]] = {
    code: tuple(name.rstrip("?") for name in keys.split()) for code, keys in _NODE_KEYS.items()
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
    prefix, declaration = _FORM[message.direction]
    root = etree.Element(
        f"{{{CEB_NS}}}{message.root}",
        nsmap={prefix: CEB_NS},
        guid=guid or str(uuid.uuid4()).upper(),
        version="1.0",
    )
    for entry in entries:
        node = etree.SubElement(root, f"{{{CEB_NS}}}{message.record}")
        for field in _NODE_KEYS[receipt_code].split():
            name = field.rstrip("?")
            value = entry.keys.get(name)
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
