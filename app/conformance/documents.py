"""What the conformance runner reads of a case's documents, as bytes: root, kind, sender,
appType, and the changes it makes before sending one (a fresh guid, customs' invtNo)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from lxml import etree

from declarations import BY_ROOT, CEB_NS, Kind, parse_xml

NamedFile = tuple[str, bytes]
_C = "{" + CEB_NS + "}"

# The messages that follow a 清单 (CEB spec 202205 §3.7-3.15, §2.7-2.19): not part of its set,
# sent after it by the conformance step ``follow``.
FOLLOW_UPS = frozenset(
    {
        Kind.CANCELLATION,
        Kind.REFUND,
        Kind.WAYBILL_STATUS,
        Kind.SITE_ENTRY,
        Kind.ARRIVAL,
        Kind.DEPARTURE,
        Kind.MASTER_WAYBILL,
        Kind.RETURN_TALLY,
        Kind.SUMMARY,
    }
)


def _root(data: bytes) -> etree._Element | None:
    """The message's root, read with the hardened parser (None: it cannot be read)."""
    return parse_xml(data, source="<case document>").root


def root_name(data: bytes) -> str:
    root = _root(data)
    return etree.QName(root).localname if root is not None else "?"


def kind_of(data: bytes) -> Kind | None:
    message = BY_ROOT.get(root_name(data))
    return message.kind if message else None


def is_follow_up(data: bytes) -> bool:
    return kind_of(data) in FOLLOW_UPS


def cop_code(data: bytes) -> str | None:
    root = _root(data)
    if root is None:
        return None
    node = next(root.iter(_C + "copCode"), None)
    return node.text.strip() if node is not None and node.text else None


def app_type_of(data: bytes) -> str:
    """The first ``appType`` in a message ("1" when absent or unreadable: it is then a new
    document as far as the case is concerned, and the validation says what is wrong)."""
    root = _root(data)
    if root is None:
        return "1"
    node = next(root.iter(_C + "appType"), None)
    return (node.text or "1").strip() if node is not None else "1"


def fresh_guid(data: bytes) -> bytes:
    root = _root(data)
    assert root is not None  # only a message the service answered is sent again
    guid = str(uuid.uuid4()).upper()
    root.set("guid", guid)
    for node in root.iter(_C + "guid"):
        node.text = guid
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def with_invt_no(data: bytes, invt_no: str) -> bytes:
    """The message naming the 清单 by the invtNo customs gave it (the folder's is a sample's)."""
    root = _root(data)
    found = list(root.iter(_C + "invtNo")) if root is not None else []
    if root is None or not found:
        return data
    for node in found:
        node.text = invt_no
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def of_message(files: Sequence[NamedFile], code: str | None, app_type: str) -> bytes | None:
    for _, data in files:
        if root_name(data) == f"{code}Message" and app_type_of(data) == app_type:
            return data
    return None
