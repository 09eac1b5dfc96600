"""The official 202205 import samples through the whole pipeline: structurally sound for 9610,
and their business-rule breaches reported by the rule layer (issue: declarations core)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from declarations import BY_ROOT, Direction, Layer, validate, validate_set
from declarations.identify import SUPPORTED

# The official package has a sample of every import message but customs' own tax bill, its
# status and the format-check receipt (CEB816, CEB818, CEB900), which danchuang writes itself.
NO_SAMPLE = {"CEB816", "CEB818", "CEB900"}
IMPORT = sorted(
    m.code for m in BY_ROOT.values() if m.direction is Direction.IMPORT and m.code not in NO_SAMPLE
)


@pytest.mark.parametrize("code", IMPORT)
def test_official_import_sample_passes_our_schema_layer(official_dir: Path, code: str) -> None:
    path = official_dir / f"samples/import/{code}Message.xml"
    report = validate(path.read_bytes(), "9610", source=path.name)
    assert [f for f in report.findings if f.layer in (Layer.PARSE, Layer.SCHEMA)] == []


def test_every_import_message_of_the_spec_is_known(official_dir: Path) -> None:
    """No import root of the official structure is reported as an unknown message, and the
    list ``schema.unknown-message`` prints names them all."""
    xsd = etree.parse(str(official_dir / "xsd/ceb-import-202205.xsd")).getroot()
    roots = {
        e.get("name")
        for e in xsd.iterchildren("{http://www.w3.org/2001/XMLSchema}element")
        if (e.get("name") or "").startswith("CEB")
    }
    assert roots <= set(BY_ROOT)
    assert all(root in SUPPORTED for root in roots)
    for sample in sorted((official_dir / "samples/import").glob("*.xml")):
        rules = {f.rule for f in validate(sample.read_bytes(), "9610").findings}
        assert "schema.unknown-message" not in rules, sample.name


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


EXPORT_AFTER = ("CEB213", "CEB215", "CEB507", "CEB509", "CEB605", "CEB607", "CEB701")


@pytest.mark.parametrize("code", EXPORT_AFTER)
def test_official_export_samples_after_the_list_breach_only_what_they_do(
    official_dir: Path, code: str
) -> None:
    """The export samples after the 清单 (issue 14) through the whole pipeline, with their
    repeated BaseTransfer taken out (the schema refuses it, tests/schemas): what remains are
    rule findings, and those only where the sample breaks the spec's text — CEB213 leaves out
    tradeMode, which §2.17.4 p. 45 requires (9661 or 1261), in every record that does."""
    path = official_dir / f"samples/export/{code}Message.xml"
    root = etree.parse(str(path)).getroot()
    for extra in root.findall("{*}BaseTransfer")[1:]:
        root.remove(extra)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    report = validate(data, source=code)
    layers = {f.layer for f in report.findings if f.layer is not Layer.SIGNATURE}
    assert layers <= {Layer.RULE}, report.findings
    sent = etree.fromstring(data)  # (the lines of what was validated)
    missing = [h for h in sent.iter("{*}InvtRefundHead") if h.find("{*}tradeMode") is None]
    breaches = sorted((f.rule, f.line) for f in report.findings if f.layer is Layer.RULE)
    assert breaches == sorted(("return.trade-mode", h.sourceline) for h in missing)
    assert (len(missing) > 0) is (code == "CEB213")
