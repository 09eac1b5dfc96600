"""Business rules on single documents, on sample sets with one targeted change each."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from declarations.document import Document
from declarations.findings import RULES, Finding, Layer, Severity
from declarations.messages import BY_ROOT, Direction, Regime
from declarations.quota import InMemoryQuota
from declarations.rules import check_document
from declarations.rules._common import HEAD_FIELDS, LINE_FIELDS, Node
from declarations.rules.examples import get, head, lines, put, reprice
from declarations.samples import SampleSet, generate_sets, to_bytes

D = Decimal


def sample(regime: Regime = Regime.DIRECT, direction: Direction = Direction.IMPORT) -> SampleSet:
    """A set with at least two lines, so that gnum and limit cases have room."""
    sets = generate_sets(regime, direction, seed=11, count=20)
    return next(s for s in sets if len(s.deal.lines) >= 2)


def parsed(s: SampleSet, kind: str, regime: Regime | None = None) -> Document:
    """The document of ``kind`` as the pipeline sees it: parsed from bytes, with lines."""
    name, root = next((n, r) for n, r in s.documents.items() if n.startswith(kind))
    element = etree.fromstring(to_bytes(root))
    message = BY_ROOT[etree.QName(element).localname]
    chosen = s.deal.regime if regime is None else regime
    return Document(name, element, message, message.direction, chosen)


def rules_of(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def only(findings: list[Finding], rule: str) -> Finding:
    matching = [f for f in findings if f.rule == rule]
    assert len(matching) == 1, findings
    return matching[0]


def test_rules_are_registered_with_titles_and_spec_codes() -> None:
    mine = {k: v for k, v in RULES.items() if v.layer in (Layer.RULE, Layer.RECONCILE)}
    assert len(mine) >= 20
    for info in mine.values():
        assert info.title_en and info.title_zh
    assert RULES["order.gnum-sequence"].spec_code == "-301002"
    assert RULES["inventory.gnum-sequence"].spec_code == "-621027"
    assert RULES["limit.single-transaction"].spec_code == "-621005"
    assert RULES["limit.annual"].spec_code == "-621018"
    assert RULES["limit.single-item-full-tax"].severity is Severity.WARNING


@pytest.mark.parametrize("regime", list(Regime))
def test_samples_pass_every_rule(regime: Regime) -> None:
    for direction in regime.directions:
        for s in generate_sets(regime, direction, seed=5, count=5):
            for name in s.documents:
                assert check_document(parsed(s, name.split("-")[0]), quota=InMemoryQuota()) == []


def test_actural_paid_finding_names_values_field_xpath_and_line() -> None:
    s = sample()
    order = head(s, "order")
    put(order, "acturalPaid", "1.00")
    finding = only(check_document(parsed(s, "order")), "order.actural-paid")
    assert finding.layer is Layer.RULE and finding.severity is Severity.ERROR
    assert finding.field == "acturalPaid"
    assert finding.xpath == "/ceb:CEB311Message/ceb:Order/ceb:OrderHead/ceb:acturalPaid"
    assert isinstance(finding.line, int) and finding.line > 1
    assert finding.source == "order-CEB311.xml"
    expected = (
        D(get(order, "goodsValue"))
        + D(get(order, "freight"))
        + D(get(order, "taxTotal"))
        - D(get(order, "discount"))
    )
    assert (
        "acturalPaid 1 " in finding.message_en and str(expected.normalize()) in finding.message_en
    )
    assert "实际支付金额 1 " in finding.message_zh


@pytest.mark.parametrize(
    ("delta", "flagged"), [("0.009", False), ("-0.009", False), ("0.01", True)]
)
def test_amounts_agree_to_the_fen(delta: str, flagged: bool) -> None:
    s = sample()
    order = head(s, "order")
    put(order, "acturalPaid", f"{D(get(order, 'acturalPaid')) + D(delta):f}")
    assert ("order.actural-paid" in rules_of(check_document(parsed(s, "order")))) is flagged


def test_line_total_tolerates_unit_prices_kept_to_five_decimals() -> None:
    s = sample()
    for kind in ("order", "inventory"):
        line = lines(s, kind)[0]
        put(line, "qty", "3")
        put(line, "price", "3.33333")
        put(line, "totalPrice", "10.00")  # 9.99999 rounded to the fen
        assert "inventory.line-total" not in rules_of(check_document(parsed(s, kind)))
        assert "order.line-total" not in rules_of(check_document(parsed(s, kind)))
        put(line, "totalPrice", "10.01")
    assert "order.line-total" in rules_of(check_document(parsed(s, "order")))
    finding = only(check_document(parsed(s, "inventory")), "inventory.line-total")
    assert finding.xpath is not None and finding.xpath.endswith(
        "ceb:InventoryList[1]/ceb:totalPrice"
    )
    assert "10.01" in finding.message_en and "9.99999" in finding.message_en


@pytest.mark.parametrize("kind", ["order", "inventory"])
def test_duplicate_gnum_is_reported_on_the_duplicate_line(kind: str) -> None:
    s = sample()
    put(lines(s, kind)[1], "gnum", "1")
    finding = only(check_document(parsed(s, kind)), f"{kind}.gnum-sequence")
    assert finding.spec_code == ("-301002" if kind == "order" else "-621027")
    assert finding.xpath is not None and "List[2]/ceb:gnum" in finding.xpath


def test_gnum_gap_is_reported() -> None:
    s = sample()
    found = lines(s, "order")
    put(found[-1], "gnum", str(len(found) + 1))  # 1, 2, …, n-1, n+1
    finding = only(check_document(parsed(s, "order")), "order.gnum-gap")
    assert finding.spec_code is None  # -301002 speaks of duplicates only (p. 113)
    numbers = ", ".join(str(n) for n in [*range(1, len(found)), len(found) + 1])
    assert numbers in finding.message_en
    assert finding.xpath is not None and finding.xpath.endswith(f"List[{len(found)}]/ceb:gnum")


def test_export_order_may_use_any_currency_but_one() -> None:
    s = sample(Regime.DIRECT, Direction.EXPORT)
    put(head(s, "order"), "currency", "502")
    for line in lines(s, "order"):
        put(line, "currency", "502")
    assert check_document(parsed(s, "order")) == []
    put(lines(s, "order")[1], "currency", "142")
    assert rules_of(check_document(parsed(s, "order"))) == ["order.currency"]


def test_facts_the_schema_enforces_are_not_repeated_as_rules() -> None:
    # currency 142 on import documents, buyer/payer ID type 1 and the orderType of each regime
    # are facets of our XSDs: the schema layer reports them before any rule runs
    assert not {"payment.currency", "waybill.currency", "inventory.currency"} & set(RULES)
    assert not {"order.buyer-id-type", "payment.payer-id-type", "order.type"} & set(RULES)


def test_over_5000_is_rejected_on_order_and_list() -> None:
    s = sample()
    reprice(s, D("6000"))
    order = only(check_document(parsed(s, "order")), "limit.order-single-transaction")
    assert order.spec_code is None and order.field == "goodsValue"
    listed = only(check_document(parsed(s, "inventory")), "limit.single-transaction")
    assert listed.spec_code == "-621005" and listed.severity is Severity.ERROR
    assert "5,000" in listed.message_en and "5000元" in listed.message_zh


def test_single_item_over_5000_passes_with_a_warning() -> None:
    s = sample()
    reprice(s, D("8000"), single_item=True)
    for kind in ("order", "inventory"):
        finding = only(check_document(parsed(s, kind)), "limit.single-item-full-tax")
        assert finding.severity is Severity.WARNING
        assert "taxed in full" in finding.message_en


def test_single_item_of_26000_or_more_is_rejected() -> None:
    s = sample()
    reprice(s, D("26500"), single_item=True)
    # one purchase over 26,000 also exceeds the annual limit on its own
    found = rules_of(check_document(parsed(s, "inventory")))
    assert found == ["limit.single-transaction", "limit.annual"]


def test_two_units_are_not_a_single_item() -> None:
    s = sample()
    reprice(s, D("3000"), single_item=True)
    line = lines(s, "inventory")[0]
    put(line, "qty", "2")
    put(line, "totalPrice", "6000")
    assert rules_of(check_document(parsed(s, "inventory"))) == ["limit.single-transaction"]


def _list_value(s: SampleSet) -> Decimal:
    total = sum((D(get(line, "totalPrice")) for line in lines(s, "inventory")), D(0))
    inventory = head(s, "inventory")
    return total + D(get(inventory, "freight")) + D(get(inventory, "insuredFee"))


def test_annual_limit_uses_the_quota_of_the_declaration_year() -> None:
    s = sample()
    buyer, value = s.deal.buyer.id_number, _list_value(s)
    year = int(get(head(s, "inventory"), "declTime")[:4])
    quota = InMemoryQuota()
    quota.add(buyer, D(26000) - value, date(year, 1, 1))  # exactly at the limit: fine
    assert check_document(parsed(s, "inventory"), quota=quota) == []
    quota.add(buyer, D("0.01"), date(year, 6, 1))
    finding = only(check_document(parsed(s, "inventory"), quota=quota), "limit.annual")
    assert finding.spec_code == "-621018" and buyer in finding.message_en
    other_year = InMemoryQuota()
    other_year.add(buyer, D(25999), date(year - 1, 12, 31))
    assert check_document(parsed(s, "inventory"), quota=other_year) == []


def test_annual_limit_counts_several_lists_of_one_message_together() -> None:
    s = sample()
    reprice(s, D("4400"), single_item=True)
    record = head(s, "inventory").getparent()
    assert record is not None
    for n in range(2, 7):  # six purchases of about 4,400 by one buyer: over 26,000
        twin = etree.fromstring(etree.tostring(record))
        put(twin[0], "orderNo", f"{get(twin[0], 'orderNo')}{n}")
        record.addnext(twin)
    findings = check_document(parsed(s, "inventory"))
    assert rules_of(findings) == ["limit.annual"]
    assert findings[0].xpath is not None and "ceb:Inventory[6]" in findings[0].xpath


@pytest.mark.parametrize("regime", [Regime.B2B_DIRECT, Regime.OVERSEAS_WAREHOUSE])
def test_b2b_list_route_is_for_at_most_5000(regime: Regime) -> None:
    s = sample(regime, Direction.EXPORT)
    reprice(s, D("6000"))
    finding = only(check_document(parsed(s, "inventory")), "limit.b2b-list-route")
    assert regime.value in finding.message_en and "报关单" in finding.message_zh
    # danchuang holds no exchange rates: 清单 in another currency are not checked
    for line in lines(s, "inventory"):
        put(line, "currency", "502")
    assert check_document(parsed(s, "inventory")) == []


def test_b2c_export_lists_have_no_value_limit() -> None:
    s = sample(Regime.DIRECT, Direction.EXPORT)
    reprice(s, D("6000"))
    assert check_document(parsed(s, "inventory")) == []


def test_findings_cover_every_record_of_a_message() -> None:
    s = sample()
    record = head(s, "order").getparent()
    assert record is not None
    twin = etree.fromstring(etree.tostring(record))
    put(twin[0], "acturalPaid", "1.00")
    record.addnext(twin)
    finding = only(check_document(parsed(s, "order")), "order.actural-paid")
    assert finding.xpath == "/ceb:CEB311Message/ceb:Order[2]/ceb:OrderHead/ceb:acturalPaid"


def test_documents_without_rules_yield_nothing() -> None:
    for direction in Direction:
        s = sample(Regime.DIRECT, direction)
        assert check_document(parsed(s, "waybill")) == []
        assert check_document(parsed(s, "payment")) == []


# optional fields samples may omit (emsNo and itemRecordNo: 1210 only, the account book's)
OPTIONAL_LISTED = {"unit2", "trafNo", "voyageNo", "billNo", "emsNo", "itemRecordNo"}


@pytest.mark.parametrize(("regime", "direction"), [(r, d) for r in Regime for d in r.directions])
def test_field_layouts_follow_the_schema_order(regime: Regime, direction: Direction) -> None:
    # Node takes fields by position when all are present: the order must be the XSD's, which the
    # schema-valid samples follow
    s = generate_sets(regime, direction, seed=1)[0]
    for root in s.documents.values():
        message = BY_ROOT[etree.QName(root).localname]
        code, record = message.code, root[0]
        elements = [(HEAD_FIELDS, record[0] if message.head else record)]
        elements += [(LINE_FIELDS, line) for line in list(record)[1:] if message.lines]
        for layouts, element in elements:
            layout = layouts[code]
            present = [etree.QName(c).localname for c in element]
            listed = [n for n in present if n in layout.names]
            # (an optional field the sample leaves out, e.g. unit2, is simply not there)
            assert listed == [n for n in layout.order if n in present], code
            assert set(layout.order) - set(listed) <= OPTIONAL_LISTED, code


def test_a_missing_field_is_read_by_tag() -> None:
    s = sample()
    payment = head(s, "payment")
    payer = payment.find("{*}payerName")
    assert payer is not None
    payment.remove(payer)
    node = Node(payment, HEAD_FIELDS["CEB411"])
    assert node.text("payerName") is None
    assert node.text("amountPaid") == get(payment, "amountPaid")


def test_a_rule_reading_an_unlisted_field_fails_loudly() -> None:
    s = sample()
    node = Node(head(s, "payment"), HEAD_FIELDS["CEB411"])
    assert node.text("payerName") == s.deal.buyer.name
    with pytest.raises(KeyError, match="HEAD_FIELDS"):
        node.text("note")
