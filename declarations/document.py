"""A parsed, identified CEB document and plain access to its fields.

Rules read fields through ``Fields`` so that every finding can point at the element it is
about (XPath and line) without each rule re-implementing the lookup.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from lxml import etree

from declarations.messages import CEB_NS, Direction, MessageType, Regime

_CEB = "{" + CEB_NS + "}"


def ceb(name: str) -> str:
    """Clark name of an element in the CEB namespace."""
    return _CEB + name


def xpath_step(tag: str) -> str:
    """One step of a readable XPath: ``ceb:`` for the CEB namespace, ``ds:`` for any other."""
    if tag.startswith(_CEB):
        return "ceb:" + tag[len(_CEB) :]
    if tag[:1] == "{":
        return "ds:" + tag[tag.index("}") + 1 :]
    return tag


# TAG_NOTE: lxml gives the ``tag`` of a comment or processing instruction as a function, while
# lxml-stubs say ``str``. Code that may meet one reads the tag into a variable declared
# ``object`` and checks it, so that mypy does not take the stub's word.


def source_line(node: etree._Element) -> int | None:
    """The line an element starts on, where libxml2 knows it. (lxml-stubs leave ``sourceline``
    untyped; read as ``object``, it is checked rather than trusted.)"""
    line: object = node.sourceline
    return line if isinstance(line, int) else None


def decimal_value(text: str | None) -> Decimal | None:
    """A field's text as a Decimal; None when absent, not a number or not finite (the schema
    layer reports those). Decimal ignores surrounding whitespace and refuses a blank text, so a
    raw text converts exactly as its stripped form would."""
    if text is None:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def field_location(element: etree._Element, name: str | None) -> tuple[str, int | None]:
    """XPath and line of the field ``name`` of ``element``, or of ``element`` itself when the
    field is absent or not named."""
    node = element.find(_CEB + name) if name else None
    target = node if node is not None else element
    return readable_xpath(target), source_line(target)


def readable_xpath(element: etree._Element) -> str:
    """``/ceb:CEB311Message/ceb:Order[2]/ceb:OrderHead/ceb:orderNo``, indexed where ambiguous."""
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        tag: object = node.tag  # (see TAG_NOTE)
        if not isinstance(tag, str):
            tag = "node()"  # a comment or PI
        step = xpath_step(tag)
        parent = node.getparent()
        if parent is not None:
            # lxml's tag filter compares names in C: no tag string is built per sibling
            same = list(parent.iterchildren(tag))
            if len(same) > 1:
                step += f"[{same.index(node) + 1}]"
        steps.append(step)
        node = parent
    return "/" + "/".join(reversed(steps))


@dataclass(frozen=True, slots=True)
class Fields:
    """The child fields of one business element (a head, a line, or a flat record)."""

    element: etree._Element

    def child(self, name: str) -> etree._Element | None:
        return self.element.find(_CEB + name)

    def text(self, name: str) -> str | None:
        """The field's text, stripped; None when the field is absent or empty."""
        node = self.element.find(_CEB + name)
        if node is None or node.text is None:
            return None
        value = node.text.strip()
        return value or None

    def decimal(self, name: str) -> Decimal | None:
        """The field as a Decimal; None when absent or not a number (the schema layer says so)."""
        return decimal_value(self.text(name))

    def where(self, name: str | None = None) -> tuple[str, int | None]:
        """XPath and line of a field (or of this element when the field is absent)."""
        return field_location(self.element, name)


@dataclass(frozen=True, slots=True)
class Record:
    """One business node: an order with its lines, a payment, a waybill, an inventory..."""

    element: etree._Element
    head: Fields  # the head element, or the record itself where the node is flat
    lines: tuple[Fields, ...] = ()


@dataclass(slots=True)
class Document:
    """A document that parsed and whose message type is known."""

    source: str
    root: etree._Element
    message: MessageType
    direction: Direction
    regime: Regime | None = None
    raw_size: int = 0
    # True when the tree is known to hold no comments or processing instructions (``parse_xml``
    # drops them), so that nothing but fields stands among a record's children.
    comment_free: bool = False
    _records: list[Record] | None = field(default=None, repr=False)

    @property
    def guid(self) -> str | None:
        value = self.root.get("guid")
        return value.strip() if value else None

    def records(self) -> list[Record]:
        if self._records is None:
            self._records = list(self._iter_records())
        return self._records

    def _iter_records(self) -> Iterator[Record]:
        m = self.message
        for node in self.root.iterchildren(_CEB + m.record):
            if m.head is None:
                yield Record(node, Fields(node))
                continue
            head = node.find(_CEB + m.head)
            lines = tuple(Fields(e) for e in node.iterchildren(_CEB + m.lines)) if m.lines else ()
            yield Record(node, Fields(head if head is not None else node), lines)

    def base_transfer(self) -> Fields | None:
        node = self.root.find(_CEB + "BaseTransfer")
        return Fields(node) if node is not None else None
