"""The business keys a document is found by: the key customs holds it under, the key of the set
it names by its order, and the key of the waybill it names (``set_lookups`` looks them up)."""

from __future__ import annotations

from dataclasses import dataclass

from app.db.models import DocumentRow
from declarations import Facts, Kind

# (message code, first key, second key): ebpCode + orderNo, or logisticsCode + logisticsNo
HeldKey = tuple[str, str | None, str | None]
# (direction, ebpCode, orderNo) of a set; (direction, logisticsCode, logisticsNo) of a waybill
SetKey = tuple[str, str, str]
WaybillKey = tuple[str, str | None, str | None]


@dataclass(frozen=True, slots=True)
class Keys:
    """The business keys of a one-record document, as read from its record (head)."""

    order_no: str | None = None
    ebp_code: str | None = None
    logistics_no: str | None = None
    logistics_code: str | None = None
    pay_transaction_id: str | None = None

    @classmethod
    def of(cls, facts: Facts) -> Keys:
        return cls(
            order_no=facts.key("orderNo"),
            ebp_code=facts.key("ebpCode"),
            logistics_no=facts.key("logisticsNo"),
            logistics_code=facts.key("logisticsCode"),
            pay_transaction_id=facts.key("payTransactionId"),
        )


def held_key(facts: Facts) -> HeldKey:
    """The key customs holds the document under: a waybill's, or an order's."""
    code, keys = facts.message.code, Keys.of(facts)
    if facts.message.kind is Kind.WAYBILL:
        return (code, keys.logistics_code, keys.logistics_no)
    return (code, keys.ebp_code, keys.order_no)


def set_key(row: DocumentRow) -> SetKey | None:
    """The key of the set a stored document names by its order (none without both keys)."""
    if row.ebp_code and row.order_no:
        return (row.direction, row.ebp_code, row.order_no)
    return None


def waybill_key(row: DocumentRow) -> WaybillKey:
    """The key of the waybill a stored document names."""
    return (row.direction, row.logistics_code, row.logistics_no)
