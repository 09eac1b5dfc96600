"""The official 202205 sample messages against our schemas.

- 9610 import (the official import structure) accepts every import sample we cover.
- 1210 import rejects exactly one of them, CEB621, for exactly the bonded rules it breaks.
- Most export data samples repeat ``BaseTransfer``; ours rejects them at the official's line.
- Two export samples have errors of their own (CEB214, CEB792); ours rejects them where the
  official structure does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from ceb_cases import (
    COVERED,
    EXPORT_DATA,
    EXPORT_RECEIPTS,
    FLAWED_SAMPLES,
    IMPORT_RECEIPTS,
    REPEATED_TRANSFER,
    SCHEMA_FILES,
)
from lxml import etree
from schema_support import SchemaLoader

pytestmark = pytest.mark.official

Sample = Callable[[str, str], etree._ElementTree]
Official = Callable[[str], etree.XMLSchema]
NS = {"ceb": "http://www.chinaport.gov.cn/ceb"}


def errors(schema: etree.XMLSchema, tree: etree._ElementTree) -> list[tuple[int, str]]:
    """(line, element local name) of every error, in the order libxml2 reports them."""
    schema.validate(tree)
    return [
        (e.line, e.path.rsplit("/", 1)[-1].split(":")[-1].split("[")[0]) for e in schema.error_log
    ]


def test_the_samples_start_with_a_byte_order_mark(official_dir: Path) -> None:
    """Why ``sample`` parses files as bytes: decoding them first would leave a stray U+FEFF."""
    path = official_dir / "samples" / "import" / "CEB311Message.xml"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("code", COVERED["import"])
def test_9610_import_accepts_every_official_import_sample(
    ours: SchemaLoader, sample: Sample, code: str
) -> None:
    schema = ours("9610", "import")
    assert schema.validate(sample("import", code)), schema.error_log


@pytest.mark.parametrize("code", [c for c in COVERED["import"] if c != "CEB621"])
def test_1210_import_accepts_the_samples_that_carry_no_inventory(
    ours: SchemaLoader, sample: Sample, code: str
) -> None:
    schema = ours("1210", "import")
    assert schema.validate(sample("import", code)), schema.error_log


def test_1210_import_rejects_the_sample_inventory_for_its_direct_purchase_values(
    ours: SchemaLoader, sample: Sample
) -> None:
    """The CEB621 sample is a 9610 inventory: all ten records say tradeMode 9610 (1210 needs
    1210) and five say country 116 (bonded goods leave a zone in China: 142). Its emsNo,
    areaCode/areaName and line itemRecordNo are filled, so those bonded rules pass."""
    tree = sample("import", "CEB621")
    head = "ceb:Inventory/ceb:InventoryHead"
    trade_modes = tree.xpath(f"{head}/ceb:tradeMode", namespaces=NS)
    foreign = [c for c in tree.xpath(f"{head}/ceb:country", namespaces=NS) if c.text != "142"]
    assert (len(trade_modes), len(foreign)) == (10, 5)

    found = errors(ours("1210", "import"), tree)

    assert Counter(name for _, name in found) == {"tradeMode": 10, "country": 5}
    expected = [(e.sourceline, "tradeMode") for e in trade_modes]
    expected += [(e.sourceline, "country") for e in foreign]
    assert sorted(found) == sorted(expected)


@pytest.mark.parametrize(("regime", "direction"), SCHEMA_FILES)
def test_every_schema_accepts_the_official_receipt_samples_of_its_direction(
    ours: SchemaLoader, sample: Sample, regime: str, direction: str
) -> None:
    schema = ours(regime, direction)
    for code in IMPORT_RECEIPTS if direction == "import" else EXPORT_RECEIPTS:
        if code not in FLAWED_SAMPLES:
            assert schema.validate(sample(direction, code)), (code, schema.error_log)


def test_which_export_data_samples_repeat_base_transfer(sample: Sample) -> None:
    """Found by counting, not assumed: which covered export samples have two BaseTransfer."""
    repeating = {
        code
        for code in COVERED["export"]
        if len(sample("export", code).xpath("ceb:BaseTransfer", namespaces=NS)) > 1
    }
    assert repeating == set(REPEATED_TRANSFER)


@pytest.mark.parametrize(("regime", "direction"), SCHEMA_FILES[2:])
def test_every_export_schema_accepts_the_sound_export_data_samples(
    ours: SchemaLoader, sample: Sample, regime: str, direction: str
) -> None:
    """The export data samples without a flaw of their own: the return application and its
    tally, and the summary application (no regime rule touches them)."""
    schema = ours(regime, direction)
    sound = set(EXPORT_DATA) - set(REPEATED_TRANSFER) - set(FLAWED_SAMPLES)
    assert sound == {"CEB213", "CEB215", "CEB701"}
    for code in sorted(sound):
        assert schema.validate(sample(direction, code)), (code, schema.error_log)


@pytest.mark.parametrize("code", FLAWED_SAMPLES)
def test_9610_export_rejects_the_flawed_samples_as_the_official_does(
    ours: SchemaLoader, official: Official, sample: Sample, code: str
) -> None:
    """CEB214's root is not a declared element; CEB792's lines lack gseqno (one error a line)."""
    tree = sample("export", code)
    theirs = errors(official("export"), tree)
    mine = errors(ours("9610", "export"), tree)
    assert mine == theirs
    expected = 1 if code == "CEB214" else len(tree.xpath("//ceb:SummaryResultList", namespaces=NS))
    assert len(theirs) == expected


@pytest.mark.parametrize("code", REPEATED_TRANSFER)
def test_9610_export_rejects_the_repeated_base_transfer_at_the_official_line(
    ours: SchemaLoader, official: Official, sample: Sample, code: str
) -> None:
    tree = sample("export", code)
    second_transfer = tree.xpath("ceb:BaseTransfer", namespaces=NS)[1].sourceline

    theirs = errors(official("export"), tree)
    mine = errors(ours("9610", "export"), tree)

    assert theirs == [(second_transfer, "BaseTransfer")]
    # The CEB603 sample also says tradeMode 0101, which 9610 export deliberately refuses.
    assert [e for e in mine if e[1] != "tradeMode"] == theirs
    trade_mode_errors = [e for e in mine if e[1] == "tradeMode"]
    assert len(trade_mode_errors) == (10 if code == "CEB603" else 0)
