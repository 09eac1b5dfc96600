"""CBEC import tax (财关税〔2016〕18号, 〔2018〕49号) against cases computed by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from declarations.tax import TaxableLine, apportion, import_tax, line_tax

D = Decimal


def test_within_limits_no_excise_is_9_1_percent() -> None:
    # 1,000 × 13 % × 70 % = 91.00; duty 0
    tax = import_tax([TaxableLine(D("1000"))])
    assert (tax.customs_duty, tax.vat, tax.consumption_tax, tax.total) == (
        D("0.00"),
        D("91.00"),
        D("0.00"),
        D("91.00"),
    )
    assert not tax.full_rate


def test_cosmetics_with_15_percent_consumption_tax() -> None:
    # CT = 1000 / 0.85 × 0.15 × 0.7 = 123.5294… → 123.53
    # VAT = (1000 + 176.4705…) × 0.13 × 0.7 = 107.0588… → 107.06
    tax = import_tax([TaxableLine(D("1000"), consumption_tax_rate=D("0.15"))])
    assert tax.consumption_tax == D("123.53")
    assert tax.vat == D("107.06")
    assert tax.total == D("230.59")
    # the combined rate (13 % + 15 %) / (1 − 15 %) × 70 % = 23.0588… %
    assert abs(tax.total - D("1000") * D("0.28") / D("0.85") * D("0.7")) < D("0.01")


def test_freight_and_insurance_are_part_of_the_dutiable_value() -> None:
    # (200 + 20 + 5) × 9.1 % = 20.475 → 20.48 (ROUND_HALF_UP)
    tax = import_tax([TaxableLine(D("200"))], freight=D("20"), insured_fee=D("5"))
    assert tax.lines[0].dutiable_value == D("225")
    assert tax.vat == D("20.48")


def test_freight_is_apportioned_by_value_and_adds_up_exactly() -> None:
    shares = apportion([D("100"), D("200"), D("0.01")], D("10"))
    assert shares[0] == D("3.33322")  # 10 × 100 / 300.01, kept to N19,5
    assert sum(shares) == D("10")
    tax = import_tax([TaxableLine(D("100")), TaxableLine(D("200"))], freight=D("30"))
    assert [t.dutiable_value for t in tax.lines] == [D("110"), D("220")]
    # per-line rounding: 110 × 0.091 = 10.01, 220 × 0.091 = 20.02
    assert tax.vat == D("30.03")


def test_single_item_over_5000_is_taxed_in_full_with_duty() -> None:
    # one watch of 8,000, duty 10 %, VAT 13 %, no excise:
    # duty 800; VAT = (8000 + 800) × 13 % = 1144
    tax = import_tax([TaxableLine(D("8000"), duty_rate=D("0.10"))], single_item=True)
    assert tax.full_rate
    assert (tax.customs_duty, tax.vat, tax.consumption_tax) == (D("800.00"), D("1144.00"), D(0))
    assert tax.total == D("1944.00")


def test_single_item_with_excise_in_full() -> None:
    # 10,000 of cosmetics, duty 5 %, CT 15 %: duty 500; CT = 10500 / 0.85 × 0.15 = 1852.94;
    # VAT = (10500 + 1852.941…) × 0.13 = 1605.88
    line = TaxableLine(D("10000"), consumption_tax_rate=D("0.15"), duty_rate=D("0.05"))
    tax = import_tax([line], single_item=True)
    assert (tax.customs_duty, tax.consumption_tax, tax.vat) == (
        D("500.00"),
        D("1852.94"),
        D("1605.88"),
    )


def test_duty_rate_is_ignored_within_limits() -> None:
    tax = import_tax([TaxableLine(D("4000"), duty_rate=D("0.2"))])
    assert tax.customs_duty == 0
    assert tax.vat == D("364.00")


def test_over_5000_and_not_a_single_item_is_not_retail_import() -> None:
    with pytest.raises(ValueError, match="5,000"):
        import_tax([TaxableLine(D("3000")), TaxableLine(D("2500"))])
    with pytest.raises(ValueError, match="single item"):
        import_tax([TaxableLine(D("6000"))], single_item=False)
    with pytest.raises(ValueError, match="26,000"):
        import_tax([TaxableLine(D("26000"))], single_item=True)


def test_round_half_up_to_the_fen() -> None:
    # 1.25 × 10 % = 0.125: ROUND_HALF_UP gives 0.13 where banker's rounding would give 0.12
    line = TaxableLine(D("1.25"), vat_rate=D("0.10"))
    assert line_tax(D("1.25"), line, full_rate=True).vat == D("0.13")
    # 5 × 9.1 % = 0.455 → 0.46
    assert line_tax(D("5"), TaxableLine(D("5")), full_rate=False).vat == D("0.46")


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        TaxableLine(D("-1"))
    with pytest.raises(ValueError):
        TaxableLine(D("1"), consumption_tax_rate=D("1"))
    with pytest.raises(ValueError):
        import_tax([])
