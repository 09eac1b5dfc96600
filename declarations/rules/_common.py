"""What every rule module shares: the field view, amounts, and finding construction.

Rules run on every document the pipeline accepts, so they read each business element once and
only the fields they need (``Layout``, ``Node``); the reconciliation reuses what the rules read
(``read_units``, kept by the pipeline for the call), and only a finding, the rare case, pays for
the XPath and line lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache

from lxml import etree

from declarations.document import (
    Document,
    decimal_value,
    field_location,
    readable_xpath,
    source_line,
    xpath_step,
)
from declarations.findings import Finding, RuleInfo, Severity
from declarations.messages import BY_CODE, CEB_NS, Direction, MessageType, Regime
from declarations.quota import OrderKey, QuotaProvider, QuotaReadAhead
from declarations.rules.layouts import HEAD_FIELDS, LINE_FIELDS, NO_FIELDS, Layout
from declarations.rules.sequences import Positions, has_comments, positions

_CEB = "{" + CEB_NS + "}"
_PREFIX_LEN = len(_CEB)

CNY = "142"  # JGS-20 currency code of the renminbi

# Amounts are N19,5 (five decimals) but platforms keep money to the fen. Two amounts "agree" when
# they differ by less than one fen, so 3 x 3.33333 = 9.99999 agrees with a total of 10.00 while
# 100.00 against 100.01 does not.
FEN = Decimal("0.01")


def agree(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) < FEN


def money(value: Decimal | None) -> str:
    """An amount for a message: trailing zeros dropped, never in exponent form."""
    if value is None:
        return "(missing)"
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _not_listed(name: str) -> KeyError:
    return KeyError(f"rules do not read {name!r} here; list it in HEAD_FIELDS/LINE_FIELDS")


class Node:
    """The fields of one business element (a head, a line, or a flat record) that rules read.

    The listed fields are read once, into ``raw``: one plain dict of the fields' texts as the
    document has them, holding every listed name (None for a field that is absent or empty).
    ``text`` strips on use and ``decimal`` converts on use. Nothing else is kept per element:
    most fields are read once or never, and a second dict of converted numbers cost more to
    build than the rare second conversion it saved. Code comparing many fields may compare
    ``raw`` texts first (equal raw texts strip to equal texts) and look closer only when they
    differ; ``raw[name]`` of a field not listed raises KeyError, as ``text`` does.
    """

    __slots__ = ("element", "raw")

    def __init__(
        self, element: etree._Element, layout: Layout, positions: Positions | None = None
    ) -> None:
        self.element = element
        if positions is not None and len(element) == positions.count:
            # every child of the XSD's sequence is present: take the fields by position
            self.raw = {name: element[index].text for name, index in positions.fields}
            return
        # (no tags at all would mean "every child" to lxml)
        found = list(element.iterchildren(*layout.tags)) if layout.tags else []
        texts: dict[str, str | None]
        if len(found) == len(layout.order):  # every listed field, in XSD order
            texts = {name: child.text for name, child in zip(layout.order, found, strict=True)}
        else:  # some field is missing: the slow way, by tag; the first of a repeated one wins
            texts = dict.fromkeys(layout.order)
            for child in reversed(found):  # (backwards, so that the first one is kept)
                texts[child.tag[_PREFIX_LEN:]] = child.text
        self.raw = texts

    def reads(self, name: str) -> bool:
        """Whether this kind of element has (and rules read) the field."""
        return name in self.raw

    def text(self, name: str) -> str | None:
        """The field's stripped text; None when absent or empty."""
        try:
            value = self.raw[name]
        except KeyError:
            raise _not_listed(name) from None
        return (value.strip() or None) if value is not None else None

    def present(self, names: tuple[str, ...]) -> list[tuple[str, str]]:
        """(name, stripped text) of each of ``names`` that this element has, non-empty, and
        rules read: unlike ``text``, a field this kind of element lacks (e.g. the orderNo of an
        export waybill) is left out, not an error."""
        found = []
        texts = self.raw
        for name in names:
            value = texts.get(name)
            if value is not None:
                value = value.strip()
                if value:
                    found.append((name, value))
        return found

    def decimal(self, name: str) -> Decimal | None:
        """The field as a Decimal; None when absent or not a number (the schema says so)."""
        try:
            raw = self.raw[name]
        except KeyError:
            raise _not_listed(name) from None
        return decimal_value(raw)  # (the raw text converts as its stripped form would)

    def where(self, name: str | None = None) -> tuple[str, int | None]:
        """XPath and line of a field, or of this element when the field is absent: only a
        finding, the rare case, pays for the lookup."""
        return field_location(self.element, name)


@dataclass(slots=True)
class Unit:
    """One business record of a document, viewed for rules: its head and its lines."""

    doc: Document | StoredDocument
    head: Node
    lines: tuple[Node, ...]
    # Set by read_units when this is the document's only record and it has at most one head:
    # then the head's XPath follows from the tags alone (see ``_sole_head_xpath``).
    sole: bool = False

    def finding(
        self,
        rule: RuleInfo,
        node: Node,
        field: str | None,
        message_en: str,
        message_zh: str,
        *,
        severity: Severity | None = None,
    ) -> Finding:
        doc = self.doc
        if node is self.head and field is None and self.sole and isinstance(doc, Document):
            # a finding about the whole record, the usual one being a set's missing document
            xpath, line = self._sole_head_xpath(doc), source_line(node.element)
        else:
            xpath, line = node.where(field)
        return rule.finding(
            message_en,
            message_zh,
            xpath=xpath,
            line=line,
            field=field,
            source=self.doc.source,
            severity=severity,
        )

    def _sole_head_xpath(self, doc: Document) -> str:
        """What ``readable_xpath`` says of the head, without its walk over siblings: nothing
        is indexed when the record and its head are the only ones of their names."""
        root, element = doc.root, self.head.element
        root_tag: object = root.tag  # (see document.TAG_NOTE)
        if root.getparent() is not None or not isinstance(root_tag, str):
            return readable_xpath(element)  # not a whole document: ancestors to name too
        message = doc.message
        # (a flat record, or a head that is missing: the record itself)
        head = message.head if element.getparent() is not root else None
        return _record_xpath(root_tag, message.record, head)


@lru_cache(maxsize=256)  # bounded: identified documents have one of a few dozen root tags
def _record_xpath(root_tag: str, record: str, head: str | None) -> str:
    """``/ceb:CEB311Message/ceb:Order/ceb:OrderHead``: the same few strings for every set,
    so worked out once (a pure function of its arguments)."""
    path = f"/{xpath_step(root_tag)}/{xpath_step(_CEB + record)}"
    return f"{path}/{xpath_step(_CEB + head)}" if head else path


@dataclass(frozen=True, slots=True)
class _Reader:
    """How to read the records of one message type in one regime: worked out once."""

    record_tag: str
    head_tag: str | None  # None: a flat record, whose fields are its children
    lines_tag: str | None
    head: Layout
    lines: Layout
    head_at: Positions | None
    line_at: Positions | None


@cache
def _reader(code: str, regime: Regime | None, direction: Direction) -> _Reader:
    message = BY_CODE[code]
    head, lines = HEAD_FIELDS.get(code, NO_FIELDS), LINE_FIELDS.get(code, NO_FIELDS)
    head_at = line_at = None
    if regime is not None:
        head_at = positions(regime, direction, message.head or message.record, head.order)
        if message.lines:
            line_at = positions(regime, direction, message.lines, lines.order)
    return _Reader(
        _CEB + message.record,
        _CEB + message.head if message.head else None,
        _CEB + message.lines if message.lines else None,
        head,
        lines,
        head_at,
        line_at,
    )


def read_units(doc: Document) -> list[Unit]:
    """Each business record of a document (up to 100 per message) as a ``Unit``, its fields
    read once. The pipeline keeps the result in its per-document context, so that the rules and
    the reconciliation of one call share it; nothing is cached between calls."""
    reader = _reader(doc.message.code, doc.regime, doc.direction)
    head_at, line_at = reader.head_at, reader.line_at
    # Positions are only safe without comments among the fields (the pipeline's parser drops
    # them; a tree from elsewhere is looked at).
    if not doc.comment_free and has_comments(doc.root):
        head_at = line_at = None
    head_tag, lines_tag = reader.head_tag, reader.lines_tag
    # Walk the tree directly rather than through ``doc.records()``: rules need no Record objects
    # and building them costs as much as reading the fields.
    record_tag, found = reader.record_tag, []
    for record in doc.root:  # (cheaper than lxml's tag filter, whose set-up costs more here)
        kind: object = record.tag  # (see document.TAG_NOTE)
        if kind != record_tag:
            continue
        if head_tag is None:  # a flat record: its fields are its children
            found.append(Unit(doc, Node(record, reader.head, head_at), (), True))
            continue
        head, lines, heads = record, [], 0
        for child in record:  # a head and its lines: one pass over the record's children
            tag: object = child.tag
            if tag == lines_tag:
                lines.append(Node(child, reader.lines, line_at))
            elif tag == head_tag:
                heads += 1
                if head is record:
                    head = child
        found.append(Unit(doc, Node(head, reader.head, head_at), tuple(lines), heads <= 1))
    if len(found) != 1:
        for unit in found:
            unit.sole = False
    return found


@dataclass(slots=True)
class QuotaScope:
    """The annual quota a message's rules count against, beyond the document itself: the
    ledger (``quota``) and what earlier 清单 of the same message have added."""

    quota: QuotaProvider | None = None
    # CNY each buyer has declared earlier in the same message: several 清单 of one buyer in one
    # message count together against the annual limit.
    pending: dict[str, Decimal] | None = None
    # The (buyer, year) pairs of the whole message, for a ledger that reads ahead
    # (``QuotaReadAhead``); worked out when the first record asks, then done.
    ahead: Callable[[], Collection[tuple[str, int]]] | None = None

    def used(self, buyer: str, year: int, replacing: OrderKey | None) -> Decimal:
        """What the ledger has counted against ``buyer`` in ``year`` (0 without a ledger)."""
        if self.quota is None:
            return Decimal(0)
        if self.ahead is not None:
            buyers, self.ahead = self.ahead(), None
            if isinstance(self.quota, QuotaReadAhead):
                self.quota.read_ahead(buyers)
        return self.quota.used(buyer, year, replacing=replacing)

    def pending_for(self, buyer: str) -> Decimal:
        return (self.pending or {}).get(buyer, Decimal(0))

    def add_pending(self, buyer: str, amount: Decimal) -> None:
        if self.pending is None:
            self.pending = {}
        self.pending[buyer] = self.pending.get(buyer, Decimal(0)) + amount


def lines_total(lines: tuple[Node, ...]) -> Decimal:
    """Σ totalPrice of the lines, missing totals counting as zero (the schema reports them)."""
    total = Decimal(0)
    for line in lines:
        value = line.decimal("totalPrice")
        if value is not None:
            total += value
    return total


# -- documents kept as facts (``declarations.facts``): no tree, the same fields --------------


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """What a unit of a stored document knows of it: no tree, only what findings name."""

    source: str
    message: MessageType
    direction: Direction
    regime: Regime | None


class StoredNode(Node):
    """A node rebuilt from the texts intake kept: the same ``raw`` as when it was read, and its
    XPath, worked out from the message's structure (one record), in place of the element."""

    __slots__ = ("path",)

    def __init__(self, raw: dict[str, str | None], path: str) -> None:  # (no element)
        self.raw = raw
        self.path = path

    def where(self, name: str | None = None) -> tuple[str, int | None]:
        """XPath of a field (or of this element); the line is not kept."""
        return (f"{self.path}/ceb:{name}" if name else self.path), None


def stored_units(
    doc: StoredDocument, head: dict[str, str | None], lines: list[dict[str, str | None]]
) -> list[Unit]:
    """The one record of a stored document as ``read_units`` read it on arrival."""
    message = doc.message
    record = _record_xpath(_CEB + message.root, message.record, None)
    head_path = f"{record}/{xpath_step(_CEB + message.head)}" if message.head else record
    line_path = f"{record}/{xpath_step(_CEB + message.lines)}" if message.lines else record

    def line_node(index: int, raw: dict[str, str | None]) -> Node:
        return StoredNode(raw, f"{line_path}[{index}]" if len(lines) > 1 else line_path)

    nodes = tuple(line_node(i, raw) for i, raw in enumerate(lines, start=1))
    return [Unit(doc, StoredNode(head, head_path), nodes, True)]
