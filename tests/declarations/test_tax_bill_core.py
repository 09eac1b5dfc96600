"""The electronic tax bill (CEB816) and its status (CEB818) as the core builds them: the
project's CBEC tax per 清单 line, and messages that pass our schema and the official XSD."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from declarations import (
    TaxBill,
    TaxBillStatus,
    build_tax_bill,
    build_tax_status,
    tax_bill_of,
    tax_total_mismatch,
    validate,
)

HEAD = {"freight": "10", "insuredFee": "0", "customsCode": "5141", "assureCode": "4403920669"}
LINES = [
    {"gnum": "1", "gcode": "3304990099", "totalPrice": "100", "qty": "2"},
    {"gnum": "2", "gcode": "1901101090", "totalPrice": "50", "qty": "1"},
]
WHEN = datetime(2026, 12, 5, 3, 4, 5, tzinfo=UTC)


def test_the_bill_is_the_retail_import_tax_per_line() -> None:
    bill = tax_bill_of(HEAD, LINES, invt_no="514120261000000123")
    # (150 + 10 freight) x 13 % x 70 % = 14.56, the freight shared 2:1 by value
    assert bill.total == Decimal("14.56") and bill.customs_tax == 0
    assert [line.tax_price for line in bill.lines] == [Decimal("106.66667"), Decimal("53.33333")]
    assert bill.tax_no == "51412026100000012301" and not bill.full_rate
    assert TaxBill.from_json(bill.to_json()) == bill


def test_one_item_over_5000_is_taxed_in_full() -> None:
    line = [{"gnum": "1", "gcode": "7113190000", "totalPrice": "8000", "qty": "1"}]
    bill = tax_bill_of({}, line, invt_no="514120261000000124")
    assert bill.full_rate and bill.value_added_tax == Decimal("1040.00")  # 13 % in full


def test_the_order_tax_total_is_compared_with_the_bill() -> None:
    bill = tax_bill_of(HEAD, LINES, invt_no="514120261000000123")
    assert tax_total_mismatch("14.56", bill) is None
    assert tax_total_mismatch(None, bill) is None
    text = tax_total_mismatch("13.00", bill)
    assert text is not None and "13.00" in text and "14.56" in text


@pytest.mark.parametrize("status", list(TaxBillStatus))
def test_the_messages_pass_our_schema_and_the_official_one(
    official_dir: Path, status: TaxBillStatus
) -> None:
    official = etree.XMLSchema(etree.parse(str(official_dir / "xsd" / "ceb-import-202205.xsd")))
    bill = tax_bill_of(HEAD, LINES, invt_no="514120261000000123")
    duty = "5141202701050001" if status is TaxBillStatus.SUMMED else None
    for xml in (
        build_tax_bill(bill, status, WHEN, ent_duty_no=duty, note="x"),
        build_tax_status(bill, status, WHEN, ent_duty_no=duty),
    ):
        report = validate(xml, source="bill")
        assert report.valid and not report.findings, report.findings
        assert official.validate(etree.fromstring(xml)), official.error_log
    root = etree.fromstring(build_tax_status(bill, status, WHEN, ent_duty_no=duty))
    assert root.findtext(".//{*}status") == str(int(status))
    assert root.findtext(".//{*}assureCode") == "4403920669"


def test_a_bill_over_the_limits_is_refused() -> None:
    lines = [{"gnum": "1", "totalPrice": "4000", "qty": "2"}, {"gnum": "2", "totalPrice": "2000"}]
    with pytest.raises(ValueError, match="single-transaction limit"):
        tax_bill_of({}, lines, invt_no="514120261000000125")
