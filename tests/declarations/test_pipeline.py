"""The pipeline: the schema step against a small schema written here (so each libxml2 error
kind is pinned), then whole documents and sets against the project's own ``xsd/``."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from lxml import etree

from declarations.batches import group_sets, validate_batch
from declarations.document import Document
from declarations.findings import RULES, DocumentSummary, Layer
from declarations.messages import BY_ROOT, Direction, Regime
from declarations.pipeline import validate, validate_set
from declarations.samples import generate_sets, to_bytes
from declarations.schemas import SchemaNotFoundError, SchemaRegistry, explain

CEB = "http://www.chinaport.gov.cn/ceb"
TINY_XSD = f"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:ceb="{CEB}"
           targetNamespace="{CEB}" elementFormDefault="qualified">
  <xs:element name="CEB411Message">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Payment" maxOccurs="3">
          <xs:complexType>
            <xs:sequence>
              <xs:element name="code">
                <xs:simpleType><xs:restriction base="xs:string">
                  <xs:minLength value="2"/><xs:maxLength value="5"/>
                </xs:restriction></xs:simpleType>
              </xs:element>
              <xs:element name="kind">
                <xs:simpleType><xs:restriction base="xs:string">
                  <xs:enumeration value="A"/><xs:enumeration value="B"/>
                </xs:restriction></xs:simpleType>
              </xs:element>
              <xs:element name="amount">
                <xs:simpleType><xs:restriction base="xs:decimal">
                  <xs:totalDigits value="5"/><xs:fractionDigits value="2"/>
                </xs:restriction></xs:simpleType>
              </xs:element>
              <xs:element name="stamp">
                <xs:simpleType><xs:restriction base="xs:string">
                  <xs:pattern value="[0-9]{{4}}"/>
                </xs:restriction></xs:simpleType>
              </xs:element>
              <xs:element name="count">
                <xs:simpleType><xs:restriction base="xs:int">
                  <xs:minInclusive value="1"/><xs:maxInclusive value="9"/>
                </xs:restriction></xs:simpleType>
              </xs:element>
              <xs:element name="currency" fixed="142" type="xs:string"/>
              <xs:element name="note" type="xs:string" minOccurs="0"/>
            </xs:sequence>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
      <xs:attribute name="guid" use="required">
        <xs:simpleType><xs:restriction base="xs:string">
          <xs:length value="36"/>
        </xs:restriction></xs:simpleType>
      </xs:attribute>
      <xs:attribute name="version" type="xs:string"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""
GUID = "4CDE1CFD-EDED-46B1-946C-B8022E42FC94"
GOOD = {
    "code": "AB12",
    "kind": "A",
    "amount": "123.45",
    "stamp": "2026",
    "count": "3",
    "currency": "142",
}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> SchemaRegistry:
    root = tmp_path_factory.mktemp("xsd")
    (root / "common").mkdir()
    (root / "9610").mkdir()
    (root / "9610" / "import.xsd").write_text(TINY_XSD, encoding="utf-8")
    return SchemaRegistry(root)


def payment(prefix: str = "ceb:", **changes: str | None) -> str:
    fields = {**GOOD, **changes}
    inner = "".join(
        f"\n    <{prefix}{name}>{value}</{prefix}{name}>"
        for name, value in fields.items()
        if value is not None
    )
    return f"\n  <{prefix}Payment>{inner}\n  </{prefix}Payment>"


def message(*payments: str, attributes: str = f'guid="{GUID}"', default_ns: bool = False) -> bytes:
    if default_ns:
        head = f'<CEB411Message xmlns="{CEB}" {attributes}>'
        return (head + "".join(payments) + "\n</CEB411Message>").encode()
    head = f'<ceb:CEB411Message xmlns:ceb="{CEB}" {attributes}>'
    return (head + "".join(payments) + "\n</ceb:CEB411Message>").encode()


def test_a_valid_document_has_no_findings(registry: SchemaRegistry) -> None:
    report = validate(message(payment(), payment()), schemas=registry)
    assert report.findings == []
    assert report.valid


@pytest.mark.parametrize(
    ("changes", "rule", "field", "line"),
    [
        ({"code": "ABCDEFG"}, "schema.too-long", "code", 3),
        ({"code": "A"}, "schema.too-short", "code", 3),
        ({"kind": "C"}, "schema.enumeration", "kind", 4),
        ({"amount": "12.345"}, "schema.digits", "amount", 5),
        ({"amount": "123456"}, "schema.digits", "amount", 5),
        ({"amount": "a lot"}, "schema.type", "amount", 5),
        ({"stamp": "26"}, "schema.pattern", "stamp", 6),
        ({"count": "10"}, "schema.range", "count", 7),
        ({"count": "0"}, "schema.range", "count", 7),
        ({"currency": "840"}, "schema.fixed", "currency", 8),
        ({"kind": None}, "schema.unexpected-element", "amount", 4),
        ({"currency": None}, "schema.missing-element", "currency", 2),
    ],
)
def test_each_kind_of_schema_error_has_its_rule(
    registry: SchemaRegistry, changes: dict[str, str | None], rule: str, field: str, line: int
) -> None:
    report = validate(message(payment(**changes)), source="p.xml", schemas=registry)
    assert [f.rule for f in report.findings] == [rule]
    (finding,) = report.findings
    assert finding.layer is Layer.SCHEMA
    assert finding.field == field
    assert finding.line == line
    assert finding.source == "p.xml"
    assert finding.xpath is not None and finding.xpath.startswith("/ceb:CEB411Message/ceb:Payment")
    assert field in finding.message_en and field in finding.message_zh
    assert rule in RULES and RULES[rule].title_zh


def test_messages_carry_the_schemas_numbers_but_never_the_documents_values(
    registry: SchemaRegistry,
) -> None:
    report = validate(message(payment(code="SECRETVALUE")), schemas=registry)
    (finding,) = report.findings
    assert finding.message_en == "code has 11 characters; at most 5 are allowed"
    assert "SECRETVALUE" not in finding.message_en + finding.message_zh


def test_attribute_errors(registry: SchemaRegistry) -> None:
    report = validate(message(payment(), attributes='version="1.0" flavour="x"'), schemas=registry)
    assert {(f.rule, f.field) for f in report.findings} == {
        ("schema.missing-attribute", "guid"),
        ("schema.unexpected-attribute", "flavour"),
    }
    short = validate(message(payment(), attributes='guid="ABC"'), schemas=registry)
    (finding,) = short.findings
    assert (finding.rule, finding.field, finding.xpath) == (
        "schema.length",
        "guid",
        "/ceb:CEB411Message",
    )


def test_every_error_is_reported_not_only_the_first(registry: SchemaRegistry) -> None:
    data = message(payment(code="TOOLONGCODE"), payment(kind="Z"), payment(count="x"))
    report = validate(data, schemas=registry)
    assert [(f.rule, f.xpath) for f in report.findings] == [
        ("schema.too-long", "/ceb:CEB411Message/ceb:Payment[1]/ceb:code"),
        ("schema.enumeration", "/ceb:CEB411Message/ceb:Payment[2]/ceb:kind"),
        ("schema.type", "/ceb:CEB411Message/ceb:Payment[3]/ceb:count"),
    ]


def test_default_namespace_documents_get_the_same_readable_xpath(
    registry: SchemaRegistry,
) -> None:
    data = message(payment(prefix="", kind="Z"), default_ns=True)
    (finding,) = validate(data, schemas=registry).findings
    assert finding.xpath == "/ceb:CEB411Message/ceb:Payment/ceb:kind"


def test_each_thread_has_its_own_compiled_schema(registry: SchemaRegistry) -> None:
    mine = registry.schema(Regime.DIRECT, Direction.IMPORT)
    assert registry.schema(Regime.DIRECT, Direction.IMPORT) is mine  # compiled once per thread
    other: list[object] = []
    thread = threading.Thread(
        target=lambda: other.append(registry.schema(Regime.DIRECT, Direction.IMPORT))
    )
    thread.start()
    thread.join()
    assert other[0] is not mine


def test_validating_from_several_threads_keeps_error_logs_apart(registry: SchemaRegistry) -> None:
    documents = [
        message(payment()),
        message(payment(code="TOOLONGCODE")),
        message(payment(kind="Z"), payment(count="x")),
        message(payment(stamp="1")),
    ] * 50

    def rules(data: bytes) -> list[tuple[str, str | None]]:
        return [(f.rule, f.xpath) for f in validate(data, schemas=registry).findings]

    serial = [rules(d) for d in documents]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(rules, documents)) == serial


def test_a_missing_schema_is_a_clear_error(tmp_path: Path) -> None:
    empty = SchemaRegistry(tmp_path)
    with pytest.raises(SchemaNotFoundError, match="regime 9610 import is missing"):
        validate(message(payment()), schemas=empty)


def test_unknown_libxml2_error_types_still_become_findings() -> None:
    explained = explain("SCHEMAV_CVC_IDC", "Element 'x': Duplicate key-sequence ['1'].")
    assert explained.rule.id == "schema.invalid"
    assert explained.field == "x"
    assert "'1'" not in explained.en


# -- the whole pipeline over the project's own xsd/ and the sample generator -----------------


def sample_set(
    regime: Regime, direction: Direction, seed: int = 0, prefix: str = ""
) -> dict[str, etree._Element]:
    (generated,) = generate_sets(regime, direction, seed=seed, count=1)
    return {prefix + name: root for name, root in generated.documents.items()}


def as_items(documents: dict[str, etree._Element]) -> list[tuple[str, bytes]]:
    return [(name, to_bytes(root)) for name, root in documents.items()]


def field(root: etree._Element, name: str) -> etree._Element:
    node = root.find(f".//{{{CEB}}}{name}")
    assert node is not None, name
    return node


REGIMES_AND_DIRECTIONS = [(r, d) for r in Regime for d in r.directions]


@pytest.mark.parametrize(("regime", "direction"), REGIMES_AND_DIRECTIONS)
def test_generated_sets_of_every_regime_pass_and_are_summarised(
    regime: Regime, direction: Direction
) -> None:
    items = as_items(sample_set(regime, direction))
    report = validate_set(items)
    assert report.findings == []
    assert [d.source for d in report.documents] == [name for name, _ in items]
    # Payments and waybills name no regime; they take the one their set names.
    assert {d.regime for d in report.documents} == {regime.value}
    assert {d.direction for d in report.documents} == {direction.value}
    assert all(d.guid and d.message_type for d in report.documents)


def test_a_single_document_report() -> None:
    documents = sample_set(Regime.DIRECT, Direction.IMPORT)
    order = documents["order-CEB311.xml"]
    report = validate(to_bytes(order), source="order.xml")
    assert report.valid
    assert report.documents == [
        DocumentSummary("order.xml", "CEB311", "import", "9610", order.get("guid"))
    ]


def test_a_document_that_fails_the_schema_is_not_rule_checked() -> None:
    order = sample_set(Regime.DIRECT, Direction.IMPORT)["order-CEB311.xml"]
    field(order, "totalPrice").text = "0.01"  # a business-rule breach: price × qty differs
    rule_only = validate(to_bytes(order))
    assert rule_only.by_layer(Layer.RULE), "the rules should see the wrong line total"
    field(order, "orderNo").text = "N" * 61  # and now a schema breach as well
    both = validate(to_bytes(order))
    assert [f.rule for f in both.findings] == ["schema.too-long"]
    assert both.by_layer(Layer.RULE) == []


def test_a_set_still_reconciles_the_documents_that_passed() -> None:
    documents = sample_set(Regime.DIRECT, Direction.IMPORT)
    field(documents["payment-CEB411.xml"], "amountPaid").text = "plenty"  # fails the schema
    field(documents["waybill-CEB511.xml"], "consignee").text = "另一个人"  # differs from order
    report = validate_set(as_items(documents))
    assert [(f.rule, f.source) for f in report.by_layer(Layer.SCHEMA)] == [
        ("schema.type", "payment-CEB411.xml")
    ]
    reconciled = report.by_layer(Layer.RECONCILE)
    assert any(f.source == "waybill-CEB511.xml" and f.field == "consignee" for f in reconciled), (
        reconciled
    )


def test_an_explicit_regime_must_agree_with_the_document() -> None:
    order = sample_set(Regime.B2B_DIRECT, Direction.EXPORT)["order-CEB303.xml"]
    as_9710 = validate(to_bytes(order), Regime.B2B_DIRECT)
    assert as_9710.valid and as_9710.documents[0].regime == "9710"
    as_9810 = validate(to_bytes(order), "9810")  # orderType B names 9710: never overridden
    assert not as_9810.valid
    assert [f.rule for f in as_9810.findings] == ["schema.regime-conflict"]
    with pytest.raises(ValueError, match="unknown regime"):
        validate(to_bytes(order), "9999")


def test_regime_that_does_not_fit_the_direction_is_a_finding() -> None:
    order = sample_set(Regime.DIRECT, Direction.IMPORT)["order-CEB311.xml"]
    report = validate(to_bytes(order), "9710")
    assert [f.rule for f in report.findings] == ["schema.regime-direction"]


def test_batch_groups_sets_and_attaches_reconciliation_to_the_right_files() -> None:
    first = sample_set(Regime.DIRECT, Direction.IMPORT, seed=1, prefix="a/")
    second = sample_set(Regime.DIRECT, Direction.IMPORT, seed=2, prefix="b/")
    export = sample_set(Regime.DIRECT, Direction.EXPORT, seed=3, prefix="e/")
    field(first["a/waybill-CEB511.xml"], "consigneeTelephone").text = "13900000000"
    items = as_items(first) + as_items(export) + as_items(second) + [("junk.xml", b"<a>")]
    items = items[::2] + items[1::2]  # interleave the sets
    reports = validate_batch(items)
    by_name = dict(zip([n for n, _ in items], reports, strict=True))
    assert [f.rule for f in by_name["junk.xml"].findings] == ["parse.malformed"]
    for name, report in by_name.items():
        if name.startswith(("b/", "e/")):
            assert report.valid, (name, report.findings)
    waybill = by_name["a/waybill-CEB511.xml"]
    assert any(f.layer is Layer.RECONCILE for f in waybill.findings), waybill.findings
    # Every document is checked once: the batch finds what validate_set finds for the set.
    alone = validate_set(as_items(first))
    assert sorted(f.rule for f in alone.findings) == sorted(
        f.rule for n, r in by_name.items() if n.startswith("a/") for f in r.findings
    )


def test_export_waybills_join_their_set_through_the_declaration_list() -> None:
    export = sample_set(Regime.DIRECT, Direction.EXPORT)
    parsed = [
        Document(name, root, BY_ROOT[etree.QName(root).localname], Direction.EXPORT)
        for name, root in export.items()
    ]
    assert group_sets(parsed) == [list(range(len(parsed)))]
    without_list = [d for d in parsed if d.message.code != "CEB603"]
    waybill = next(i for i, d in enumerate(without_list) if d.message.code == "CEB505")
    assert [waybill] in group_sets(without_list)  # nothing else names its logisticsNo


def test_pipeline_from_several_threads_matches_serial() -> None:
    documents = sample_set(Regime.BONDED, Direction.IMPORT)
    broken = sample_set(Regime.BONDED, Direction.IMPORT, seed=9)
    field(broken["inventory-CEB621.xml"], "gcode").text = "12345678901234"
    field(broken["order-CEB311.xml"], "currency").text = "1"
    inputs = [to_bytes(r) for r in (*documents.values(), *broken.values())] * 25

    def rules(data: bytes) -> list[tuple[str, str | None]]:
        return [(f.rule, f.xpath) for f in validate(data).findings]

    serial = [rules(d) for d in inputs]
    assert any(serial) and not all(serial)
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(rules, inputs)) == serial
