"""Reconciliation of a 清单's lines with its order's (三单对碰, layer ``reconcile``): one-to-one by
gnum (CEB spec 202205 §3.9.4 p. 84), the same goods and the same quantity and unit price.

Goods: import gname = the order's itemName (p. 84: 与电子订单一致); export itemNo = the order's
itemNo when it fits: the export order's itemNo is C..30 (p. 4) and the 清单's C..20 (p. 30), so a
longer SKU can never be repeated on the 清单 and is not compared.
"""

from __future__ import annotations

from collections.abc import Iterator

from declarations.findings import Finding
from declarations.reconcile_rules import INVENTORY_AMOUNTS, INVENTORY_GOODS, INVENTORY_LINES
from declarations.rules._common import Node, Unit, agree, money


def check_lines(order: Unit, inventory: Unit, imported: bool) -> Iterator[Finding]:
    """Every finding about the 清单 lines of a deal against its order's."""
    ordered = _by_gnum(order.lines)
    declared = _by_gnum(inventory.lines)
    for gnum, line in declared.items():
        if gnum not in ordered:
            yield inventory.finding(
                INVENTORY_LINES,
                line,
                "gnum",
                f"清单 line {gnum} has no order line {gnum} ({order.doc.source})",
                f"清单第{gnum}项在订单中没有对应商品（{order.doc.source}）",
            )
    for gnum in ordered.keys() - declared.keys():
        yield inventory.finding(
            INVENTORY_LINES,
            inventory.head,
            None,
            f"order line {gnum} is missing from the 清单",
            f"订单第{gnum}项商品未在清单中申报",
        )
    names = (("itemName", "gname"),) if imported else (("itemNo", "itemNo"),)
    for gnum, line in declared.items():
        ordered_line = ordered.get(gnum)
        if ordered_line is None:
            continue
        for ref_field, field_name in names:
            expected, actual = ordered_line.text(ref_field), line.text(field_name)
            if expected is None or actual is None or expected == actual:
                continue
            if not imported and len(expected) > _INVENTORY_ITEM_NO_LENGTH:
                continue  # the order's SKU does not fit the 清单's itemNo: nothing to compare
            yield inventory.finding(
                INVENTORY_GOODS,
                line,
                field_name,
                f"清单 line {gnum} {field_name} {actual!r} differs from the order's "
                f"{ref_field} {expected!r}",
                f"清单第{gnum}项 {field_name} {actual!r} 与订单 {ref_field} {expected!r} 不一致",
            )
        for name in ("qty", "price"):
            expected_value, value = ordered_line.decimal(name), line.decimal(name)
            if expected_value is None or value is None or agree(value, expected_value):
                continue
            yield inventory.finding(
                INVENTORY_AMOUNTS,
                line,
                name,
                f"清单 line {gnum} {name} {money(value)} differs from the order's "
                f"{money(expected_value)}",
                f"清单第{gnum}项 {name} {money(value)} 与订单 {money(expected_value)} 不一致",
            )


_INVENTORY_ITEM_NO_LENGTH = 20  # the export 清单's itemNo is C..20 (CEB spec 202205 p. 30)


def _by_gnum(lines: tuple[Node, ...]) -> dict[int, Node]:
    found: dict[int, Node] = {}
    for line in lines:
        value = line.decimal("gnum")
        if value is not None and value == value.to_integral_value():
            found.setdefault(int(value), line)
    return found
