"""A message of several records cut into the one-record messages it stands for.

Every CEB data message carries up to 100 records (``maxOccurs="100"`` on ``Order``,
``Payment``, ``Logistics``, ``Inventory``… in the official 202205 schemas, which the schemas of
``xsd/`` keep), each with its own head ``guid`` (系统唯一序号, e.g. CEB spec 202205 §3.1.4
table 3-3 p. 62), the guid its receipt node names (§3.2.4 table 3-7 p. 66). The live service
takes each record as the document it is (``app.services.batches``): the message as it would
be had the record been sent alone.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import cast

from lxml import etree

from declarations.document import Document, ceb

__all__ = ["RecordMessage", "record_messages"]


@dataclass(frozen=True, slots=True)
class RecordMessage:
    """One record of a message, cut out as a message of its own."""

    number: int  # its place in the message, from 1
    guid: str | None  # the record's own guid (its head's), None when it has none
    data: bytes  # the one-record message, UTF-8


def record_messages(document: Document) -> list[RecordMessage]:
    """Each record of ``document`` as a message of its own: the root with its attributes (its
    ``guid`` the record's, as in a one-record message, where the two agree), that record, and
    every other child of the root (``BaseTransfer``, ``BaseSubscribe``, ``ExtendMessage``, the
    signature) but the other records. The signature is the whole message's: it stays because
    the schema of some messages requires one (the 清单's), but it signs the whole message, not
    the part, and only the whole can be verified against it. The same message always gives the
    same bytes."""
    root = document.root
    record_tag = ceb(document.message.record)
    # lxml takes None for the default namespace's prefix; its stubs say str
    nsmap = cast("dict[str, str]", root.nsmap)
    cut: list[RecordMessage] = []
    for number, record in enumerate(document.records(), start=1):
        guid = record.head.text("guid")
        message = etree.Element(root.tag, nsmap=nsmap)
        for name, value in root.attrib.items():
            message.set(name, value)
        if guid is not None:
            message.set("guid", guid)
        for child in root:
            tag: object = child.tag  # (see document.TAG_NOTE)
            if tag == record_tag and child is not record.element:
                continue
            message.append(_copy(child))
        data = etree.tostring(message, encoding="UTF-8", xml_declaration=True)
        cut.append(RecordMessage(number, guid, data))
    return cut


def _copy(element: etree._Element) -> etree._Element:
    """A deep copy, leaving the message it came from as it is (lxml copies the subtree in C:
    the same bytes as serialising and parsing it again, in about half the time)."""
    return copy.deepcopy(element)
