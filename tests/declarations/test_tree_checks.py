"""The parse step's checks on the built tree (depth, XInclude), where the pipeline runs them.

The pipeline leaves these checks out of the parse and runs them only where the schema cannot
vouch for the tree: a document that was not identified, failed the schema, or holds the two
elements under which our schemas let any XML through (the signature and the extension). These
tests hold the schemas to that promise and show that a deep or XInclude document is refused
at the parse, whichever way it takes through the pipeline.
"""

from __future__ import annotations

import pytest
from lxml import etree

from declarations import validate, validate_batch, validate_set
from declarations.findings import Layer, Report
from declarations.messages import CEB_NS, DSIG_NS, Direction, Regime
from declarations.paths import xsd_root
from declarations.samples import generate_sets, to_bytes

_C = "{" + CEB_NS + "}"
_DS = "{" + DSIG_NS + "}"
_XS = "{http://www.w3.org/2001/XMLSchema}"


def nested(depth: int) -> etree._Element:
    """``depth`` levels of elements in a namespace of their own (a wildcard admits them)."""
    top = node = etree.Element("{urn:deep}a")
    for _ in range(depth - 1):
        node = etree.SubElement(node, "{urn:deep}a")
    return top


def import_set() -> dict[str, etree._Element]:
    return dict(generate_sets(Regime.DIRECT, Direction.IMPORT, seed=7, count=1)[0].documents)


def with_extension(root: etree._Element, content: etree._Element) -> bytes:
    """The message with an ExtendMessage (allowed last but for the signature) holding
    ``content`` as its free-form Message."""
    extension = etree.Element(_C + "ExtendMessage")
    etree.SubElement(extension, _C + "name").text = "x"
    etree.SubElement(extension, _C + "version").text = "1.0"
    etree.SubElement(extension, _C + "Message").append(content)
    signature = root.find(_DS + "Signature")
    if signature is not None:
        signature.addprevious(extension)
    else:
        root.append(extension)
    return to_bytes(root)


def field(root: etree._Element, name: str) -> etree._Element:
    found = root.find(f"{_C}Order/{_C}OrderHead/{_C}{name}")
    assert found is not None
    return found


def assert_refused_at_parse(report: Report, rule: str) -> None:
    assert [f.rule for f in report.findings] == [rule]
    assert report.findings[0].layer is Layer.PARSE
    assert report.documents[0].message_type is None  # nothing past the parse ran


def test_the_schema_admits_any_xml_only_under_the_signature_or_the_extension() -> None:
    """Where an ``xs:any`` stands in our XSDs: inside the XML signature's own types, or in the
    free-form Message of ExtendMessage; and both stand last among a message's children."""
    files = sorted(xsd_root().rglob("*.xsd"))
    assert files
    for path in files:
        tree = etree.parse(str(path))
        for wildcard in tree.iter(_XS + "any"):
            if path.name == "xmldsig.xsd":
                continue
            owner = next(wildcard.iterancestors(_XS + "complexType"))
            type_name = owner.get("name")
            assert type_name, f"{path}: an anonymous type admits any XML"
            users = [
                e
                for e in tree.getroot().iter(_XS + "element")
                if e.get("type") == f"ceb:{type_name}"
            ]
            assert [e.get("name") for e in users] == ["Message"], (path, type_name)
            (user,) = users
            extension = next(user.iterancestors(_XS + "complexType")).get("name")
            assert extension == "ExtendMessageType", (path, extension)
        for message in tree.getroot().iterchildren(_XS + "element"):
            sequence = message.find(f"{_XS}complexType/{_XS}sequence")
            if sequence is None:
                continue
            names = [c.get("name") or c.get("ref") for c in sequence.iterchildren(_XS + "element")]
            open_parts = [n for n in names if n in ("ExtendMessage", "ds:Signature")]
            assert names[len(names) - len(open_parts) :] == open_parts, (path, names)


def test_an_extension_and_a_shallow_one_are_accepted() -> None:
    documents = import_set()
    data = with_extension(documents["order-CEB311.xml"], nested(5))
    assert validate(data).valid


def test_deep_content_in_the_extension_is_refused_at_the_parse() -> None:
    documents = import_set()
    assert_refused_at_parse(
        validate(with_extension(documents["order-CEB311.xml"], nested(70))), "parse.too-deep"
    )


def test_deep_content_in_the_signature_is_refused_at_the_parse() -> None:
    documents = import_set()
    inventory = documents["inventory-CEB621.xml"]
    signature = inventory.find(_DS + "Signature")
    assert signature is not None
    etree.SubElement(signature, _DS + "Object").append(nested(70))
    data = etree.tostring(inventory)  # as edited (to_bytes would sign it anew, without Object)
    assert_refused_at_parse(validate(data), "parse.too-deep")
    inventory = import_set()["inventory-CEB621.xml"]
    signature = inventory.find(_DS + "Signature")
    assert signature is not None
    etree.SubElement(signature, _DS + "Object").append(nested(5))
    assert not [f for f in validate(etree.tostring(inventory)).findings if f.layer is Layer.PARSE]


def test_deep_content_where_the_schema_forbids_it_is_refused_at_the_parse() -> None:
    order = import_set()["order-CEB311.xml"]
    field(order, "orderNo").append(nested(70))
    assert_refused_at_parse(validate(to_bytes(order)), "parse.too-deep")


def test_deep_documents_that_are_not_identified_are_refused_at_the_parse() -> None:
    deep = b"<a>" * 65 + b"</a>" * 65
    assert_refused_at_parse(validate(deep), "parse.too-deep")
    # a CEB message, but not of the regime the caller names
    order = import_set()["order-CEB311.xml"]
    field(order, "orderNo").append(nested(70))
    assert_refused_at_parse(validate(to_bytes(order), regime="9710"), "parse.too-deep")


def test_xinclude_in_the_extension_is_refused_at_the_parse() -> None:
    include = etree.Element("{http://www.w3.org/2001/XInclude}include", href="/etc/passwd")
    data = with_extension(import_set()["order-CEB311.xml"], include)
    assert_refused_at_parse(validate(data), "parse.xinclude")


@pytest.mark.parametrize("how", ["set", "batch"])
def test_a_refused_member_of_a_set_is_left_out_of_the_reconciliation(how: str) -> None:
    documents = import_set()
    named = [(name, to_bytes(root)) for name, root in documents.items()]
    order = documents["order-CEB311.xml"]
    named[0] = ("order-CEB311.xml", with_extension(order, nested(70)))
    if how == "set":
        report = validate_set(named)
        order_findings = report.for_source("order-CEB311.xml")
        findings = report.findings
    else:
        reports = validate_batch(named)
        order_findings = reports[0].findings
        findings = [f for r in reports for f in r.findings]
    assert [f.rule for f in order_findings] == ["parse.too-deep"]
    # the others are reconciled without it: the set (which holds its 清单) lacks its order
    (missing,) = [f for f in findings if f.rule == "reconcile.missing-document"]
    assert "CEB311" in missing.message_en
