"""A 1210 bonded import 清单 against its account book (账册): what it draws, and its refusals.

A bonded 清单 names the zone warehouse's account book in ``emsNo`` (账册编号, CEB spec 202205
§3.9.4 p. 82) and each line's registered item in ``itemRecordNo`` (账册备案料号, "保税进口必填",
p. 84). The account book itself is the special zone's system, outside the CEB spec; danchuang
keeps one for the enterprises that register theirs (docs/account-books.md), and a 清单 may not
take an item's stock below zero ("二线出区核减"). No spec code exists for either refusal: the
清单 is refused with 100 (海关退单), the reason in its text, led by the refusal's id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from declarations.codes import ReturnStatus
from declarations.lifecycle import Refusal

__all__ = [
    "INSUFFICIENT_STOCK",
    "UNKNOWN_ITEM",
    "drawn_quantities",
    "insufficient_stock",
    "returned_quantities",
    "unknown_item",
]

INSUFFICIENT_STOCK = "account-book.insufficient-stock"
UNKNOWN_ITEM = "account-book.unknown-item"
_REFUSED = str(int(ReturnStatus.REJECTED))


def _quantity(text: str | None) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return Decimal(0)


def drawn_quantities(lines: Iterable[Mapping[str, str | None]]) -> dict[str, Decimal]:
    """What the 清单's lines draw from each item (``itemRecordNo`` → total ``qty``); a line
    without an item number draws nothing (the schema and rules speak of it)."""
    drawn: dict[str, Decimal] = {}
    for line in lines:
        item = (line.get("itemRecordNo") or "").strip()
        if item:
            drawn[item] = drawn.get(item, Decimal(0)) + _quantity(line.get("qty"))
    return drawn


def returned_quantities(
    list_lines: Iterable[Mapping[str, str | None]], lines: Iterable[Mapping[str, str | None]]
) -> dict[str, Decimal]:
    """What a return's ``lines`` (by the 清单's ``gnum``) give back to each item of the 清单's
    ``list_lines``."""
    items = {line.get("gnum"): line.get("itemRecordNo") for line in list_lines}
    return drawn_quantities(
        {"itemRecordNo": items.get(line.get("gnum")), "qty": line.get("qty")} for line in lines
    )


def insufficient_stock(ems_no: str, item: str, wanted: Decimal, left: Decimal) -> Refusal:
    return Refusal(
        _REFUSED,
        f"[{INSUFFICIENT_STOCK}] account book {ems_no}, item {item}: the 清单 draws {wanted}, "
        f"the stock is {left}",
        f"[{INSUFFICIENT_STOCK}] 账册{ems_no}料号{item}库存不足：清单申报{wanted}，库存{left}",
    )


def unknown_item(ems_no: str, item: str) -> Refusal:
    return Refusal(
        _REFUSED,
        f"[{UNKNOWN_ITEM}] account book {ems_no} has no item {item}",
        f"[{UNKNOWN_ITEM}] 账册{ems_no}无备案料号{item}",
    )
