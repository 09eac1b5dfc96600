"""What the hardened parse leaves of a document, and the shortcuts that rely on it.

``parse_xml`` drops indentation between elements, comments and processing instructions (fewer
nodes for the schema and every later walk), but keeps what is data: the text of a leaf, even
when it is only spaces, and the line of every element. Rules and reconciliation then name a
record's head without walking the tree (``Unit.sole``); the XPath a finding about the whole
record reports must still be ``readable_xpath``'s.
"""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from declarations import pipeline
from declarations.document import Document, readable_xpath
from declarations.messages import BY_ROOT, Direction, Regime
from declarations.parsing import parse_xml
from declarations.paths import xsd_root
from declarations.reconcile_rules import MISSING_DOCUMENT
from declarations.rules._common import Unit, read_units
from declarations.samples import generate_sets, to_bytes


def test_blank_text_goes_but_data_and_lines_stay() -> None:
    data = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<a>\n  <b>   </b>\n'
        b"  <c>AB<!--x-->CD<?pi x?>EF</c>\n  <!-- between -->\n  <d/>\n</a>"
    )
    root = parse_xml(data).root
    assert root is not None
    assert [(e.tag, e.text, e.sourceline) for e in root.iter()] == [
        ("a", None, 2),
        ("b", "   ", 3),  # a leaf of spaces keeps them: the schema must still see them
        ("c", "ABCDEF", 4),  # the pieces around a dropped comment or PI are joined
        ("d", None, 6),
    ]
    assert len(root) == 3  # no comment among the children


def test_a_leaf_of_spaces_still_fails_the_schema() -> None:
    s = generate_sets(Regime.DIRECT, Direction.IMPORT, seed=11, count=1)[0]
    order = s.documents["order-CEB311.xml"]
    goods_value = order.find(".//{*}goodsValue")
    assert goods_value is not None
    goods_value.text = "   "  # a number of nothing but spaces
    report = pipeline.validate(to_bytes(order))
    assert [f.field for f in report.findings if f.layer == "schema"] == ["goodsValue"]


def example_roots() -> list[tuple[str, etree._Element]]:
    files = sorted(xsd_root().glob("*/examples/**/*.xml"))
    roots = []
    for path in files:
        root = etree.parse(str(path)).getroot()
        if isinstance(root.tag, str) and etree.QName(root).localname in BY_ROOT:
            roots.append((f"{path.parent.parent.name}/{path.name}", root))
    return roots


def odd_shapes(root: etree._Element) -> list[etree._Element]:
    """The document, and copies with a repeated record and head, and with a head removed."""
    shapes = [root]
    if len(root) and len(root[0]):
        repeated = copy.deepcopy(root)
        repeated[0].insert(1, copy.deepcopy(repeated[0][0]))
        repeated.insert(0, copy.deepcopy(repeated[0]))
        shapes.append(repeated)
        headless = copy.deepcopy(root)
        headless[0].remove(headless[0][0])
        shapes.append(headless)
    return shapes


@pytest.mark.parametrize(("name", "root"), example_roots()[::7], ids=lambda v: str(v)[:40])
def test_a_sole_records_head_is_named_as_readable_xpath_names_it(
    name: str, root: etree._Element
) -> None:
    message = BY_ROOT[etree.QName(root).localname]
    for shape in odd_shapes(root):
        doc = Document(name, shape, message, message.direction, Regime.DIRECT)
        units = read_units(doc)
        for unit in units:
            if len(units) > 1:
                assert not unit.sole
            assert _record_finding_xpath(unit) == readable_xpath(unit.head.element)


def test_a_sole_record_inside_another_tree_is_named_with_its_ancestors() -> None:
    s = generate_sets(Regime.DIRECT, Direction.IMPORT, seed=2, count=1)[0]
    root = s.documents["payment-CEB411.xml"]
    wrapper = etree.Element("wrapper")
    wrapper.append(root)
    message = BY_ROOT["CEB411Message"]
    (unit,) = read_units(Document("p.xml", root, message, message.direction, Regime.DIRECT))
    assert unit.sole
    assert _record_finding_xpath(unit) == readable_xpath(unit.head.element)
    assert _record_finding_xpath(unit).startswith("/wrapper/")


def _record_finding_xpath(unit: Unit) -> str | None:
    """The XPath a finding about the whole record (no field) reports, as a set's missing
    document does."""
    return unit.finding(MISSING_DOCUMENT, unit.head, None, "missing", "缺少").xpath
