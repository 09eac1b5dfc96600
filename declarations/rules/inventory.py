"""Rules on declaration lists (清单): import CEB621 and export CEB603 (CEB spec 202205 §3.9, §2.11).

The import currency 142 and buyerIdType 1 are enforced by our XSDs (schema layer).
"""

from __future__ import annotations

from collections.abc import Iterator

from declarations.findings import Finding, Layer, define_rule
from declarations.rules import limits
from declarations.rules._common import QuotaScope, Unit, lines_total
from declarations.rules.lines import check_gnum_sequence, check_line_totals

LINE_TOTAL = define_rule(
    "inventory.line-total",
    Layer.RULE,
    "清单 line totalPrice = price × qty",
    "清单商品总价 = 单价 × 数量",
)
GNUM_SEQUENCE = define_rule(
    "inventory.gnum-sequence",
    Layer.RULE,
    "清单 line numbers run from 1 without gaps or duplicates",
    "清单商品序号从1开始连续且不重复",
    spec_code="-621027",
)


def check_import_inventory(unit: Unit, scope: QuotaScope) -> Iterator[Finding]:
    yield from check_line_totals(unit, LINE_TOTAL)
    yield from check_gnum_sequence(unit, GNUM_SEQUENCE)
    value = limits.transaction_value(unit)
    yield from limits.check_single_transaction(unit, limits.SINGLE_TRANSACTION, value, None)
    yield from limits.check_annual(unit, scope, limits.purchase_of(unit, value))


def check_export_inventory(unit: Unit, scope: QuotaScope) -> Iterator[Finding]:
    yield from check_line_totals(unit, LINE_TOTAL)
    yield from check_gnum_sequence(unit, GNUM_SEQUENCE)
    yield from limits.check_b2b_list_route(unit, lines_total(unit.lines))
