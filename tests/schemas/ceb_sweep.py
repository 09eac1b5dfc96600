"""The systematic half of the schema differential tests' mutants (the seeded random half is
``ceb_mutations``): every CEB element of a small document (``first_record_only``) through every
change of ``sweep_changes``, including text at each length around the element's limits.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator

from ceb_mutations import (
    Mutant,
    Operation,
    drop,
    duplicate,
    empty,
    in_signature,
    is_leaf,
    local,
    pad_spaces,
    swap_with_next,
    unknown_child,
)
from lxml import etree

SWEEP_OPERATIONS: tuple[tuple[str, Operation], ...] = (
    ("drop", drop),
    ("duplicate", duplicate),
    ("swap with next sibling", swap_with_next),
    ("empty", empty),
    ("padded with spaces", pad_spaces),
    ("unknown child", unknown_child),
)
SWEEP_VALUES = ("abc", "-1", "1.123456", "12345678901234567890", "2147483648")
# Total occurrences to test for elements near the root: around the 5 BaseSubscribe, 99 or 100
# lines and 100 records the structure allows.
SWEEP_REPEATS = (5, 6, 99, 100, 101)


def first_record_only(base: etree._ElementTree) -> etree._ElementTree:
    """A copy keeping one business record (the first child of the root) of each message."""
    tree = copy.deepcopy(base)
    root = tree.getroot()
    records = [e for e in root if isinstance(e.tag, str) and local(e) == local(root[0])]
    for extra in records[1:]:
        root.remove(extra)
    return tree


def _address(element: etree._Element) -> tuple[int, ...]:
    """Child indexes from the root down to ``element``: finds its copy in a deep copy."""
    steps = []
    while (parent := element.getparent()) is not None:
        steps.append(parent.index(element))
        element = parent
    return tuple(reversed(steps))


def _at(tree: etree._ElementTree, address: tuple[int, ...]) -> etree._Element:
    element = tree.getroot()
    for index in address:
        element = element[index]
    return element


def _set_text(text: str) -> Callable[[etree._Element], bool]:
    def change(element: etree._Element) -> bool:
        element.text = text
        return True

    return change


def _repeated(total: int) -> Callable[[etree._Element], bool]:
    def change(element: etree._Element) -> bool:
        for _ in range(total - 1):
            element.addnext(copy.deepcopy(element))
        return True

    return change


def _operation(operation: Operation) -> Callable[[etree._Element], bool]:
    # The sweep's own fixed Random: the operations it uses make no random choice anyway.
    return lambda element: operation(element, random.Random(0)) is not None


def sweep_changes(
    element: etree._Element, depth: int, lengths: set[int]
) -> list[tuple[str, Callable[[etree._Element], bool]]]:
    """The changes the sweep makes to one element; each returns False if it did not apply."""
    changes = [(label, _operation(operation)) for label, operation in SWEEP_OPERATIONS]
    if is_leaf(element):
        changes += [(f"value {v!r}", _set_text(v)) for v in SWEEP_VALUES]
        for n in sorted(lengths):
            changes.append((f"text of length {n}", _set_text("1" * n)))
            # The same between spaces: equal verdicts only if both collapse spaces alike.
            changes.append((f"spaced text of length {n}", _set_text(f" {'1' * n} ")))
    if depth <= 2:  # records, their heads and lines, the envelope parts
        changes += [(f"{total} in a row", _repeated(total)) for total in SWEEP_REPEATS]
    return changes


def sweep(base: etree._ElementTree, lengths: dict[str, set[int]]) -> Iterator[Mutant]:
    """Every CEB element of ``base`` through each change of ``sweep_changes``, one per mutant;
    ``lengths[name]`` are the text lengths to try on elements of that name."""
    targets = [
        e
        for e in base.getroot().iterdescendants()
        if isinstance(e.tag, str) and not in_signature(e)
    ]
    for target in targets:
        address, where = _address(target), base.getpath(target)
        for label, change in sweep_changes(target, len(address), lengths.get(local(target), set())):
            tree = copy.deepcopy(base)
            if change(_at(tree, address)):
                yield Mutant(f"{label} on {where}", tree)
