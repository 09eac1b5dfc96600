"""Value limits of retail import (财关税〔2018〕49号) and of the B2B 清单 route (5,000 CNY,
https://www.sellerclass.com/p/1240.html).

Decisions (the spec's codes are 清单 codes; the rest is ours):

- The transaction value is the dutiable value: goods plus freight plus insurance. On a 清单 that
  is Σ totalPrice + freight + insuredFee; on an order (no insurance field) goodsValue + freight.
  Non-cash discounts do not lower it (goodsValue includes them, CEB spec 202205 §3.1.4 p. 63).
- The single-transaction limit (5,000 CNY) applies to the import 清单 (-621005) and, as a
  separate rule without a spec code, to the import order: an order over the limit would only
  fail later, at the 清单.
- The single-item exception: a 清单 or order with one line whose quantity is 1 (one indivisible
  item) may exceed 5,000 if its value stays under 26,000; it passes with a warning that it is
  taxed in full at goods rates (see ``declarations.tax``).
- The annual limit (26,000 CNY per buyer and calendar year, -621018) is checked on the import
  清单 only, through the ``QuotaProvider``: used + this 清单 > 26,000 is rejected. The year is
  the 清单's declTime (else appTime). Several 清单 of one buyer in one message count together,
  also when no provider is given (then nothing counts as used before the message).
- 9710/9810 清单 (统一版 route) are only for consignments of at most 5,000 CNY of goods
  (Σ totalPrice). Only 清单 in CNY are checked: danchuang holds no exchange rates.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from declarations.findings import Finding, Layer, RuleInfo, Severity, define_rule
from declarations.rules._common import CNY, Node, QuotaScope, Unit, lines_total, money
from declarations.rules.lines import sum_decimal
from declarations.tax import ANNUAL_LIMIT, SINGLE_TRANSACTION_LIMIT

ORDER_SINGLE_TRANSACTION = define_rule(
    "limit.order-single-transaction",
    Layer.RULE,
    "An import order's value (goodsValue + freight) is at most 5,000 CNY",
    "进口订单交易金额（商品价格 + 运杂费）不得超过单次交易限值5000元",
)
SINGLE_TRANSACTION = define_rule(
    "limit.single-transaction",
    Layer.RULE,
    "An import 清单's value (goods + freight + insurance) is at most 5,000 CNY",
    "购买金额超过单次交易限值（5000元）",
    spec_code="-621005",
)
SINGLE_ITEM_FULL_TAX = define_rule(
    "limit.single-item-full-tax",
    Layer.RULE,
    "A single item over 5,000 CNY (and under 26,000) passes but is taxed in full",
    "单件商品完税价格超过5000元（低于26000元）可按跨境电商零售进口，但按货物税率全额征税",
    severity=Severity.WARNING,
)
ANNUAL = define_rule(
    "limit.annual",
    Layer.RULE,
    "The buyer's used annual quota plus this purchase is at most 26,000 CNY",
    "订购人年度已用额度加本次交易金额超过年度交易限值（26000元）",
    spec_code="-621018",
)
B2B_LIST_ROUTE = define_rule(
    "limit.b2b-list-route",
    Layer.RULE,
    "9710/9810 may use the 清单 route only for consignments of at most 5,000 CNY",
    "9710/9810 仅货值5000元（含）以下的货物可通过跨境电商出口统一版以申报清单申报",
)


def is_single_item(lines: tuple[Node, ...]) -> bool:
    """One line of quantity 1: the one indivisible item of 财关税〔2018〕49号."""
    return len(lines) == 1 and lines[0].decimal("qty") == 1


def check_single_transaction(
    unit: Unit, rule: RuleInfo, value: Decimal, field: str | None
) -> Iterator[Finding]:
    if value <= SINGLE_TRANSACTION_LIMIT:
        return
    if is_single_item(unit.lines) and value < ANNUAL_LIMIT:
        yield unit.finding(
            SINGLE_ITEM_FULL_TAX,
            unit.head,
            field,
            f"value {money(value)} CNY exceeds the 5,000 CNY single-transaction limit; as a "
            "single item under 26,000 it may pass, taxed in full at goods rates (duty included)",
            f"交易金额 {money(value)} 元超过单次限值5000元；单件商品且低于26000元，"
            "可按跨境电商零售进口通关，但按货物税率全额征收关税和进口环节增值税、消费税",
        )
        return
    yield unit.finding(
        rule,
        unit.head,
        field,
        f"value {money(value)} CNY exceeds the 5,000 CNY single-transaction limit",
        f"交易金额 {money(value)} 元超过单次交易限值5000元",
    )


@dataclass(frozen=True, slots=True)
class Purchase:
    """What an import 清单 counts against its buyer's annual quota."""

    buyer_id_number: str
    year: int  # of declTime, else appTime
    amount: Decimal  # the transaction value (``transaction_value``)


def transaction_value(unit: Unit) -> Decimal:
    """An import 清单's transaction value: Σ totalPrice + freight + insuredFee."""
    head = unit.head
    return sum_decimal(lines_total(unit.lines), head.decimal("freight"), head.decimal("insuredFee"))


def purchase_of(unit: Unit, value: Decimal | None = None) -> Purchase | None:
    """The purchase an import 清单 counts (``value``: its transaction value, when known); None
    when it names no buyer or no year."""
    head = unit.head
    buyer = head.text("buyerIdNumber")
    for name in ("declTime", "appTime"):
        when = head.text(name)
        if buyer is not None and when and len(when) >= 4 and when[:4].isdigit():
            amount = transaction_value(unit) if value is None else value
            return Purchase(buyer, int(when[:4]), amount)
    return None


def buyer_years(units: Iterable[Unit]) -> set[tuple[str, int]]:
    """The (buyer id number, year) of each import 清单 among ``units`` that names both."""
    return {
        (purchase.buyer_id_number, purchase.year)
        for unit in units
        if (purchase := purchase_of(unit, Decimal(0))) is not None
    }


def check_annual(unit: Unit, scope: QuotaScope, purchase: Purchase | None) -> Iterator[Finding]:
    if purchase is None:
        return
    buyer, year, value = purchase.buyer_id_number, purchase.year, purchase.amount
    # without a ledger only the message itself counts (several 清单 of one buyer)
    earlier = scope.used(buyer, year, _replaced_order(unit)) + scope.pending_for(buyer)
    scope.add_pending(buyer, value)
    if exceeds_annual_limit(earlier, value):
        english, chinese = annual_limit_text(buyer, year, value)
        yield unit.finding(ANNUAL, unit.head, "buyerIdNumber", english, chinese)


def _replaced_order(unit: Unit) -> tuple[str, str] | None:
    """The (ebpCode, orderNo) of the 清单 a change (appType 2) replaces: its counted purchase
    is replaced, not added to."""
    head = unit.head
    if head.text("appType") != "2":
        return None
    ebp_code, order_no = head.text("ebpCode"), head.text("orderNo")
    return (ebp_code, order_no) if ebp_code and order_no else None


def exceeds_annual_limit(used: Decimal, amount: Decimal) -> bool:
    """Whether a purchase of ``amount`` crosses the annual limit after ``used``."""
    return used + amount > ANNUAL_LIMIT


def annual_refusal(purchase: Purchase, used: Decimal) -> Finding | None:
    """The rule's finding when ``purchase`` crosses the annual limit after ``used``: the re-check
    the live service makes when it counts a set's purchase in its ledger."""
    if not exceeds_annual_limit(used, purchase.amount):
        return None
    english, chinese = annual_limit_text(purchase.buyer_id_number, purchase.year, purchase.amount)
    return ANNUAL.finding(english, chinese, field="buyerIdNumber")


def annual_limit_text(buyer: str, year: int, value: Decimal) -> tuple[str, str]:
    """What a refusal for the annual limit says (English, Chinese). It does not say how much
    the buyer has used: any enterprise can name any buyer in a 清单, and a buyer's spending is
    not its business."""
    return (
        f"buyer {buyer}'s purchases in {year} would exceed the 26,000 CNY annual limit with this "
        f"purchase of {money(value)} CNY",
        f"订购人 {buyer} {year}年度交易累计金额加本次 {money(value)} 元将超过年度限值26000元",
    )


def check_b2b_list_route(unit: Unit, goods_value: Decimal) -> Iterator[Finding]:
    trade_mode = unit.head.text("tradeMode")
    if trade_mode not in ("9710", "9810"):
        return
    currencies = {line.text("currency") for line in unit.lines}
    if currencies != {CNY} or goods_value <= SINGLE_TRANSACTION_LIMIT:
        return
    yield unit.finding(
        B2B_LIST_ROUTE,
        unit.head,
        "tradeMode",
        f"{trade_mode} 清单 of {money(goods_value)} CNY: the 清单 route is only for "
        "consignments of at most 5,000 CNY; declare a customs declaration (报关单) instead",
        f"{trade_mode} 申报清单货值 {money(goods_value)} 元，超过5000元，应以报关单申报",
    )
