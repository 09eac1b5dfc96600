"""The official 202205 import samples through the whole pipeline: structurally sound for 9610,
and their business-rule breaches reported by the rule layer (issue: declarations core)."""

from __future__ import annotations

from pathlib import Path

import pytest

from declarations import Layer, validate, validate_set

COVERED = ["CEB311", "CEB411", "CEB511", "CEB621", "CEB312", "CEB412", "CEB512", "CEB622"]


@pytest.mark.parametrize("code", COVERED)
def test_official_import_sample_passes_our_schema_layer(official_dir: Path, code: str) -> None:
    xml = (official_dir / f"samples/import/{code}Message.xml").read_bytes()
    report = validate(xml, "9610", source=f"{code}Message.xml")
    assert [f for f in report.findings if f.layer in (Layer.PARSE, Layer.SCHEMA)] == []


def test_official_order_breaches_are_rule_findings(official_dir: Path) -> None:
    xml = (official_dir / "samples/import/CEB311Message.xml").read_bytes()
    report = validate(xml, "9610", source="CEB311Message.xml")
    rules = {f.rule for f in report.findings if f.layer is Layer.RULE}
    # Line 2 of each order: qty 200 × price 10 is not the totalPrice 12000 it declares.
    assert "order.line-total" in rules
    # goodsValue 14000 + freight 5000: over the 5,000 CNY single-transaction limit.
    assert "limit.order-single-transaction" in rules
    line_total = next(f for f in report.findings if f.rule == "order.line-total")
    assert line_total.field == "totalPrice" and line_total.line is not None


def test_official_import_set_is_reconciled(official_dir: Path) -> None:
    docs = [
        (f"{code}Message.xml", (official_dir / f"samples/import/{code}Message.xml").read_bytes())
        for code in ("CEB311", "CEB411", "CEB511", "CEB621")
    ]
    report = validate_set(docs, "9610")
    assert not report.valid
    assert {f.layer for f in report.findings} >= {Layer.RULE}
    assert all(f.layer not in (Layer.PARSE, Layer.SCHEMA) for f in report.findings)
