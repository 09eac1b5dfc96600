"""Where each field stands among its siblings, read from our own XSDs: the fast way to read fields.

Rules run on documents that passed the schema, whose business elements hold their children in
the XSD's sequence order. When an element (say an OrderHead) has exactly as many children as its
type's sequence names, and the document holds no comment or processing instruction (lxml counts
those as children too), every field is present once, in order: a field can be taken by its
position, without asking lxml for any child's tag. Building a ``{namespace}name`` tag string is
the single most expensive thing lxml does for us, so ``Node`` uses these positions when they
apply and falls back to reading tags when they do not (an optional field left out).

Only plain sequences qualify: each child a named ``xs:element`` that occurs at most once. A
type with choices, groups, wildcards or repeated children gets no positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lxml import etree

from declarations.messages import Direction, Regime
from declarations.paths import xsd_root

_XS = "{http://www.w3.org/2001/XMLSchema}"


@dataclass(frozen=True, slots=True)
class Positions:
    """Where a layout's fields stand when an element holds all ``count`` children."""

    count: int
    fields: tuple[tuple[str, int], ...]  # (field, its index), in the layout's order


def _plain_sequence(complex_type: etree._Element) -> tuple[str, ...] | None:
    sequence = complex_type.find(_XS + "sequence")
    if sequence is None:
        return None
    names: list[str] = []
    for child in sequence:
        tag: object = child.tag  # (see document.TAG_NOTE)
        if not isinstance(tag, str):
            continue  # a comment in the schema
        if tag == _XS + "annotation":
            continue
        name = child.get("name")
        if tag != _XS + "element" or not name or child.get("maxOccurs", "1") != "1":
            return None
        names.append(name)
    return tuple(names)


@cache
def sequences(regime: Regime, direction: Direction) -> dict[str, tuple[str, ...]]:
    """Children of each element whose type is a plain sequence, by the element's name, in one
    regime's schema for one direction; an element name used with two different sequences is
    left out. Read once per process: the schemas are part of the installation."""
    path = xsd_root() / regime.value / f"{direction.value}.xsd"
    if not path.is_file():
        return {}
    tree = etree.parse(str(path), etree.XMLParser(no_network=True, resolve_entities=False))
    types: dict[str, tuple[str, ...]] = {}
    for complex_type in tree.iter(_XS + "complexType"):
        name = complex_type.get("name")
        found = _plain_sequence(complex_type)
        if name and found is not None:
            types["ceb:" + name] = found
    by_element: dict[str, tuple[str, ...] | None] = {}
    for element in tree.iter(_XS + "element"):
        name, type_name = element.get("name"), element.get("type")
        if not name or type_name not in types:
            continue
        found = types[type_name]
        by_element[name] = found if by_element.get(name, found) == found else None
    return {name: found for name, found in by_element.items() if found is not None}


@cache
def positions(
    regime: Regime, direction: Direction, element: str, fields: tuple[str, ...]
) -> Positions | None:
    """Where ``fields`` stand among the children of ``element``, or None if positions cannot
    be trusted for it (not a plain sequence, or a field the sequence lacks)."""
    sequence = sequences(regime, direction).get(element)
    if sequence is None or not fields or any(f not in sequence for f in fields):
        return None
    return Positions(len(sequence), tuple((f, sequence.index(f)) for f in fields))


def has_comments(root: etree._Element) -> bool:
    """Whether the document holds a comment or processing instruction below its root (lxml
    counts them among an element's children, which would shift positions). lxml walks the tree
    in C, matching node types without building any tag string."""
    return next(root.iter(etree.Comment, etree.ProcessingInstruction), None) is not None
