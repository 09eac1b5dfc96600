"""Receipts danchuang emits validate against the official 202205 receipt structure."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from lxml import etree

from declarations import Layer, validate
from declarations.codes import ReturnStatus
from declarations.identifiers import invt_no, pre_no
from declarations.messages import Direction
from declarations.receipts import (
    FAILS_SCHEMA,
    FormatReceipt,
    ReceiptEntry,
    build_format_receipt,
    build_receipt,
    original_type,
    receipt_keys,
    receipt_type,
    return_time,
)

GUID = "4CDE1CFD-EDED-46B1-946C-B8022E42FC94"
WHEN = datetime(2026, 11, 11, 0, 0, 5, 123456)

HEADS = {
    "CEB311": {"ebpCode": "3301960ABC", "ebcCode": "3301960ABD", "orderNo": "SO2026111100001"},
    "CEB411": {"payCode": "31222699S7", "payTransactionId": "PAY2026111100001"},
    "CEB511": {"logisticsCode": "3120980105", "logisticsNo": "YT2026111100001"},
    "CEB621": {
        "customsCode": "2991",
        "ebpCode": "3301960ABC",
        "ebcCode": "3301960ABD",
        "agentCode": "3301980ABE",
        "copNo": "COP2026111100001",
    },
    # after the 清单
    "CEB513": {
        "logisticsCode": "3120980105",
        "logisticsNo": "YT2026111100001",
        "logisticsStatus": "S",
    },
    "CEB623": {
        "customsCode": "2991",
        "agentCode": "3301980ABE",
        "ebpCode": "3301960ABC",
        "ebcCode": "3301960ABD",
        "copNo": "COP2026111100001",
    },
    "CEB625": {
        "customsCode": "2991",
        "agentCode": "3301980ABE",
        "ebpCode": "3301960ABC",
        "ebcCode": "3301960ABD",
        "copNo": "COP2026111100001",
    },
    "CEB711": {"customsCode": "2991", "operatorCode": "3301980SIT", "copNo": "RK2026111100001"},
    "CEB303": {"ebpCode": "3301960ABC", "ebcCode": "3301960ABD", "orderNo": "EO2026111100001"},
    "CEB403": {"ebcCode": "3301960ABD", "orderNo": "EO2026111100001", "payNo": "R1"},
    "CEB505": {"logisticsCode": "3120980105", "logisticsNo": "EX2026111100001"},
    "CEB507": {
        "operatorCode": "3301980SIT",
        "logisticsCode": "3120980105",
        "copNo": "YD2026111100001",
        "billNo": "784-12345675",
        "msgSeqNo": "1",
    },
    "CEB509": {"logisticsCode": "3120980105", "copNo": "LJ2026111100001", "msgSeqNo": "1"},
    "CEB605": {"agentCode": "3301980ABE", "copNo": "CX2026111100001"},
    "CEB607": {
        "agentCode": "3301980ABE",
        "logisticsCode": "3120980105",
        "copNo": "ZF2026111100001",
        "billNo": "784-12345675",
        "msgSeqNo": "1",
    },
    "CEB213": {
        "ebpCode": "3301960ABC",
        "ebcCode": "3301960ABD",
        "agentCode": "3301980ABE",
        "coElNo": "TH2026111100001",
    },
    "CEB215": {
        "operatorCode": "3301980SIT",
        "logisticsCode": "3120980105",
        "logisticsNo": "EX2026111100001",
        "coElNo": "LH2026111100001",
    },
    "CEB701": {
        "agentCode": "3301980ABE",
        "ebcCode": "3301960ABD",
        "copNo": "HZ2026111100001",
        "msgSeqNo": "1",
    },
    "CEB603": {
        "agentCode": "3301980ABE",
        "copNo": "COP2026111100002",
        "ebcCode": "3301960ABD",
        "ebpCode": "3301960ABC",
        "orderNo": "EO2026111100001",
        "statisticsFlag": "A",
    },
}


def assigned_numbers(code: str) -> dict[str, str]:
    if code in ("CEB621", "CEB623", "CEB625"):  # the 清单's numbers, which the others name
        return {
            "preNo": pre_no(date(2026, 11, 11), 1),
            "invtNo": invt_no("2991", 2026, Direction.IMPORT, 42),
        }
    if code in ("CEB507", "CEB509", "CEB607", "CEB215", "CEB701"):
        return {"preNo": pre_no(date(2026, 11, 11), 3)}
    if code in ("CEB605", "CEB213"):  # they name the export 清单
        return {
            "preNo": pre_no(date(2026, 11, 11), 3),
            "invtNo": invt_no("2991", 2026, Direction.EXPORT, 42),
        }
    if code == "CEB603":
        return {
            "preNo": pre_no(date(2026, 11, 11), 2),
            "invtNo": invt_no("2991", 2026, Direction.EXPORT, 42),
        }
    return {}


@pytest.fixture(scope="module")
def official_schemas(official_dir: Path) -> dict[Direction, etree.XMLSchema]:
    return {
        Direction.IMPORT: etree.XMLSchema(etree.parse(official_dir / "xsd/ceb-import-202205.xsd")),
        Direction.EXPORT: etree.XMLSchema(etree.parse(official_dir / "xsd/ceb-export-202205.xsd")),
    }


@pytest.mark.parametrize("data_code", sorted(HEADS))
def test_every_receipt_we_emit_is_officially_valid(
    data_code: str, official_schemas: dict[Direction, etree.XMLSchema]
) -> None:
    receipt = receipt_type(data_code)
    keys = receipt_keys(data_code, GUID, HEADS[data_code], assigned_numbers(data_code))
    statuses = [ReturnStatus.DECLARING, ReturnStatus.SENT, ReturnStatus.ACCEPTED]
    entries = [ReceiptEntry(keys, int(s), s.meaning_zh, WHEN) for s in statuses]
    xml = build_receipt(receipt.code, entries)
    doc = etree.fromstring(xml)
    schema = official_schemas[receipt.direction]
    assert schema.validate(doc), schema.error_log
    assert doc.tag.endswith(receipt.root)
    nodes = list(doc)
    assert [n.findtext("{*}returnStatus") for n in nodes] == ["2", "3", "120"]
    assert nodes[0].findtext("{*}guid") == GUID


def _form(xml: bytes) -> tuple[str, set[str | None], dict[str | None, str]]:
    """What a client that parses receipts by hand sees: the XML declaration as written, the
    prefixes of the elements, and the root's namespace declarations."""
    text = xml.decode("utf-8").lstrip("\ufeff")
    declaration = text[: text.index("?>") + 2]
    root = etree.fromstring(xml)
    return declaration, {element.prefix for element in root.iter()}, dict(root.nsmap)


@pytest.mark.parametrize("data_code", sorted(HEADS))
def test_every_receipt_has_the_form_of_its_official_sample(
    data_code: str, official_dir: Path
) -> None:
    """Clients written against the real E-Port read receipts by prefix (or by none): the import
    samples use the default namespace, the export ones ``ceb:``."""
    receipt = receipt_type(data_code)
    keys = receipt_keys(data_code, GUID, HEADS[data_code], assigned_numbers(data_code))
    ours = build_receipt(receipt.code, [ReceiptEntry(keys, 2, "-", WHEN)])
    sample = official_dir / "samples" / receipt.direction.value / f"{receipt.root}.xml"
    assert _form(ours) == _form(sample.read_bytes())


def test_return_time_has_milliseconds() -> None:
    assert return_time(WHEN) == "20261111000005123"


def test_missing_required_key_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="preNo"):
        build_receipt("CEB622", [ReceiptEntry({"guid": GUID, "copNo": "C1"}, 120, "入库", WHEN)])


def test_identifiers_have_the_spec_shapes() -> None:
    assert pre_no(date(2016, 5, 12), 1882) == "B20160512000001882"
    assert len(invt_no("2991", 2026, Direction.IMPORT, 1)) == 18
    assert len(invt_no("2991", 2026, Direction.EXPORT, 1)) == 20
    with pytest.raises(ValueError):
        invt_no("29A1", 2026, Direction.IMPORT, 1)


@pytest.mark.parametrize(
    "original",
    [
        b'<?xml version="1.0"?><ceb:CEB311Message xmlns:ceb="x">\xe8\xae\xa2\xe5\x8d\x95</x>',
        b"not xml ]]> at all",  # closes a CDATA section itself
        b"\xff\xfe\x00binary\x01",  # not UTF-8, control characters
    ],
)
def test_a_format_receipt_is_officially_valid_and_carries_the_original(
    original: bytes, official_schemas: dict[Direction, etree.XMLSchema]
) -> None:
    receipt = FormatReceipt(FAILS_SCHEMA, "[schema.type] x", WHEN, original, "Unknown", GUID, GUID)
    doc = etree.fromstring(build_format_receipt(receipt))
    schema = official_schemas[Direction.IMPORT]  # the structure defines CEB900 with the import
    assert schema.validate(doc), schema.error_log
    kept = doc.findtext("{*}MessageReturn/{*}oriBizMessage")
    assert kept == original.decode("utf-8", errors="replace").replace("\x00", "\ufffd").replace(
        "\x01", "\ufffd"
    )
    assert doc.findtext("{*}MessageReturn/{*}returnStatus") == "-2"
    # our own import schema knows CEB900 too, and agrees
    report = validate(build_format_receipt(receipt), "9610")
    assert [f.rule for f in report.findings if f.layer in (Layer.PARSE, Layer.SCHEMA)] == []
    assert report.documents[0].message_type == "CEB900"


def test_the_original_type_is_a_ceb_root_or_unknown() -> None:
    assert original_type("CEB311Message") == "CEB311Message"
    assert original_type("order") == original_type(None) == "Unknown"


def test_an_arrival_without_a_bill_is_answered_with_an_empty_bill_no(
    official_schemas: dict[Direction, etree.XMLSchema],
) -> None:
    """CEB508 requires billNo (§2.8.4 p. 21) though a CEB507 may name none (mail): it is written
    empty, which the official structure allows."""
    head = {k: v for k, v in HEADS["CEB507"].items() if k != "billNo"}
    keys = receipt_keys("CEB507", GUID, head, assigned_numbers("CEB507"))
    xml = build_receipt("CEB508", [ReceiptEntry(keys, 399, "海关审结", WHEN)])
    doc = etree.fromstring(xml)
    assert official_schemas[Direction.EXPORT].validate(doc)
    assert doc.findtext("{*}ArrivalReturn/{*}billNo") == ""
