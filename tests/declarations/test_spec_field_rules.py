"""Rules the spec's field notes state: appType, ieFlag, statisticsFlag, code values, the direct
purchase 清单's transport, packNo, assureCode, goodsValue, a repeated orderNo, gnum gaps."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from lxml import etree

from declarations import validate_set
from declarations.document import Document
from declarations.findings import RULES, Finding, Severity
from declarations.messages import BY_ROOT, Direction, Regime
from declarations.rules import check_document
from declarations.rules.examples import get, head, lines, put
from declarations.samples import SampleSet, generate_sets, to_bytes


def sample(regime: Regime = Regime.DIRECT, direction: Direction = Direction.IMPORT) -> SampleSet:
    return next(
        s for s in generate_sets(regime, direction, seed=7, count=10) if len(s.deal.lines) >= 2
    )


def parsed(s: SampleSet, kind: str) -> Document:
    name, root = next((n, r) for n, r in s.documents.items() if n.startswith(kind))
    tree = etree.fromstring(to_bytes(root))
    message = BY_ROOT[etree.QName(tree).localname]
    return Document(name, tree, message, message.direction, s.deal.regime)


def found(s: SampleSet, kind: str, rule: str) -> list[Finding]:
    return [f for f in check_document(parsed(s, kind)) if f.rule == rule]


@pytest.mark.parametrize("regime", list(Regime))
def test_samples_pass_every_new_rule(regime: Regime) -> None:
    for direction in regime.directions:
        for s in generate_sets(regime, direction, seed=3, count=15):
            files = [(n, to_bytes(r)) for n, r in s.documents.items()]
            assert validate_set(files).findings == []


@pytest.mark.parametrize("kind", ["order", "payment", "waybill", "inventory"])
@pytest.mark.parametrize("direction", list(Direction))
def test_app_type_is_1_2_or_3(kind: str, direction: Direction) -> None:
    s = sample(Regime.DIRECT, direction)
    for value in ("1", "2", "3"):
        put(head(s, kind), "appType", value)
        assert found(s, kind, "document.app-type") == []
    put(head(s, kind), "appType", "9")
    (finding,) = found(s, kind, "document.app-type")
    assert finding.field == "appType" and "'9'" in finding.message_en


def test_code_fields_hold_codes_not_names() -> None:
    s = sample(Regime.DIRECT, Direction.EXPORT)
    put(head(s, "order"), "currency", "人民币")
    put(lines(s, "order")[0], "currency", "人民币")
    put(lines(s, "inventory")[1], "unit", "11吨")
    put(head(s, "inventory"), "portCode", "上海港区")
    order = found(s, "order", "document.code-format")
    assert [f.field for f in order] == ["currency", "currency"]
    assert "3-digit JGS-20 currency code" in order[0].message_en
    inventory = found(s, "inventory", "document.code-format")
    assert {f.field for f in inventory} == {"unit", "portCode"}
    assert any("line 2" in f.message_en for f in inventory)
    s = sample()
    put(lines(s, "inventory")[0], "unit1", "千克a")
    assert [f.field for f in found(s, "inventory", "document.code-format")] == ["unit1"]


def test_ie_flag_follows_the_message_direction() -> None:
    s = sample()
    put(head(s, "inventory"), "ieFlag", "E")
    assert [f.field for f in found(s, "inventory", "inventory.ie-flag")] == ["ieFlag"]
    s = sample(Regime.B2B_DIRECT, Direction.EXPORT)
    assert found(s, "inventory", "inventory.ie-flag") == []
    put(head(s, "inventory"), "ieFlag", "I")
    assert len(found(s, "inventory", "inventory.ie-flag")) == 1


def test_statistics_flag_is_a_or_b() -> None:
    s = sample(Regime.DIRECT, Direction.EXPORT)
    for value in ("A", "B"):
        put(head(s, "inventory"), "statisticsFlag", value)
        assert found(s, "inventory", "inventory.statistics-flag") == []
    put(head(s, "inventory"), "statisticsFlag", "C")
    assert len(found(s, "inventory", "inventory.statistics-flag")) == 1


@pytest.mark.parametrize("name", ["trafNo", "voyageNo", "billNo"])
def test_direct_purchase_list_names_its_transport(name: str) -> None:
    s = sample()
    node = head(s, "inventory").find("{*}" + name)
    assert node is not None
    node.getparent().remove(node)  # type: ignore[union-attr]
    (finding,) = found(s, "inventory", "inventory.direct-transport")
    assert name in finding.message_en
    # bonded import leaves them out (保税进口免填, p. 83)
    assert found(sample(Regime.BONDED), "inventory", "inventory.direct-transport") == []


def test_import_pack_no_is_1() -> None:
    s = sample(Regime.BONDED)
    put(head(s, "inventory"), "packNo", "3")
    (finding,) = found(s, "inventory", "inventory.pack-no")
    assert finding.field == "packNo"


def test_assure_code_names_a_party_of_the_list() -> None:
    s = sample()
    inventory = head(s, "inventory")
    for party in ("ebpCode", "ebcCode", "logisticsCode"):
        put(inventory, "assureCode", get(inventory, party))
        assert found(s, "inventory", "inventory.assure-code") == []
    put(inventory, "assureCode", "3301999999")
    (finding,) = found(s, "inventory", "inventory.assure-code")
    assert finding.field == "assureCode" and get(inventory, "ebcCode") in finding.message_en


@pytest.mark.parametrize("direction", list(Direction))
def test_goods_value_is_the_lines_total(direction: Direction) -> None:
    s = sample(Regime.DIRECT, direction)
    order = head(s, "order")
    total = sum((Decimal(get(line, "totalPrice")) for line in lines(s, "order")), Decimal(0))
    assert Decimal(get(order, "goodsValue")) == total
    put(order, "goodsValue", "0.01")  # what a public client sent against lines worth more
    (finding,) = found(s, "order", "order.goods-value")
    assert finding.severity is Severity.ERROR and finding.field == "goodsValue"
    assert RULES["order.goods-value"].spec_code is None


def test_a_message_names_each_order_number_once() -> None:
    s = sample()
    record = head(s, "order").getparent()
    assert record is not None
    for _ in range(9):  # ten Orders with one orderNo in one CEB311
        record.addnext(copy.deepcopy(record))
    repeated = found(s, "order", "document.repeated-order-no")
    assert len(repeated) == 9 and all(f.field == "orderNo" for f in repeated)
    assert "Order[2]" in (repeated[0].xpath or "")
    s = sample()
    record = head(s, "order").getparent()
    assert record is not None
    twin = copy.deepcopy(record)
    put(twin[0], "orderNo", get(twin[0], "orderNo") + "B")
    record.addnext(twin)
    assert found(s, "order", "document.repeated-order-no") == []


def test_gnum_gaps_and_duplicates_have_their_own_rules() -> None:
    assert RULES["order.gnum-sequence"].spec_code == "-301002"
    assert RULES["inventory.gnum-sequence"].spec_code == "-621027"
    for rule in ("order.gnum-gap", "inventory.gnum-gap", "inventory.export-gnum-sequence"):
        assert RULES[rule].spec_code is None
    s = sample()
    last = lines(s, "inventory")[-1]
    put(last, "gnum", str(int(get(last, "gnum")) + 1))
    assert [f.rule for f in check_document(parsed(s, "inventory"))] == ["inventory.gnum-gap"]
    # export 清单 rules carry no import (-621xxx) code
    s = sample(Regime.DIRECT, Direction.EXPORT)
    put(lines(s, "inventory")[-1], "gnum", "1")
    (finding,) = check_document(parsed(s, "inventory"))
    assert finding.rule == "inventory.export-gnum-sequence" and finding.spec_code is None


def test_export_list_rules_carry_no_import_codes() -> None:
    s = sample(Regime.B2B_DIRECT, Direction.EXPORT)
    put(head(s, "inventory"), "ieFlag", "I")
    put(head(s, "inventory"), "statisticsFlag", "Z")
    put(lines(s, "inventory")[-1], "gnum", "1")
    codes = {f.spec_code for f in check_document(parsed(s, "inventory"))}
    assert codes == {None}
