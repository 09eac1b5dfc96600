"""Sample sets: schema-valid (ours and the official), rule-clean, realistic, deterministic."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from declarations import validate_set
from declarations.messages import CEB_NS, DSIG_NS, Direction, Regime
from declarations.paths import xsd_root
from declarations.reconcile import check_set
from declarations.rules import check_document
from declarations.samples import generate_sets, id_check_digit, to_bytes
from declarations.xmldsig import Problem, verify_signature

COMBINATIONS = [(r, d) for r in Regime for d in r.directions]
IDS = [f"{r.value}-{d.value}" for r, d in COMBINATIONS]
C = "{" + CEB_NS + "}"


@cache
def our_schema(regime: Regime, direction: Direction) -> etree.XMLSchema:
    path = xsd_root() / regime.value / f"{direction.value}.xsd"
    if not path.is_file():
        pytest.skip(f"{path} is not written yet")
    return etree.XMLSchema(etree.parse(str(path)))


@cache
def official_schema(folder: Path, direction: Direction) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(folder / "xsd" / f"ceb-{direction.value}-202205.xsd")))


@pytest.mark.parametrize(("regime", "direction"), COMBINATIONS, ids=IDS)
def test_samples_pass_our_schema_rules_and_reconciliation(
    regime: Regime, direction: Direction
) -> None:
    schema = our_schema(regime, direction)
    for sample in generate_sets(regime, direction, seed=1, count=10):
        for name, root in sample.documents.items():
            reparsed = etree.fromstring(to_bytes(root))
            assert schema.validate(reparsed), (sample.name, name, schema.error_log.last_error)
        documents = sample.as_documents()
        assert [f for d in documents for f in check_document(d)] == []
        assert check_set(documents) == []


@pytest.mark.parametrize(("regime", "direction"), COMBINATIONS, ids=IDS)
def test_samples_pass_the_whole_pipeline(regime: Regime, direction: Direction) -> None:
    for sample in generate_sets(regime, direction, seed=2, count=5):
        report = validate_set([(n, to_bytes(r)) for n, r in sample.documents.items()])
        assert report.findings == []
        assert {d.regime for d in report.documents} == {regime.value}


@pytest.mark.official
@pytest.mark.parametrize(("regime", "direction"), COMBINATIONS, ids=IDS)
def test_samples_pass_the_official_schema(
    official_dir: Path, regime: Regime, direction: Direction
) -> None:
    schema = official_schema(official_dir, direction)
    for sample in generate_sets(regime, direction, seed=3, count=5):
        for name, root in sample.documents.items():
            assert schema.validate(root), (sample.name, name, schema.error_log.last_error)


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    def written(seed: int, folder: str) -> dict[str, bytes]:
        for sample in generate_sets(Regime.BONDED, Direction.IMPORT, seed=seed, count=3):
            sample.write(tmp_path / folder)
        return {
            str(p.relative_to(tmp_path / folder)): p.read_bytes()
            for p in sorted((tmp_path / folder).rglob("*.xml"))
        }

    first, again, other = written(7, "a"), written(7, "b"), written(8, "c")
    assert len(first) == 12 and first == again
    assert first.keys() == other.keys() and first != other


GUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$")


@pytest.mark.parametrize(("regime", "direction"), COMBINATIONS, ids=IDS)
def test_values_are_realistic(regime: Regime, direction: Direction) -> None:
    for sample in generate_sets(regime, direction, seed=4, count=10):
        buyer = sample.deal.buyer.id_number
        assert len(buyer) == 18 and buyer[-1] == id_check_digit(buyer[:17])
        datetime.strptime(buyer[6:14], "%Y%m%d")
        for root in sample.documents.values():
            assert GUID.match(root.get("guid", ""))
            record_guid = root[0].findtext(f".//{C}guid")
            assert record_guid == root.get("guid")
            for node in root.iter(f"{C}appTime"):
                datetime.strptime(node.text or "", "%Y%m%d%H%M%S")
            for name in ("qty", "price", "totalPrice", "goodsValue", "freight", "acturalPaid"):
                for node in root.iter(C + name):
                    amount = Decimal(node.text or "x")
                    exponent = amount.as_tuple().exponent
                    assert amount >= 0 and isinstance(exponent, int) and -exponent <= 5
        inventory = next(r for n, r in sample.documents.items() if n.startswith("inventory"))
        pre_no = inventory.findtext(f".//{C}preNo") or ""
        assert re.fullmatch(r"B\d{8}\d{9}", pre_no)
        invt_no = inventory.findtext(f".//{C}invtNo") or ""
        assert re.fullmatch(r"\d{4}\d{4}[01]\d{9,11}", invt_no)
        assert inventory.findtext(f".//{C}tradeMode") == regime.value


@pytest.mark.parametrize("regime", [Regime.B2B_DIRECT, Regime.OVERSEAS_WAREHOUSE])
def test_b2b_sets_stay_on_the_list_route(regime: Regime) -> None:
    order_type = {Regime.B2B_DIRECT: "B", Regime.OVERSEAS_WAREHOUSE: "W"}[regime]
    for sample in generate_sets(regime, Direction.EXPORT, seed=5, count=20):
        assert sample.deal.goods_value <= 5000
        assert [n.split("-")[0] for n in sample.documents] == ["order", "waybill", "inventory"]
        order = sample.documents["order-CEB303.xml"]
        assert order.findtext(f".//{C}orderType") == order_type


def test_import_list_is_signed_for_real_and_the_same_seed_writes_the_same_bytes() -> None:
    sample = generate_sets(Regime.DIRECT, Direction.IMPORT, seed=6)[0]
    root = sample.documents["inventory-CEB621.xml"]
    assert etree.QName(root[-1]).text == "{" + DSIG_NS + "}Signature"
    written = to_bytes(root)
    assert verify_signature(written).problems == {}
    assert verify_signature(etree.tostring(root)).problems == {}  # the tree itself, as built
    again = generate_sets(Regime.DIRECT, Direction.IMPORT, seed=6)[0]
    assert to_bytes(again.documents["inventory-CEB621.xml"]) == written
    # an edited tree is signed again as written: its file still verifies
    root.find(f".//{C}orderNo").text = "EDITED-1"  # type: ignore[union-attr]
    assert verify_signature(to_bytes(root)).problems == {}
    assert Problem.DIGEST in verify_signature(etree.tostring(root)).problems


def test_regime_without_the_direction_is_refused() -> None:
    with pytest.raises(ValueError, match="9710 has no import"):
        generate_sets(Regime.B2B_DIRECT, Direction.IMPORT)
