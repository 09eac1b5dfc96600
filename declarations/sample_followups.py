"""Sample messages that follow a 清单 (CEB spec 202205 §3.7, §3.11): the carrier's delivery
record and the declarant's cancellation, for a deal of ``declarations.samples``.

They name numbers customs gives (the 清单's ``invtNo``), so they are built for a 清单 already
declared, not as part of a sample set.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from lxml import etree

from declarations.samples import (
    _C,
    Deal,
    SampleSet,
    _app,
    _fill,
    _message,
    _transfer,
    fmt,
    signature,
    to_bytes,
)

__all__ = ["import_cancellation", "import_delivery", "import_return", "write_after"]


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


def import_delivery(deal: Deal, status: str = "S", minutes: int = 600) -> etree._Element:
    """The carrier's 运单状态 (CEB513, §3.7.4 p. 77): the buyer signed for the goods
    ``minutes`` after the deal's start."""
    guid = _guid(deal, f"delivery-{status}-{minutes}")
    root = _message("CEB513", guid)
    _fill(etree.SubElement(root, _C + "LogisticsStatus"), [*_app(deal, guid, minutes),
        ("logisticsCode", deal.carrier.code), ("logisticsName", deal.carrier.name),
        ("logisticsNo", deal.logistics_no), ("logisticsStatus", status),
        ("logisticsTime", deal.stamp(minutes))])
    _transfer(root, deal.carrier)
    return root


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


def write_after(sample: SampleSet, folder: Path) -> list[Path]:
    """Write what may follow the sample's 清单 into ``folder``: a delivery record, a
    cancellation and a return of one item of its first line, naming the sample 清单's invtNo."""
    deal = sample.deal
    invt = sample.documents["inventory-CEB621.xml"].findtext(f".//{_C}invtNo") or ""
    first = deal.lines[0].gnum
    files = {
        "delivery-CEB513.xml": import_delivery(deal),
        "cancellation-CEB623.xml": import_cancellation(deal, invt),
        "return-CEB625.xml": import_return(deal, invt, {first: Decimal(1)}),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, root in files.items():
        (folder / name).write_bytes(to_bytes(root))
    return [folder / name for name in files]
