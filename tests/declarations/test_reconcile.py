"""Reconciliation across a set (三单对碰): pairs, links, lines, completeness, grouping."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from lxml import etree

from declarations.document import Document
from declarations.findings import Finding, Layer, Severity
from declarations.messages import BY_CODE, BY_ROOT, Direction, Regime
from declarations.reconcile import check_set, group_deals
from declarations.rules.examples import get, head, lines, put
from declarations.samples import SampleSet, generate_sets, to_bytes

D = Decimal


def sets(regime: Regime = Regime.DIRECT, direction: Direction = Direction.IMPORT, n: int = 2):
    found = [
        s for s in generate_sets(regime, direction, seed=21, count=30) if len(s.deal.lines) > 1
    ]
    return found[:n]


def sample(regime: Regime = Regime.DIRECT, direction: Direction = Direction.IMPORT) -> SampleSet:
    return sets(regime, direction, 1)[0]


def docs(s: SampleSet, *, without: tuple[str, ...] = ()) -> list[Document]:
    """The set's documents parsed from bytes (so findings carry lines), minus some kinds."""
    found = []
    for name, root in s.documents.items():
        if name.split("-")[0] in without:
            continue
        element = etree.fromstring(to_bytes(root))
        message = BY_ROOT[etree.QName(element).localname]
        found.append(Document(name, element, message, message.direction, s.deal.regime))
    return found


def rules(findings: list[Finding]) -> list[str]:
    return sorted(f.rule for f in findings)


def only(findings: list[Finding], rule: str) -> Finding:
    matching = [f for f in findings if f.rule == rule]
    assert len(matching) == 1, findings
    return matching[0]


@pytest.mark.parametrize("regime", list(Regime))
def test_sample_sets_reconcile_cleanly(regime: Regime) -> None:
    for direction in regime.directions:
        for s in generate_sets(regime, direction, seed=8, count=5):
            assert check_set(docs(s)) == []


def test_import_payment_must_equal_acturalpaid() -> None:
    s = sample()
    paid = D(get(head(s, "payment"), "amountPaid"))
    put(head(s, "payment"), "amountPaid", f"{paid + D('0.50'):f}")
    finding = only(check_set(docs(s)), "reconcile.payment-amount")
    assert finding.layer is Layer.RECONCILE and finding.field == "amountPaid"
    assert finding.source == "payment-CEB411.xml" and isinstance(finding.line, int)
    assert str(paid.normalize()) in finding.message_en and "order-CEB311.xml" in finding.message_en


def test_export_receipt_may_be_lowered_by_a_coupon_but_warns_above_goods_plus_freight() -> None:
    # charge is the transaction amount (p. 10), goodsValue includes non-cash deductions (p. 4)
    s = sample(Regime.DIRECT, Direction.EXPORT)
    order = head(s, "order")
    expected = D(get(order, "goodsValue")) + D(get(order, "freight"))
    assert D(get(head(s, "payment"), "charge")) == expected
    put(head(s, "payment"), "charge", f"{expected - 5:f}")  # a 5 CNY coupon
    assert check_set(docs(s)) == []
    put(head(s, "payment"), "charge", f"{expected + 5:f}")
    finding = only(check_set(docs(s)), "reconcile.export-charge")
    assert finding.severity is Severity.WARNING and finding.field == "charge"
    s = sample(Regime.DIRECT, Direction.EXPORT)
    put(head(s, "payment"), "currency", "502")
    assert only(check_set(docs(s)), "reconcile.payment-amount").field == "currency"


def test_payment_names_the_order_platform() -> None:
    s = sample()
    put(head(s, "payment"), "ebpCode", "9999999999")
    assert only(check_set(docs(s)), "reconcile.payment-link").field == "ebpCode"


@pytest.mark.parametrize("field", ["consignee", "consigneeTelephone", "consigneeAddress"])
def test_order_and_waybill_name_the_same_consignee(field: str) -> None:
    s = sample()
    put(head(s, "waybill"), field, get(head(s, "waybill"), field) + "1")
    finding = only(check_set(docs(s)), "reconcile.consignee")
    assert finding.field == field and finding.source == "waybill-CEB511.xml"


@pytest.mark.parametrize("field", ["payerName", "payerIdNumber"])
def test_buyer_is_the_payer(field: str) -> None:
    s = sample()
    put(head(s, "payment"), field, "X" + get(head(s, "payment"), field)[1:])
    finding = only(check_set(docs(s)), "reconcile.buyer-payer")
    # a warning: 公告2018年第194号 asks it only of unauthenticated orderers, which no field tells
    assert finding.field == field and finding.severity is Severity.WARNING


def test_list_buyer_is_the_order_buyer() -> None:
    s = sample()
    put(head(s, "inventory"), "buyerIdNumber", "110105199001011234")
    assert only(check_set(docs(s)), "reconcile.inventory-buyer").field == "buyerIdNumber"


@pytest.mark.parametrize("field", ["ebpCode", "ebcCode"])
def test_list_names_the_order_enterprises(field: str) -> None:
    s = sample(Regime.BONDED)
    put(head(s, "inventory"), field, "0000000000")
    assert only(check_set(docs(s)), "reconcile.inventory-order-link").field == field


def test_list_names_the_waybill_carrier() -> None:
    s = sample(Regime.B2B_DIRECT, Direction.EXPORT)
    put(head(s, "inventory"), "logisticsCode", "0000000000")
    assert only(check_set(docs(s)), "reconcile.inventory-waybill-link").field == "logisticsCode"


def test_import_list_with_another_waybill_number_is_still_found_by_order() -> None:
    s = sample()
    put(head(s, "inventory"), "logisticsNo", "SF0000000000000")
    finding = only(check_set(docs(s)), "reconcile.inventory-waybill-link")
    assert finding.field == "logisticsNo" and finding.source == "inventory-CEB621.xml"


def test_import_waybill_of_another_order_is_found_by_waybill_number() -> None:
    s = sample()
    put(head(s, "waybill"), "orderNo", "I000")
    finding = only(check_set(docs(s)), "reconcile.waybill-order-link")
    assert finding.field == "orderNo" and finding.source == "waybill-CEB511.xml"


@pytest.mark.parametrize(
    ("regime", "order_type", "flagged"),
    [(Regime.DIRECT, "E", False), (Regime.DIRECT, "B", True), (Regime.B2B_DIRECT, "W", True),
     (Regime.OVERSEAS_WAREHOUSE, "B", True), (Regime.BONDED, "W", True)],
)  # fmt: skip
def test_list_trade_mode_fits_the_order_type(
    regime: Regime, order_type: str, flagged: bool
) -> None:
    s = sample(regime, Direction.EXPORT)
    put(head(s, "order"), "orderType", order_type)
    found = check_set(docs(s))
    if not flagged:
        assert found == []
        return
    finding = only(found, "reconcile.trade-mode")
    assert finding.field == "tradeMode" and regime.value in finding.message_en


def test_list_lines_pair_with_order_lines() -> None:
    s = sample()
    last = lines(s, "inventory")[-1]
    last.getparent().remove(last)  # type: ignore[union-attr]
    finding = only(check_set(docs(s)), "reconcile.inventory-lines")
    assert "missing from the 清单" in finding.message_en
    s = sample()
    last = lines(s, "order")[-1]
    last.getparent().remove(last)  # type: ignore[union-attr]
    finding = only(check_set(docs(s)), "reconcile.inventory-lines")
    assert finding.field == "gnum" and "no order line" in finding.message_en


def test_list_goods_names_and_skus_match_the_order() -> None:
    s = sample()
    put(lines(s, "inventory")[1], "gname", "别的商品")
    finding = only(check_set(docs(s)), "reconcile.inventory-goods")
    assert finding.field == "gname" and "InventoryList[2]" in (finding.xpath or "")
    s = sample(Regime.OVERSEAS_WAREHOUSE, Direction.EXPORT)
    put(lines(s, "inventory")[0], "itemNo", "OTHER")
    assert only(check_set(docs(s)), "reconcile.inventory-goods").field == "itemNo"


def test_an_export_sku_longer_than_the_list_field_is_not_compared() -> None:
    # the order's itemNo is C..30 (p. 4), the 清单's C..20 (p. 30): a 25-character SKU cannot
    # be repeated, so the 清单 may hold any 20-character form of it
    s = sample(Regime.DIRECT, Direction.EXPORT)
    put(lines(s, "order")[0], "itemNo", "SKU-" + "7" * 21)
    put(lines(s, "inventory")[0], "itemNo", "SKU-" + "7" * 16)
    assert check_set(docs(s)) == []
    put(lines(s, "order")[0], "itemNo", "SKU-" + "7" * 16)  # fits: compared as before
    put(lines(s, "inventory")[0], "itemNo", "SKU-" + "8" * 16)
    assert only(check_set(docs(s)), "reconcile.inventory-goods").field == "itemNo"


@pytest.mark.parametrize("field", ["qty", "price"])
def test_list_quantities_and_prices_match_the_order(field: str) -> None:
    s = sample(Regime.DIRECT, Direction.EXPORT)
    line = lines(s, "inventory")[0]
    put(line, field, f"{D(get(line, field)) + 1:f}")
    assert only(check_set(docs(s)), "reconcile.inventory-amounts").field == field


def test_missing_documents_are_errors_once_the_list_is_declared() -> None:
    s = sample()
    finding = only(check_set(docs(s, without=("payment", "waybill"))), "reconcile.missing-document")
    assert finding.severity is Severity.ERROR and finding.source == "inventory-CEB621.xml"
    assert "payment (CEB411 支付单)" in finding.message_en
    assert "waybill (CEB511 物流运单)" in finding.message_en
    assert "支付单、物流运单" in finding.message_zh


def test_a_set_in_progress_is_reported_as_a_warning() -> None:
    s = sample()
    finding = only(check_set(docs(s, without=("inventory",))), "reconcile.missing-document")
    assert finding.severity is Severity.WARNING and "进口清单" in finding.message_zh


@pytest.mark.parametrize("regime", [Regime.B2B_DIRECT, Regime.OVERSEAS_WAREHOUSE])
def test_b2b_sets_need_no_receipt_of_payment(regime: Regime) -> None:
    s = sample(regime, Direction.EXPORT)
    assert check_set(docs(s)) == []
    finding = only(check_set(docs(s, without=("waybill",))), "reconcile.missing-document")
    assert "CEB505" in finding.message_en and "CEB403" not in finding.message_en


def test_export_waybill_without_its_list_stands_alone() -> None:
    s = sample(Regime.BONDED, Direction.EXPORT)
    deals = group_deals(docs(s, without=("inventory",)))
    assert len(deals) == 2  # order + receipt; the waybill has no orderNo to join them
    findings = check_set(docs(s, without=("inventory",)))
    assert rules(findings) == ["reconcile.missing-document"] * 2
    assert all(f.severity is Severity.WARNING for f in findings)


def test_unrelated_sets_in_one_call_are_reconciled_apart() -> None:
    first, second = sets(Regime.DIRECT, Direction.IMPORT, 2)
    mixed = docs(first) + docs(second, without=("payment",))
    random.Random(3).shuffle(mixed)
    finding = only(check_set(mixed), "reconcile.missing-document")
    assert second.deal.order_no in finding.message_en
    assert first.deal.order_no not in finding.message_en


def _merge(target: SampleSet, other: SampleSet) -> None:
    """Move every business record of ``other`` into the same message of ``target``."""
    for name, root in target.documents.items():
        other_root = other.documents[name]
        records = [e for e in other_root if etree.QName(e).localname not in ("BaseTransfer",)]
        records = [e for e in records if etree.QName(e).namespace == root.nsmap["ceb"]]
        anchor = root.find("{*}BaseTransfer")
        assert anchor is not None
        for record in records:
            anchor.addprevious(record)


def test_messages_with_several_records_reconcile_record_by_record() -> None:
    first, second = sets(Regime.BONDED, Direction.IMPORT, 2)
    _merge(first, second)
    assert len(group_deals(docs(first))) == 2
    assert check_set(docs(first)) == []
    payments = first.documents["payment-CEB411.xml"].findall("{*}Payment")
    assert len(payments) == 2
    put(payments[1][0], "amountPaid", "1.00")
    finding = only(check_set(docs(first)), "reconcile.payment-amount")
    assert finding.xpath == "/ceb:CEB411Message/ceb:Payment[2]/ceb:PaymentHead/ceb:amountPaid"


def test_a_second_document_of_a_kind_is_reported() -> None:
    s = sample(Regime.B2B_DIRECT, Direction.EXPORT)
    twice = docs(s) + [d for d in docs(s) if d.message.code == "CEB303"]
    finding = only(check_set(twice), "reconcile.duplicate-document")
    assert "second order" in finding.message_en


def test_receipts_and_empty_calls_are_ignored() -> None:
    receipt = etree.Element("{http://www.chinaport.gov.cn/ceb}CEB312Message")
    document = Document("receipt.xml", receipt, BY_CODE["CEB312"], Direction.IMPORT)
    assert check_set([document]) == []
    assert check_set([]) == []
