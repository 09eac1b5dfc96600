"""The identify step: message type and direction from the root, regime from caller or document."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from declarations import Kind, check
from declarations.identify import SUPPORTED, identify, parse_regime
from declarations.messages import BY_ROOT, CEB_NS, Direction, Regime
from declarations.parsing import parse_xml
from declarations.samples import generate_sets, to_bytes


def message(root: str, record: str = "", head: str = "", **fields: str) -> etree._Element:
    """A skeleton message: the root, one record, and the given fields in its head."""
    inner = "".join(f"<ceb:{name}>{value}</ceb:{name}>" for name, value in fields.items())
    if head:
        inner = f"<ceb:{head}>{inner}</ceb:{head}>"
    if record:
        inner = f"<ceb:{record}>{inner}</ceb:{record}>"
    xml = f'<ceb:{root} xmlns:ceb="{CEB_NS}" guid="G" version="1.0">{inner}</ceb:{root}>'
    return etree.fromstring(xml.encode())


@pytest.mark.parametrize("root", sorted(BY_ROOT))
def test_every_catalogued_root_is_identified_with_its_direction(root: str) -> None:
    identified = identify(message(root), source="m.xml")
    assert identified.findings == ()
    document = identified.document
    assert document is not None
    assert document.message is BY_ROOT[root]
    assert document.direction is BY_ROOT[root].direction
    assert document.source == "m.xml"
    assert document.regime is Regime.DIRECT  # nothing names another regime
    assert identified.tentative


@pytest.mark.parametrize(
    ("order_type", "regime", "tentative"),
    [
        ("E", Regime.DIRECT, True),
        ("B", Regime.B2B_DIRECT, False),
        ("W", Regime.OVERSEAS_WAREHOUSE, False),
    ],
)
def test_export_order_type_names_the_regime(
    order_type: str, regime: Regime, tentative: bool
) -> None:
    root = message("CEB303Message", "Order", "OrderHead", orderType=order_type)
    identified = identify(root)
    assert identified.document is not None
    assert identified.document.regime is regime
    assert identified.tentative is tentative  # E is B2C export: 9610, or 1210 from a zone


@pytest.mark.parametrize("code", ["9610", "1210", "9710", "9810"])
def test_export_declaration_list_trade_mode_names_the_regime(code: str) -> None:
    root = message("CEB603Message", "Inventory", "InventoryHead", tradeMode=code)
    identified = identify(root)
    assert identified.document is not None
    assert identified.document.regime is Regime(code)
    assert not identified.tentative


@pytest.mark.parametrize(("mode", "regime"), [("9661", Regime.DIRECT), ("1261", Regime.BONDED)])
def test_an_export_return_names_the_regime_of_its_export(mode: str, regime: Regime) -> None:
    """CEB213's tradeMode is the return's own 监管方式: 9661 returns a 9610 export, 1261 a
    special-zone one (§2.17.4 p. 45); asking for the other regime is a conflict."""
    root = message("CEB213Message", "InvtRefund", "InvtRefundHead", tradeMode=mode)
    identified = identify(root)
    assert identified.document is not None and identified.document.regime is regime
    assert identified.tentative is (mode == "9661")  # a general export: 9610, 9710 or 9810
    if mode == "9661":
        chosen = identify(root, regime=Regime.OVERSEAS_WAREHOUSE).document
        assert chosen is not None and chosen.regime is Regime.OVERSEAS_WAREHOUSE
    other = Regime.BONDED if regime is Regime.DIRECT else Regime.DIRECT
    (conflict,) = identify(root, regime=other).findings
    assert conflict.rule == "schema.regime-conflict" and f"tradeMode {mode}" in conflict.message_en
    unnamed = identify(message("CEB213Message", "InvtRefund", "InvtRefundHead"))
    assert unnamed.document is not None and unnamed.tentative


@pytest.mark.parametrize(
    ("fields", "regime"),
    [
        ({"tradeMode": "1210"}, Regime.BONDED),
        ({"tradeMode": "9610"}, Regime.DIRECT),
        ({"emsNo": "T2900W000001"}, Regime.BONDED),
        ({"areaCode": "3302460000"}, Regime.BONDED),
        ({"tradeMode": "9710", "emsNo": "T2900W000001"}, Regime.BONDED),  # 9710 is export only
        ({}, Regime.DIRECT),
    ],
)
def test_import_declaration_list(fields: dict[str, str], regime: Regime) -> None:
    root = message("CEB621Message", "Inventory", "InventoryHead", **fields)
    document = identify(root).document
    assert document is not None
    assert document.regime is regime


@pytest.mark.parametrize(
    ("root", "regime"),
    [
        (message("CEB303Message", "Order", "OrderHead", orderType="B"), Regime.B2B_DIRECT),
        (message("CEB303Message", "Order", "OrderHead", orderType="E"), Regime.BONDED),  # B2C
        (message("CEB621Message", "Inventory", "InventoryHead", tradeMode="1210"), Regime.BONDED),
        (message("CEB411Message", "Payment", "PaymentHead"), Regime.BONDED),  # names no regime
    ],
)
def test_an_explicit_regime_serves_where_the_message_agrees_or_says_nothing(
    root: etree._Element, regime: Regime
) -> None:
    identified = identify(root, regime=regime)
    assert identified.findings == ()
    assert identified.document is not None
    assert identified.document.regime is regime
    assert not identified.tentative


@pytest.mark.parametrize(
    ("root", "regime", "named"),
    [
        (message("CEB303Message", "Order", "OrderHead", orderType="B"),
         Regime.OVERSEAS_WAREHOUSE, "9710 (orderType B)"),
        (message("CEB303Message", "Order", "OrderHead", orderType="E"),
         Regime.B2B_DIRECT, "1210 or 9610 (orderType E)"),
        (message("CEB621Message", "Inventory", "InventoryHead", tradeMode="9610"),
         Regime.BONDED, "9610 (tradeMode 9610)"),
        (message("CEB603Message", "Inventory", "InventoryHead", tradeMode="9810"),
         Regime.DIRECT, "9810 (tradeMode 9810)"),
    ],
)  # fmt: skip
def test_an_explicit_regime_never_overrides_what_the_message_says(
    root: etree._Element, regime: Regime, named: str
) -> None:
    identified = identify(root, source="m.xml", regime=regime)
    assert identified.document is None
    (finding,) = identified.findings
    assert finding.rule == "schema.regime-conflict"
    assert named in finding.message_en and f"regime {regime.value} " in finding.message_en
    stated = named.partition(" (")[0]
    assert regime.value in finding.message_zh and stated in finding.message_zh
    assert finding.source == "m.xml" and finding.spec_code == "0002"


def test_unknown_root_names_itself_and_the_supported_messages() -> None:
    root = etree.fromstring(f'<ceb:CEB999Message xmlns:ceb="{CEB_NS}"/>'.encode())
    (finding,) = identify(root).findings
    assert finding.rule == "schema.unknown-message"
    assert "CEB999Message" in finding.message_en
    assert "CEB311Message" in finding.message_en and "CEB604Message" in finding.message_en
    assert SUPPORTED in finding.message_zh


def test_a_known_root_outside_the_ceb_namespace() -> None:
    for xml in (b"<CEB311Message/>", b'<x:CEB311Message xmlns:x="urn:other"/>'):
        (finding,) = identify(etree.fromstring(xml)).findings
        assert finding.rule == "schema.namespace"
        assert CEB_NS in finding.message_en


def test_parse_regime() -> None:
    assert parse_regime(None) is None
    assert parse_regime("1210") is Regime.BONDED
    assert parse_regime(" 9810 ") is Regime.OVERSEAS_WAREHOUSE
    assert parse_regime(Regime.B2B_DIRECT) is Regime.B2B_DIRECT
    with pytest.raises(ValueError, match="unknown regime '0110'; expected one of 9610, 1210"):
        parse_regime("0110")


def test_direction_comes_from_the_message() -> None:
    assert identify(message("CEB411Message")).document.direction is Direction.IMPORT  # type: ignore[union-attr]
    assert identify(message("CEB403Message")).document.direction is Direction.EXPORT  # type: ignore[union-attr]


@pytest.mark.official
def test_official_samples_parse_and_identify(official_dir: Path) -> None:
    """The official 202205 samples (with their UTF-8 BOMs) pass the hardened parse; the ones
    we catalogue are identified, the others (status, returns, summaries...) named as unknown."""
    for path in sorted((official_dir / "samples").glob("*/*.xml")):
        parsed = parse_xml(path.read_bytes(), source=path.name)
        assert parsed.findings == (), path.name
        assert parsed.root is not None
        identified = identify(parsed.root, source=path.name)
        root_name = etree.QName(parsed.root).localname  # CEB214Message.xml's root is "CEB214"
        if root_name in BY_ROOT:
            assert identified.document is not None, path.name
            assert identified.document.message.root == root_name
            assert identified.document.direction.value == path.parent.name
        else:  # only the CEB214 sample, whose root lacks "Message"
            assert path.name == "CEB214Message.xml"
            assert [f.rule for f in identified.findings] == ["schema.unknown-message"]
            assert "the spec names its root CEB214Message" in identified.findings[0].message_en


@pytest.mark.official
def test_every_message_type_of_the_spec_is_catalogued(official_dir: Path) -> None:
    """The official samples name the business message types of chapters 2 and 3, data and
    receipts: 23 export and 16 import (customs' tax bill CEB816, its status CEB818 and the
    format-check receipt CEB900 have none, and are catalogued too). danchuang knows each."""
    assert {"CEB816Message", "CEB818Message", "CEB900Message"} <= set(BY_ROOT)
    for direction, count in (("export", 23), ("import", 16)):
        roots = {p.stem for p in (official_dir / "samples" / direction).glob("*.xml")}
        assert len(roots) == count
        assert {r for r in roots if r not in BY_ROOT} == set(), direction
        assert {BY_ROOT[r].direction.value for r in roots} == {direction}


def test_trademode_1239_is_a_special_area_export_under_1210_and_no_import() -> None:
    """The official export structure: 特殊区域出口为1210/1239; the import one: 保税进口1210."""
    for direction, valid in ((Direction.EXPORT, True), (Direction.IMPORT, False)):
        sample_set = generate_sets(Regime.BONDED, direction, seed=5, count=1)[0]
        inventory = next(
            r
            for r in sample_set.documents.values()
            if BY_ROOT[etree.QName(r).localname].kind is Kind.INVENTORY
        )
        inventory.find(f".//{{{CEB_NS}}}tradeMode").text = "1239"  # type: ignore[union-attr]
        checked = check(to_bytes(inventory))
        assert checked.document is not None and checked.document.regime is Regime.BONDED
        rules = {f.rule for f in checked.report.findings}
        assert checked.report.valid is valid, rules
        if not valid:
            assert "schema.enumeration" in rules
