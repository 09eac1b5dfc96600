"""A seeded generator of mutated CEB documents for the schema differential tests.

Each mutant is a copy of a base document with one or two small changes of the kinds that break
(or, for a few, keep) schema validity: a dropped, duplicated, reordered, renamed, misplaced or
re-namespaced element; over-long, empty or wrongly typed text; a stray attribute or child; a
broken root ``guid``/``version``; and value changes that keep the type (so both verdicts occur).

``mutants`` draws them at random from a seed: the same seed always gives the same mutants
(elements are visited in document order and every choice comes from one ``random.Random``).
The systematic half, every CEB element of a small document through every change, is
``ceb_sweep``; it uses the operations defined here.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lxml import etree

CEB_NS = "http://www.chinaport.gov.cn/ceb"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"

# Lengths around the limits the CEB structure uses (C..18, C36, C..60, N19,5...).
LENGTHS = (
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    14,
    15,
    17,
    18,
    19,
    20,
    21,
    30,
    31,
    32,
    33,
    36,
    37,
    38,
    50,
    51,
    60,
    61,
    100,
    101,
    200,
    201,
    250,
    251,
    510,
    511,
    1000,
    1001,
)
# Values that are the wrong type for some fields and right for others.
ODD_VALUES = (
    "abc",
    "1.123456",
    "1.12345",
    "-5",
    "1e3",
    "12345678901234567890",
    "1234567890",
    " 7 ",
    "９",
    "2147483648",
    "0x10",
    "NaN",
    "  ",
    "12345678901234.12345",
    "E",
    "W",
)


@dataclass(frozen=True)
class Mutant:
    description: str
    tree: etree._ElementTree


Operation = Callable[[etree._Element, random.Random], str | None]


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def is_leaf(element: etree._Element) -> bool:
    return len(element) == 0


def in_signature(element: etree._Element) -> bool:
    return etree.QName(element).namespace == DS_NS


# --- operations on one element; each returns a description, or None when it does not apply --


def drop(element: etree._Element, rng: random.Random) -> str | None:
    parent = element.getparent()
    if parent is None:
        return None
    parent.remove(element)
    return "drop"


def duplicate(element: etree._Element, rng: random.Random) -> str | None:
    element.addnext(copy.deepcopy(element))
    return "duplicate"


def swap_with_next(element: etree._Element, rng: random.Random) -> str | None:
    following = element.getnext()
    if following is None or not isinstance(following.tag, str):
        return None
    following.addnext(element)
    return "swap with next sibling"


def rename(element: etree._Element, rng: random.Random) -> str | None:
    name = local(element)
    siblings = [local(s) for s in element.itersiblings() if isinstance(s.tag, str)]
    choices = [name + "X", name.upper(), name[:-1] or "x", *siblings[:2]]
    new = rng.choice([c for c in choices if c != name] or [name + "X"])
    element.tag = etree.QName(etree.QName(element).namespace, new).text
    return f"rename to {new}"


def renamespace(element: etree._Element, rng: random.Random) -> str | None:
    namespace = rng.choice([None, "urn:other", CEB_NS if in_signature(element) else DS_NS])
    element.tag = etree.QName(namespace, local(element)).text if namespace else local(element)
    return f"move to namespace {namespace}"


def over_long(element: etree._Element, rng: random.Random) -> str | None:
    if not is_leaf(element):
        return None
    length = rng.choice(LENGTHS)
    element.text = rng.choice("1A中") * length
    return f"text of length {length}"


def empty(element: etree._Element, rng: random.Random) -> str | None:
    if not is_leaf(element) or not element.text:
        return None
    element.text = None
    return "empty"


def odd_value(element: etree._Element, rng: random.Random) -> str | None:
    if not is_leaf(element):
        return None
    element.text = rng.choice(ODD_VALUES)
    return f"value {element.text!r}"


def pad_spaces(element: etree._Element, rng: random.Random) -> str | None:
    if not is_leaf(element) or not element.text:
        return None
    element.text = f" {element.text}  "
    return "padded with spaces"


def same_kind_value(element: etree._Element, rng: random.Random) -> str | None:
    """Keep the length and character classes, change the characters: usually still valid."""
    if not is_leaf(element) or not element.text:
        return None

    def swap(char: str) -> str:
        if char.isascii() and char.isdigit():
            return rng.choice("0123456789")
        if char.isascii() and char.isupper():
            return rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        if char.isascii() and char.islower():
            return rng.choice("abcdefghijklmnopqrstuvwxyz")
        return char

    element.text = "".join(swap(c) for c in element.text)
    return "same-kind value"


def text_in_container(element: etree._Element, rng: random.Random) -> str | None:
    if is_leaf(element):
        return None
    element.text = "stray text"
    return "text inside a container"


def stray_attribute(element: etree._Element, rng: random.Random) -> str | None:
    name = rng.choice(["foo", "Id", "guid"])
    element.set(name, "1")
    return f"attribute {name}"


def unknown_child(element: etree._Element, rng: random.Random) -> str | None:
    namespace = etree.QName(element).namespace or CEB_NS
    etree.SubElement(element, etree.QName(namespace, "extra").text).text = "1"
    return "unknown child"


def harmless_comment(element: etree._Element, rng: random.Random) -> str | None:
    element.addprevious(etree.Comment(" a comment is never a schema error "))
    return "comment before"


ELEMENT_OPERATIONS: tuple[Operation, ...] = (
    drop,
    drop,
    duplicate,
    duplicate,
    swap_with_next,
    rename,
    renamespace,
    over_long,
    over_long,
    empty,
    odd_value,
    odd_value,
    pad_spaces,
    same_kind_value,
    same_kind_value,
    text_in_container,
    stray_attribute,
    unknown_child,
    harmless_comment,
)
# Inside ds:Signature only the plain structural and text changes: moving CEB elements into the
# signature's lax wildcards would test libxml2's lax mode, not our schemas.
SIGNATURE_OPERATIONS: tuple[Operation, ...] = (
    drop,
    duplicate,
    swap_with_next,
    rename,
    empty,
    odd_value,
    same_kind_value,
)


def move_elsewhere(tree: etree._ElementTree, rng: random.Random) -> str | None:
    """Move a CEB element under a different CEB container."""
    elements = [e for e in tree.iter() if isinstance(e.tag, str) and not in_signature(e)]
    containers = [e for e in elements if not is_leaf(e) and local(e) != "Message"]
    movable = [e for e in elements if e.getparent() is not None]
    element, target = rng.choice(movable), rng.choice(containers)
    if target is element.getparent() or element in target.iterancestors() or target is element:
        return None
    target.insert(rng.randrange(len(target) + 1), element)
    return f"move {local(element)} under {local(target)}"


def root_attributes(root: etree._Element, rng: random.Random) -> str:
    guid = root.get("guid", "")
    choice = rng.randrange(9)
    if choice == 0:
        root.attrib.pop("guid", "")
        return "root guid removed"
    if choice == 1:
        root.set("guid", guid[:-1])
        return "root guid 35 chars"
    if choice == 2:
        root.set("guid", guid + "A")
        return "root guid 37 chars"
    if choice == 3:
        root.set("guid", "")
        return "root guid empty"
    if choice == 4:
        root.set("guid", guid.lower())  # still 36 characters: valid
        return "root guid lower-cased"
    if choice == 5:
        root.attrib.pop("version", "")
        return "root version removed"
    if choice == 6:
        root.set("version", "1.0.0.0.0.0")
        return "root version 11 chars"
    if choice == 7:
        root.set("version", "")
        return "root version empty"
    root.set("version", "2.0")
    return "root version 2.0"


def mutate_once(tree: etree._ElementTree, rng: random.Random) -> str | None:
    root = tree.getroot()
    roll = rng.random()
    if roll < 0.08:
        return root_attributes(root, rng)
    if roll < 0.16:
        return move_elsewhere(tree, rng)
    # Pick a kind of element first (parent and name), then one of its occurrences, so a field
    # of ten repeated records is not ten times likelier than BaseTransfer/dxpId.
    by_kind: dict[tuple[str, str], list[etree._Element]] = {}
    for parent in root.iter():
        for candidate in parent:
            if isinstance(candidate.tag, str):
                by_kind.setdefault((local(parent), local(candidate)), []).append(candidate)
    element = rng.choice(by_kind[rng.choice(sorted(by_kind))])
    operations = SIGNATURE_OPERATIONS if in_signature(element) else ELEMENT_OPERATIONS
    name = local(element)
    description = rng.choice(operations)(element, rng)
    return f"{description} on {name}" if description else None


def mutants(base: etree._ElementTree, count: int, seed: int) -> Iterator[Mutant]:
    """``count`` mutants of ``base``; one change each, two for about a quarter of them."""
    rng = random.Random(seed)
    made = 0
    while made < count:
        tree = copy.deepcopy(base)
        changes = [mutate_once(tree, rng) for _ in range(2 if rng.random() < 0.25 else 1)]
        applied = [c for c in changes if c is not None]
        if not applied:
            continue
        made += 1
        yield Mutant("; ".join(applied), tree)


# --- the optional envelope parts a base document gains -----------------------------------


def with_optional_envelope(base: etree._ElementTree, direction: str) -> etree._ElementTree:
    """A copy with the optional envelope parts the samples leave out: one BaseSubscribe after
    BaseTransfer and one ExtendMessage where its direction puts it (import: before the
    signature; export: last)."""
    tree = copy.deepcopy(base)
    root = tree.getroot()
    transfer = root.find(f"{{{CEB_NS}}}BaseTransfer")
    assert transfer is not None, "only data messages have an envelope"
    subscribe = etree.Element(f"{{{CEB_NS}}}BaseSubscribe")
    for name, text in (
        ("status", "ALL"),
        ("dxpMode", "DXP"),
        ("dxpAddress", "DXPENT0000000001"),
        ("note", "subscriber"),
    ):
        etree.SubElement(subscribe, f"{{{CEB_NS}}}{name}").text = text
    transfer.addnext(subscribe)
    extend = etree.Element(f"{{{CEB_NS}}}ExtendMessage")
    etree.SubElement(extend, f"{{{CEB_NS}}}name").text = "danchuang-test"
    etree.SubElement(extend, f"{{{CEB_NS}}}version").text = "1.0"
    message = etree.SubElement(extend, f"{{{CEB_NS}}}Message")
    etree.SubElement(message, "{urn:example:extension}anything").text = "free XML"
    signature = root.find(f"{{{DS_NS}}}Signature")
    if direction == "import" and signature is not None:
        signature.addprevious(extend)
    else:
        root.append(extend)
    return tree
