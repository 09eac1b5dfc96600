"""The electronic tax bill customs issues for a released import 清单 (电子税单 CEB816, CEB spec
202205 §3.17 pp. 101-103) and its status message (电子税单数据状态 CEB818, §3.18 pp. 103-104).

The bill is the 清单's tax as ``declarations.tax.import_tax`` computes it (duty 0, VAT and
consumption tax at 70 %, the single-item exception), one bill line per 清单 line. Its status is
one of the spec's three (``status``, table 3-59 p. 102): 1 已生成 (issued), 2 已汇总 (summed into a
payment: paid, or deducted from the guarantee ``assureCode`` names, with the 缴款书 number
``entDutyNo``), 3 作废 (void).

The spec gives no tax rates per commodity code, no bill numbers and no time of payment; these are
danchuang's model (docs/live-clearance.md, "Tax bills"):

- every line at the default VAT rate (13 %) and no consumption tax: danchuang keeps no tariff;
- ``taxNo`` is the 清单's ``invtNo`` followed by ``01`` (a bill per 清单), ``entDutyNo`` the
  customs code, the day and the bill's number;
- a guarantee deduction that fails leaves the bill at 1, re-sent as a CEB818 whose receipt text
  says why (the CEB818 record has no text field of its own).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import IntEnum
from typing import Any

from lxml import etree

from declarations.after_list import RETURN_WINDOW
from declarations.messages import CEB_NS
from declarations.receipts import return_time
from declarations.tax import TaxableLine, import_tax

__all__ = [
    "SUM_AFTER",
    "TaxBill",
    "TaxBillLine",
    "TaxBillStatus",
    "build_tax_bill",
    "build_tax_status",
    "tax_bill_of",
    "tax_total_mismatch",
]

_PLAIN = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# When customs sums a released 清单's bill into a payment: the spec gives no time; danchuang
# waits out the 30-day return window (公告2020年第45号) and one day more.
SUM_AFTER = RETURN_WINDOW + timedelta(days=1)


class TaxBillStatus(IntEnum):
    """税单状态 (CEB spec 202205 §3.17.4 table 3-59 p. 102)."""

    ISSUED = 1  # 已生成
    SUMMED = 2  # 已汇总: paid, or deducted from the guarantee
    VOID = 3  # 作废

    @property
    def meaning_zh(self) -> str:
        return {1: "已生成", 2: "已汇总", 3: "作废"}[self.value]

    @property
    def meaning_en(self) -> str:
        return {1: "issued", 2: "summed into a payment", 3: "void"}[self.value]


@dataclass(frozen=True, slots=True)
class TaxBillLine:
    """One line of the bill (电子税单表体): the 清单 line's number, goods code, dutiable value."""

    gnum: int
    gcode: str
    tax_price: Decimal
    customs_tax: Decimal
    value_added_tax: Decimal
    consumption_tax: Decimal


@dataclass(frozen=True, slots=True)
class TaxBill:
    """A 清单's tax bill: the head's numbers and parties, and its lines."""

    tax_no: str
    invt_no: str
    lines: tuple[TaxBillLine, ...]
    full_rate: bool = False
    customs_code: str | None = None
    assure_code: str | None = None
    ebc_code: str | None = None
    logistics_code: str | None = None

    @property
    def customs_tax(self) -> Decimal:
        return sum((line.customs_tax for line in self.lines), Decimal(0))

    @property
    def value_added_tax(self) -> Decimal:
        return sum((line.value_added_tax for line in self.lines), Decimal(0))

    @property
    def consumption_tax(self) -> Decimal:
        return sum((line.consumption_tax for line in self.lines), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.customs_tax + self.value_added_tax + self.consumption_tax

    def to_json(self) -> dict[str, Any]:
        """The bill as JSON (amounts as strings, to the fen)."""
        data = asdict(self)
        data["lines"] = [
            {k: str(v) if isinstance(v, Decimal) else v for k, v in line.items()}
            for line in data["lines"]
        ]
        data.update(
            customs_tax=str(self.customs_tax),
            value_added_tax=str(self.value_added_tax),
            consumption_tax=str(self.consumption_tax),
            total=str(self.total),
        )
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TaxBill:
        lines = tuple(
            TaxBillLine(
                gnum=int(line["gnum"]),
                gcode=str(line["gcode"]),
                tax_price=Decimal(line["tax_price"]),
                customs_tax=Decimal(line["customs_tax"]),
                value_added_tax=Decimal(line["value_added_tax"]),
                consumption_tax=Decimal(line["consumption_tax"]),
            )
            for line in data["lines"]
        )

        def text(name: str) -> str | None:
            value = data.get(name)
            return None if value is None else str(value)

        return cls(
            tax_no=str(data["tax_no"]),
            invt_no=str(data["invt_no"]),
            lines=lines,
            full_rate=bool(data.get("full_rate")),
            customs_code=text("customs_code"),
            assure_code=text("assure_code"),
            ebc_code=text("ebc_code"),
            logistics_code=text("logistics_code"),
        )


def _decimal(text: str | None) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return Decimal(0)


def tax_bill_of(
    head: Mapping[str, str | None], lines: Sequence[Mapping[str, str | None]], *, invt_no: str
) -> TaxBill:
    """The bill of a 清单 from its head and lines as read (``Facts.head``, ``Facts.lines``):
    each line's ``totalPrice`` plus its share of ``freight`` and ``insuredFee`` is its dutiable
    value. Raises ``ValueError`` for a 清单 the retail channel does not take (over the limits:
    the rules refuse those before any bill)."""
    values = [_decimal(line.get("totalPrice")) for line in lines]
    tax = import_tax(
        [TaxableLine(value) for value in values],
        freight=_decimal(head.get("freight")),
        insured_fee=_decimal(head.get("insuredFee")),
        single_item=len(lines) == 1 and _decimal(lines[0].get("qty")) == 1,
    )
    return TaxBill(
        tax_no=f"{invt_no}01",
        invt_no=invt_no,
        lines=tuple(
            TaxBillLine(
                gnum=int(_decimal(line.get("gnum")) or number),
                gcode=line.get("gcode") or "",
                tax_price=taxed.dutiable_value.quantize(Decimal("0.00001")),
                customs_tax=taxed.customs_duty,
                value_added_tax=taxed.vat,
                consumption_tax=taxed.consumption_tax,
            )
            for number, (line, taxed) in enumerate(zip(lines, tax.lines, strict=True), start=1)
        ),
        full_rate=tax.full_rate,
        customs_code=head.get("customsCode"),
        assure_code=head.get("assureCode"),
        ebc_code=head.get("ebcCode"),
        logistics_code=head.get("logisticsCode"),
    )


def tax_total_mismatch(order_tax_total: str | None, bill: TaxBill) -> str | None:
    """The order's ``taxTotal`` against the bill (订单代扣税款 against 电子税单): a sentence
    when they differ, else None. The order's figure is the platform's estimate; the bill is
    what is owed."""
    if order_tax_total is None:
        return None
    declared = _decimal(order_tax_total)
    if declared == bill.total:
        return None
    return (
        f"订单taxTotal {declared} 与税单应征税额 {bill.total} 不符 / the order's taxTotal "
        f"{declared} differs from the bill's {bill.total}"
    )


def _money(value: Decimal) -> str:
    return f"{value:.5f}"


def _add(parent: etree._Element, name: str, value: str | None) -> None:
    if value:
        etree.SubElement(parent, f"{{{CEB_NS}}}{name}").text = value


def _message(
    code: str, head_name: str, bill: TaxBill, time: datetime, guid: str | None
) -> tuple[etree._Element, etree._Element, etree._Element]:
    """The message's root, its ``Tax`` record and the head with the fields both messages
    start with (guid, returnTime, invtNo, taxNo)."""
    root = etree.Element(
        f"{{{CEB_NS}}}{code}Message",
        nsmap={"ceb": CEB_NS},
        guid=guid or str(uuid.uuid4()).upper(),
        version="1.0",
    )
    tax = etree.SubElement(root, f"{{{CEB_NS}}}Tax")
    head = etree.SubElement(tax, f"{{{CEB_NS}}}{head_name}")
    _add(head, "guid", str(uuid.uuid4()).upper())
    _add(head, "returnTime", return_time(time))
    _add(head, "invtNo", bill.invt_no)
    _add(head, "taxNo", bill.tax_no)
    return root, tax, head


def build_tax_bill(
    bill: TaxBill,
    status: TaxBillStatus,
    time: datetime,
    *,
    ent_duty_no: str | None = None,
    note: str | None = None,
    guid: str | None = None,
) -> bytes:
    """The bill as a CEB816 message (field order of table 3-59; no envelope nodes: customs'
    own message)."""
    root, tax, head = _message("CEB816", "TaxHeadRd", bill, time, guid)
    _add(head, "customsTax", _money(bill.customs_tax))
    _add(head, "valueAddedTax", _money(bill.value_added_tax))
    _add(head, "consumptionTax", _money(bill.consumption_tax))
    _add(head, "status", str(int(status)))
    _add(head, "entDutyNo", ent_duty_no)
    _add(head, "note", note[:1000] if note else None)
    _add(head, "assureCode", bill.assure_code)
    _add(head, "ebcCode", bill.ebc_code)
    _add(head, "logisticsCode", bill.logistics_code)
    _add(head, "customsCode", bill.customs_code)
    for line in bill.lines:
        node = etree.SubElement(tax, f"{{{CEB_NS}}}TaxListRd")
        _add(node, "gnum", str(line.gnum))
        _add(node, "gcode", line.gcode)
        _add(node, "taxPrice", _money(line.tax_price))
        _add(node, "customsTax", _money(line.customs_tax))
        _add(node, "valueAddedTax", _money(line.value_added_tax))
        _add(node, "consumptionTax", _money(line.consumption_tax))
    return _PLAIN + etree.tostring(root, encoding="UTF-8")


def build_tax_status(
    bill: TaxBill,
    status: TaxBillStatus,
    time: datetime,
    *,
    ent_duty_no: str | None = None,
    guid: str | None = None,
) -> bytes:
    """The bill's status as a CEB818 message (table 3-62 p. 104)."""
    root, _tax, head = _message("CEB818", "TaxHeadStatus", bill, time, guid)
    _add(head, "status", str(int(status)))
    _add(head, "entDutyNo", ent_duty_no)
    _add(head, "assureCode", bill.assure_code)
    return _PLAIN + etree.tostring(root, encoding="UTF-8")
