"""Sample messages that follow a 清单 (CEB spec 202205 §3.7, §3.11, §3.13, §3.15): the carrier's
delivery record, the declarant's cancellation and return, and the site's entry record, for a deal
of ``declarations.samples``.

They name numbers customs gives (the 清单's ``invtNo``), so they are built for a 清单 already
declared, not as part of a sample set. ``delivery_record`` and ``site_entry_record`` build the
same messages from plain values: the live service sends them when it plays the carrier or the
site (docs/live-clearance.md), the site's entry record then signed by the stand-in signer
(``declarations.sample_signer``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from lxml import etree

from declarations.pki import Signer
from declarations.sample_deals import Company
from declarations.samples import (
    _C,
    Deal,
    SampleSet,
    _app,
    _bill_no,
    _fill,
    _message,
    _transfer,
    fmt,
    signature,
    to_bytes,
)
from declarations.tax_bill import (
    SUM_AFTER,
    TaxBill,
    TaxBillStatus,
    build_tax_bill,
    build_tax_status,
    tax_bill_of,
)

__all__ = [
    "SAMPLE_SITE",
    "Company",
    "Conveyance",
    "delivery_record",
    "import_cancellation",
    "import_delivery",
    "import_return",
    "import_site_entry",
    "site_entry_record",
    "write_after",
]

_BEIJING = timezone(timedelta(hours=8), "CST")

# The supervised site's operator of the samples (监管场所经营人, CEB711's operatorCode).
SAMPLE_SITE = Company("4401960106", "示例监管作业场所 Sample Supervised Site", "DXPENT4401960106")


def _guid(deal: Deal, what: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{deal.guids[3]}/{what}")).upper()


# fmt: off
def _named_list(deal: Deal, invt: str, reason: str) -> list[tuple[str, str | None]]:
    """The 清单, its parties and its buyer, as a cancellation and a return name them (the same
    fields in the same order: §3.11.4 p. 88, §3.13.4 p. 93), then the reason."""
    b = deal.buyer
    return [
        ("customsCode", deal.customs_code), ("orderNo", deal.order_no),
        ("ebpCode", deal.platform.code), ("ebpName", deal.platform.name),
        ("ebcCode", deal.seller.code), ("ebcName", deal.seller.name),
        ("logisticsNo", deal.logistics_no), ("logisticsCode", deal.carrier.code),
        ("logisticsName", deal.carrier.name),
        ("copNo", f"C{deal.stamp(30, '%Y%m%d')}{deal.serial:06d}"), ("invtNo", invt),
        ("buyerIdType", "1"), ("buyerIdNumber", b.id_number), ("buyerName", b.name),
        ("buyerTelephone", b.phone), ("agentCode", deal.agent.code),
        ("agentName", deal.agent.name), ("reason", reason)]


def import_cancellation(deal: Deal, invt: str, reason: str = "买家取消订单") -> etree._Element:
    """A 撤销申请单 (CEB623, CEB spec 202205 §3.11.4 p. 88) of the deal's 清单, numbered
    ``invt`` (the invtNo customs gave it), sent by its declarant."""
    guid = _guid(deal, "cancel")
    root = _message("CEB623", guid)
    _fill(etree.SubElement(root, _C + "InvtCancel"),
          [*_app(deal, guid, 90), *_named_list(deal, invt, reason)])
    _transfer(root, deal.agent)
    signature(root)
    return root


def delivery_record(
    carrier: Company, logistics_no: str, when: str, *, guid: str, status: str = "S"
) -> etree._Element:
    """The carrier's 运单状态 (CEB513, §3.7.4 p. 77) of waybill ``logistics_no``: the buyer
    signed for the goods at ``when`` (YYYYMMDDhhmmss)."""
    root = _message("CEB513", guid)
    _fill(etree.SubElement(root, _C + "LogisticsStatus"), [
        ("guid", guid), ("appType", "1"), ("appTime", when), ("appStatus", "2"),
        ("logisticsCode", carrier.code), ("logisticsName", carrier.name),
        ("logisticsNo", logistics_no), ("logisticsStatus", status), ("logisticsTime", when)])
    _transfer(root, carrier)
    return root


def import_delivery(deal: Deal, status: str = "S", minutes: int = 600) -> etree._Element:
    """The deal's delivery record: the buyer signed for the goods ``minutes`` after the deal's
    start."""
    guid = _guid(deal, f"delivery-{status}-{minutes}")
    return delivery_record(deal.carrier, deal.logistics_no, deal.stamp(minutes), guid=guid,
                           status=status)


@dataclass(frozen=True, slots=True)
class Conveyance:
    """How the goods came (the 清单's trafMode, trafNo, voyageNo and billNo)."""

    mode: str
    number: str
    voyage: str
    bill: str


def site_entry_record(
    operator: Company,
    carrier: Company,
    customs_code: str,
    conveyance: Conveyance,
    waybills: Sequence[str],
    *,
    when: str,
    guid: str,
    signer: Signer | None = None,
) -> etree._Element:
    """The site's 入库明细单 (CEB711, §3.15.4 p. 98): the carrier's ``waybills`` entered the
    site at ``when`` (YYYYMMDDhhmmss), signed by ``signer`` (the schema requires a signature;
    the sample signer by default)."""
    root = _message("CEB711", guid)
    record = etree.SubElement(root, _C + "Delivery")
    _fill(etree.SubElement(record, _C + "DeliveryHead"), [
        ("guid", guid), ("appType", "1"), ("appTime", when), ("appStatus", "2"),
        ("customsCode", customs_code), ("copNo", f"RK{when}"[:20]),
        ("operatorCode", operator.code), ("operatorName", operator.name), ("ieFlag", "I"),
        ("trafMode", conveyance.mode), ("trafNo", conveyance.number),
        ("voyageNo", conveyance.voyage), ("billNo", conveyance.bill),
        ("logisticsCode", carrier.code), ("logisticsName", carrier.name)])
    for number, logistics_no in enumerate(waybills, start=1):
        _fill(etree.SubElement(record, _C + "DeliveryList"),
              [("gnum", str(number)), ("logisticsNo", logistics_no)])
    _transfer(root, operator)
    signature(root, signer)
    return root


def import_site_entry(deal: Deal, minutes: int = 300) -> etree._Element:
    """The deal's goods entered the sample site ``minutes`` after the deal's start."""
    conveyance = Conveyance("5", f"CA{deal.serial % 9000 + 1000}", deal.stamp(0, "%Y%m%d"),
                            _bill_no(deal))  # as the deal's 清单 has them (samples.py)
    return site_entry_record(SAMPLE_SITE, deal.carrier, deal.customs_code, conveyance,
                             [deal.logistics_no], when=deal.stamp(minutes),
                             guid=_guid(deal, f"entry-{minutes}"))


def import_return(
    deal: Deal, invt: str, quantities: Mapping[int, Decimal], *, reason: str = "七天无理由退货"
) -> etree._Element:
    """A 退货申请单 (CEB625, §3.13.4 p. 93) of the deal's 清单 ``invt``: ``quantities`` by the
    清单's line number (gnum), sent by its declarant."""
    tag = ",".join(f"{gnum}x{qty}" for gnum, qty in sorted(quantities.items()))
    guid = _guid(deal, f"return-{tag}-{reason}")
    root = _message("CEB625", guid)
    record = etree.SubElement(root, _C + "InvtRefund")
    _fill(etree.SubElement(record, _C + "InvtRefundHead"),
          [*_app(deal, guid, 900), *_named_list(deal, invt, reason)])
    for line in deal.lines:
        if line.gnum in quantities:
            _fill(etree.SubElement(record, _C + "InvtRefundList"), [
                ("gnum", str(line.gnum)), ("gcode", line.goods.hs),
                ("gname", line.goods.name), ("qty", fmt(quantities[line.gnum])),
                ("unit", line.goods.unit)])
    _transfer(root, deal.agent)
    signature(root)
    return root
# fmt: on


def _direct(sample: SampleSet) -> bool:
    """Direct-purchase import (9610): its goods enter the site (bonded goods are there)."""
    return sample.deal.regime.value == "9610"


_BILL_HEAD = ("freight", "insuredFee", "customsCode", "assureCode", "ebcCode", "logisticsCode")
_BILL_LINE = ("gnum", "gcode", "totalPrice", "qty")


def tax_bill_of_sample(inventory: etree._Element, invt: str) -> TaxBill:
    """The tax bill customs issues for a sample 清单 once released (CEB816, §3.17)."""
    head = {name: inventory.findtext(f".//{_C}InventoryHead/{_C}{name}") for name in _BILL_HEAD}
    lines = [{name: line.findtext(f"{_C}{name}") for name in _BILL_LINE}
             for line in inventory.iter(f"{_C}InventoryList")]  # fmt: skip
    return tax_bill_of(head, lines, invt_no=invt)


def write_after(sample: SampleSet, folder: Path) -> list[Path]:
    """Write what may follow the sample's 清单 into ``folder``: a delivery record, for 9610 the
    site's entry record, a cancellation and a return of one item of its first line, naming the
    sample 清单's invtNo; and what customs sends after release: its tax bill (CEB816) and the
    bill summed into a payment (CEB818)."""
    deal = sample.deal
    inventory = sample.documents["inventory-CEB621.xml"]
    invt = inventory.findtext(f".//{_C}invtNo") or ""
    first = deal.lines[0].gnum
    bill = tax_bill_of_sample(inventory, invt)
    released = datetime.strptime(deal.stamp(240), "%Y%m%d%H%M%S").replace(tzinfo=_BEIJING)
    summed = released + SUM_AFTER
    duty = f"{bill.customs_code or '0000'}{summed:%Y%m%d}{deal.serial:08d}"
    customs = {
        "tax-bill-CEB816.xml": build_tax_bill(bill, TaxBillStatus.ISSUED, released),
        "tax-status-CEB818.xml": build_tax_status(
            bill, TaxBillStatus.SUMMED, summed, ent_duty_no=duty
        ),
    }
    files = {
        "delivery-CEB513.xml": import_delivery(deal),
        **({"site-entry-CEB711.xml": import_site_entry(deal)} if _direct(sample) else {}),
        "cancellation-CEB623.xml": import_cancellation(deal, invt),
        "return-CEB625.xml": import_return(deal, invt, {first: Decimal(1)}),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, root in files.items():
        (folder / name).write_bytes(to_bytes(root))
    for name, data in customs.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in [*files, *customs]]
