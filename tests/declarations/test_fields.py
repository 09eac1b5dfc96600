"""Reading fields once: by position when the XSD allows it, by tag otherwise, same answers.

``Node`` takes a field by its position among its siblings when an element holds every child of
its XSD sequence and the document has no comment or processing instruction; these tests pin
down that the fast way and the tag way agree, and that the fast way is not taken when it
would read the wrong child.
"""

from __future__ import annotations

import pytest
from lxml import etree

from declarations import pipeline
from declarations.document import Document
from declarations.messages import BY_CODE, BY_ROOT, CEB_NS, Direction, Regime
from declarations.rules._common import HEAD_FIELDS, LINE_FIELDS, Node, read_units
from declarations.rules.sequences import has_comments, positions, sequences
from declarations.samples import generate_sets, to_bytes

_C = "{" + CEB_NS + "}"
CASES = [(r, d) for r in Regime for d in r.directions]


def full_element(regime: Regime, direction: Direction, name: str) -> etree._Element:
    """An element holding every child of its XSD sequence, each child's text its own name."""
    element = etree.Element(_C + name)
    for child in sequences(regime, direction)[name]:
        etree.SubElement(element, _C + child).text = f" {child} "
    return element


@pytest.mark.parametrize(("regime", "direction"), CASES)
def test_every_read_element_has_positions(regime: Regime, direction: Direction) -> None:
    # Without positions every document would take the slow way: make sure none is missed.
    for code, layout in HEAD_FIELDS.items():
        message = BY_CODE[code]
        if message.direction is direction:
            name = message.head or message.record
            assert positions(regime, direction, name, layout.order) is not None, (code, name)
    for code, layout in LINE_FIELDS.items():
        message = BY_CODE[code]
        if message.direction is direction and message.lines:
            assert positions(regime, direction, message.lines, layout.order) is not None, code


@pytest.mark.parametrize(("regime", "direction"), CASES)
def test_positional_and_tag_reads_agree(regime: Regime, direction: Direction) -> None:
    layouts = [
        (c, layout, BY_CODE[c].head or BY_CODE[c].record) for c, layout in HEAD_FIELDS.items()
    ]
    layouts += [(c, layout, BY_CODE[c].lines or "") for c, layout in LINE_FIELDS.items()]
    for code, layout, name in layouts:
        if BY_CODE[code].direction is not direction:
            continue
        at = positions(regime, direction, name, layout.order)
        assert at is not None
        element = full_element(regime, direction, name)
        fast, slow = Node(element, layout, at), Node(element, layout)
        for field in layout.order:
            assert fast.text(field) == slow.text(field) == field


def test_a_missing_field_falls_back_to_tags_even_with_positions() -> None:
    regime, direction = Regime.DIRECT, Direction.IMPORT
    layout = HEAD_FIELDS["CEB411"]
    element = full_element(regime, direction, "PaymentHead")
    # drop an optional field that rules do not read: one child fewer than the sequence
    unread = next(c for c in element if etree.QName(c).localname not in layout.names)
    element.remove(unread)
    node = Node(element, layout, positions(regime, direction, "PaymentHead", layout.order))
    assert all(node.text(field) == field for field in layout.order)


def test_a_comment_standing_in_for_a_missing_field_is_not_read_as_a_field() -> None:
    """lxml counts a comment as a child: with one field missing, the counts match again, so the
    document's comments must send it the slow way."""
    s = generate_sets(Regime.DIRECT, Direction.IMPORT, seed=3, count=1)[0]
    root = etree.fromstring(to_bytes(s.documents["payment-CEB411.xml"]))
    head = root[0][0]
    missing = len(sequences(Regime.DIRECT, Direction.IMPORT)["PaymentHead"]) - len(head)
    assert missing >= 1  # the samples leave optional fields out
    # pad with comments up to the sequence's length, right before the fields rules read
    for _ in range(missing):
        head.insert(0, etree.Comment("padding"))
    assert has_comments(root)
    message = BY_ROOT[etree.QName(root).localname]
    doc = Document("payment.xml", root, message, message.direction, Regime.DIRECT)
    (unit,) = read_units(doc)
    for field in HEAD_FIELDS["CEB411"].order:
        element = head.find(_C + field)
        expected = element.text.strip() if element is not None and element.text else None
        assert unit.head.text(field) == (expected or None), field


def test_reconciliation_judges_the_records_the_rules_read() -> None:
    """Data flows forward: the set check works on what the document steps read, not on the
    tree again. A tree edited after the checks (here: the order's orderNo) changes nothing."""
    s = generate_sets(Regime.DIRECT, Direction.IMPORT, seed=5, count=1)[0]
    options = pipeline.Options()
    contexts = [
        pipeline.Context(name, to_bytes(root), options) for name, root in s.documents.items()
    ]
    for ctx in contexts:
        for step in pipeline.DOCUMENT_STEPS:
            step(ctx)
    order = next(c for c in contexts if c.source.startswith("order"))
    assert order.root is not None
    order_no = order.root.find(f".//{_C}orderNo")
    assert order_no is not None and order_no.text
    order_no.text = "EDITED-AFTER-THE-CHECKS"
    assert pipeline.reconcile_step(contexts, options) == []

    # Read again (what was read forgotten), the edited tree is what reconciliation reports.
    for ctx in contexts:
        ctx.units = None
    assert pipeline.reconcile_step(contexts, options) != []
