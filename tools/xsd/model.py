"""The vocabulary of the field tables: simple types in the spec's own notation, fields, nodes.

The CEB specification writes formats as ``C..18`` (text up to 18 characters), ``C4`` (exactly 4),
``N19,5`` (decimal, 19 digits of which 5 after the point) and ``N9`` (integer up to 9 digits).
The tables in ``fields_*.py`` use the same notation so a reader can hold them next to the spec;
this module turns each notation into one named XSD simple type of ``ceb-common.xsd``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

XS_STRING, XS_DECIMAL, XS_INT = "xs:string", "xs:decimal", "xs:int"


@dataclass(frozen=True)
class SimpleType:
    """One named simple type of the common schema: a base type plus facets, in XSD order."""

    name: str
    base: str
    facets: tuple[tuple[str, str], ...]
    doc: str


# Spec notation -> facets.  "C1..18" is our way of writing the official "required, 1 to 18
# characters" (the import schema demands non-empty text; the export one mostly does not).
_TEXT = re.compile(r"^C(?P<min>\d+)?(?:\.\.(?P<max>\d+))?(?P<collapse>-collapse)?$")
_NUMBER = re.compile(r"^N(?P<digits>\d+)(?:,(?P<fraction>\d+))?$")


def simple_type(notation: str) -> SimpleType:
    """The simple type written ``notation`` (``C..18``, ``C36``, ``N19,5``, ``N9``...)."""
    if text := _TEXT.match(notation):
        low, high = text["min"], text["max"]
        facets: list[tuple[str, str]] = []
        if text["collapse"]:
            # The export schema collapses spaces before counting, so " A " is a valid C1 there.
            facets.append(("whiteSpace", "collapse"))
        if high is None and low is not None:
            facets.append(("length", low))
            doc = f"text of exactly {low} characters"
        elif high is not None:
            if low not in (None, "0"):
                facets.append(("minLength", low))
            facets.append(("maxLength", high))
            doc = f"text of {low or 0} to {high} characters"
        else:
            raise ValueError(f"unknown text notation {notation!r}")
        if text["collapse"]:
            doc += ", spaces collapsed first"
        return SimpleType(notation, XS_STRING, tuple(facets), doc)
    if number := _NUMBER.match(notation):
        digits, fraction = number["digits"], number["fraction"]
        if fraction is None:
            return SimpleType(
                f"N{digits}",
                XS_INT,
                (("totalDigits", digits),),
                f"integer of up to {digits} digits",
            )
        return SimpleType(
            f"N{digits}_{fraction}",
            XS_DECIMAL,
            (("totalDigits", digits), ("fractionDigits", fraction)),
            f"decimal of up to {digits} digits, {fraction} of them after the point",
        )
    raise ValueError(f"unknown type notation {notation!r}")


# Types with a meaning of their own get a name that says it; they are still plain lengths.
SEMANTIC_TYPES: dict[str, SimpleType] = {
    "Guid": SimpleType("Guid", XS_STRING, (("length", "36"),), "36-character unique id 唯一序号"),
    "Time14": SimpleType(
        "Time14", XS_STRING, (("length", "14"),), "time YYYYMMDDhhmmss 时间（14位）"
    ),
    "Time17": SimpleType(
        "Time17", XS_STRING, (("length", "17"),), "time YYYYMMDDhhmmssSSS 时间（17位）"
    ),
    "Date8": SimpleType("Date8", XS_STRING, (("length", "8"),), "date YYYYMMDD 日期"),
    "Text": SimpleType("Text", XS_STRING, (), "text of any length 任意长度文本"),
}


def type_name(notation: str) -> str:
    """The XSD name of a notation: the semantic name, ``xs:int``, or the notation made an NCName."""
    if notation == "int":
        return XS_INT
    if notation in SEMANTIC_TYPES:
        return notation
    return simple_type(notation).name


def type_definition(notation: str) -> SimpleType | None:
    """The named type to declare in the common schema (``None`` for built-ins like ``int``)."""
    if notation == "int":
        return None
    return SEMANTIC_TYPES.get(notation) or simple_type(notation)


@dataclass(frozen=True)
class Field:
    """One leaf element of a node, in document order."""

    name: str
    type: str  # spec notation or a semantic type name
    required: bool = True
    fixed: str | None = None  # the official schema's own fixed value (an empty element gets it)
    default: str | None = None  # the official schema's default (an empty element gets it)
    only: tuple[str, ...] | None = None  # a regime's allowed values (empty is invalid)
    regime_note: str | None = None  # why a regime changed this field, for the documentation


def req(name: str, type_: str, *, fixed: str | None = None, default: str | None = None) -> Field:
    """A required field (minOccurs 1)."""
    return Field(name, type_, required=True, fixed=fixed, default=default)


def opt(name: str, type_: str) -> Field:
    """An optional field (minOccurs 0)."""
    return Field(name, type_, required=False)


@dataclass(frozen=True)
class Node:
    """An element with element-only content (a head, a line, a receipt, BaseTransfer...)."""

    name: str
    doc: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(f"{self.name} has no field {name!r}")

    def with_field(self, changed: Field) -> Node:
        return replace(
            self, fields=tuple(changed if f.name == changed.name else f for f in self.fields)
        )


@dataclass(frozen=True)
class Rule:
    """A regime's deliberate tightening of one field of the official structure."""

    node: str
    field: str
    why: str
    only: str | tuple[str, ...] | None = None  # the value(s) the regime allows
    require: bool = False  # make an optional field required and non-empty

    def apply(self, node: Node) -> Node:
        current = node.field(self.field)
        note = f"{self.why}: required, not empty" if self.require else self.why
        changed = replace(current, regime_note=note)
        if self.only is not None:
            values = (self.only,) if isinstance(self.only, str) else self.only
            changed = replace(changed, only=values)
        if self.require:
            text = _TEXT.match(current.type)
            if not text or text["max"] is None:
                raise ValueError(f"{self.node}/{self.field}: only C..n text can be required")
            changed = replace(changed, required=True, type=f"C1..{text['max']}")
        return node.with_field(changed)


@dataclass(frozen=True)
class DataMessage:
    """A data message: up to 100 records, each a head (+ lines) or one flat node."""

    code: str  # CEB311
    doc: str
    record: str  # Order, Payment, Receipts...
    parts: tuple[tuple[str, int], ...] = ()  # (child node, maxOccurs) when the record is split
    signature_required: bool = False
    max_records: str = "100"  # the record's maxOccurs ("1" for CEB711, "unbounded" for a tax bill)
    transfer: bool = True  # False: customs' own messages (CEB816, CEB818) have no envelope nodes
    record_type: str | None = None  # the record's type name, when two messages share a record
    optional_parts: tuple[str, ...] = ()  # parts that may be absent (minOccurs 0)

    @property
    def type(self) -> str:
        return self.record_type or f"{self.record}Type"


@dataclass(frozen=True)
class ReceiptMessage:
    code: str  # CEB312
    doc: str
    node: str  # OrderReturn
    type: str  # name of its complex type in the common schema
    max_nodes: str = "100"  # the format-check receipt CEB900 holds one


@dataclass(frozen=True)
class Schema:
    """One regime-and-direction schema file."""

    regime: str
    direction: str  # import / export
    doc: str
    data: tuple[DataMessage, ...]
    receipts: tuple[ReceiptMessage, ...]
    nodes: dict[str, Node]
    rules: tuple[Rule, ...] = ()

    @property
    def path(self) -> str:
        return f"{self.regime}/{self.direction}.xsd"

    def node(self, name: str) -> Node:
        node = self.nodes[name]
        for rule in self.rules:
            if rule.node == name:
                node = rule.apply(node)
        return node
