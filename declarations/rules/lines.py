"""Checks shared by documents with goods lines: line totals, gnum, one currency.

Each check takes the ``RuleInfo`` to report under, so an order and a 清单 keep their own rule
ids (and the spec's codes: -301002 for orders, -621027 for import 清单) while sharing the logic.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from declarations.findings import Finding, RuleInfo
from declarations.rules._common import Node, Unit, agree, money


def check_line_totals(unit: Unit, rule: RuleInfo) -> Iterator[Finding]:
    """totalPrice = price × qty on every line, to the fen (see ``_common.FEN``)."""
    for line in unit.lines:
        price, qty, total = line.decimal("price"), line.decimal("qty"), line.decimal("totalPrice")
        if price is None or qty is None or total is None:
            continue  # a missing or malformed number is the schema layer's finding
        expected = price * qty
        if not agree(total, expected):
            gnum = line.text("gnum") or "?"
            yield unit.finding(
                rule,
                line,
                "totalPrice",
                f"line {gnum}: totalPrice {money(total)} is not price {money(price)} × qty "
                f"{money(qty)} = {money(expected)}",
                f"第{gnum}项：总价 {money(total)} 不等于单价 {money(price)} × 数量 {money(qty)} "
                f"= {money(expected)}",
            )


def _gnum(line: Node) -> int | None:
    value = line.decimal("gnum")
    if value is None or value != value.to_integral_value():
        return None
    return int(value)


def check_gnum_sequence(unit: Unit, duplicates: RuleInfo, gaps: RuleInfo) -> Iterator[Finding]:
    """Line numbers run 1, 2, …, n: a duplicate is reported per line under ``duplicates`` (the
    spec's codes -301002 and -621027 speak of duplicates, CEB spec 202205 table 7-2 p. 113-114),
    a gap or a start other than 1 once under ``gaps`` (the field notes: 从1开始连续序号, p. 84)."""
    seen: set[int] = set()
    duplicated = False
    for line in unit.lines:
        gnum = _gnum(line)
        if gnum is None:
            continue
        if gnum in seen:
            duplicated = True
            yield unit.finding(
                duplicates,
                line,
                "gnum",
                f"line number gnum {gnum} is used twice",
                f"商品序号 gnum {gnum} 重复",
            )
        seen.add(gnum)
    if duplicated or not seen:
        return
    expected = set(range(1, len(seen) + 1))
    if seen != expected:
        wrong = min(seen - expected)
        culprit = next(line for line in unit.lines if _gnum(line) == wrong)
        numbers = ", ".join(str(n) for n in sorted(seen))
        yield unit.finding(
            gaps,
            culprit,
            "gnum",
            f"line numbers must run from 1 without gaps; found {numbers}",
            f"商品序号应从1开始连续编号，实际为 {numbers}",
        )


def check_lines_in_head_currency(unit: Unit, rule: RuleInfo) -> Iterator[Finding]:
    """Export orders may use any currency, but one: every line in the head's currency."""
    head_currency = unit.head.text("currency")
    if head_currency is None:
        return
    for line in unit.lines:
        value = line.text("currency")
        if value is not None and value != head_currency:
            gnum = line.text("gnum") or "?"
            yield unit.finding(
                rule,
                line,
                "currency",
                f"line {gnum} is in currency {value} but the order head is in {head_currency}",
                f"第{gnum}项币制 {value} 与订单表头币制 {head_currency} 不一致",
            )


def sum_decimal(*values: Decimal | None) -> Decimal:
    return sum((v for v in values if v is not None), Decimal(0))
