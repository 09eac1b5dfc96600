"""Sample messages that follow an export 清单 (CEB spec 202205 §2.7, §2.9, §2.13, §2.15, §2.17,
§2.19, §2.21): the site's arrival record, the carrier's departure record and master waybill, the
declarant's cancellation, return and summary application, and the site's tally of a return, for
a deal of ``declarations.samples``.

Like ``sample_followups`` (their import counterparts), they name the numbers customs gave the
清单 (its ``invtNo``). The record builders take plain values, so that the live service can send
the same messages when it plays the site or the carrier; their ``signer`` signs them (the
sample signer by default; the live service's is the stand-in signer,
``declarations.sample_signer``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from lxml import etree

from declarations.messages import return_trade_mode
from declarations.pki import Signer
from declarations.sample_deals import Company
from declarations.sample_followups import SAMPLE_SITE
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

__all__ = [
    "Voyage",
    "arrival_record",
    "departure_record",
    "export_arrival",
    "export_cancellation",
    "export_departure",
    "export_master_waybill",
    "export_return",
    "export_return_tally",
    "export_summary_application",
    "master_waybill_record",
    "write_export_after",
]


@dataclass(frozen=True, slots=True)
class Voyage:
    """The vehicle or flight that takes the goods out (trafMode, trafName, voyageNo, billNo)."""

    mode: str
    name: str
    number: str
    bill: str


def _guid(deal: Deal, what: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{deal.guids[3]}/export/{what}")).upper()


def _voyage(deal: Deal) -> Voyage:
    """The voyage the sample 清单 names (samples.export_inventory)."""
    return Voyage("5", f"CA{deal.serial % 9000 + 1000}", deal.stamp(0, "%Y%m%d"), _bill_no(deal))


def _start(guid: str, when: str, customs_code: str, cop_no: str) -> list[tuple[str, str | None]]:
    return [("guid", guid), ("appType", "1"), ("appTime", when), ("appStatus", "2"),
            ("customsCode", customs_code), ("copNo", cop_no)]  # fmt: skip


_ONE_MESSAGE = [("msgCount", "1"), ("msgSeqNo", "1")]


# fmt: off
def arrival_record(
    operator: Company, carrier: Company, customs_code: str, waybills: Sequence[str], *,
    vehicle: str, bill_no: str | None, when: str, guid: str, signer: Signer | None = None,
) -> etree._Element:
    """The site's 运抵单 (CEB507, §2.7.4 pp. 18-19): the carrier's ``waybills`` arrived at the
    site in ``vehicle`` (a plate number) at ``when`` (YYYYMMDDhhmmss)."""
    root = _message("CEB507", guid)
    record = etree.SubElement(root, _C + "Arrival")
    _fill(etree.SubElement(record, _C + "ArrivalHead"), [
        *_start(guid, when, customs_code, f"YD{when}{guid[:8]}"),
        ("operatorCode", operator.code), ("operatorName", operator.name), ("ieFlag", "E"),
        ("trafMode", "4"), ("billNo", bill_no), ("domesticTrafNo", vehicle),
        ("logisticsCode", carrier.code), ("logisticsName", carrier.name), *_ONE_MESSAGE])
    for number, logistics_no in enumerate(waybills, start=1):
        _fill(etree.SubElement(record, _C + "ArrivalList"),
              [("gnum", str(number)), ("logisticsNo", logistics_no)])
    _transfer(root, operator)
    signature(root, signer)
    return root


def departure_record(
    carrier: Company, customs_code: str, voyage: Voyage, waybills: Sequence[str], *,
    when: str, guid: str, signer: Signer | None = None,
) -> etree._Element:
    """The carrier's 离境单 (CEB509, §2.9.4 pp. 23-24): ``waybills`` left China on ``voyage``
    at ``when`` (YYYYMMDDhhmmss)."""
    root = _message("CEB509", guid)
    record = etree.SubElement(root, _C + "Departure")
    _fill(etree.SubElement(record, _C + "DepartureHead"), [
        *_start(guid, when, customs_code, f"LJ{when}{guid[:8]}"),
        ("logisticsCode", carrier.code), ("logisticsName", carrier.name),
        ("trafMode", voyage.mode), ("trafName", voyage.name or None),
        ("voyageNo", voyage.number or None), ("billNo", voyage.bill or None),
        ("leaveTime", when), *_ONE_MESSAGE])
    for number, logistics_no in enumerate(waybills, start=1):
        _fill(etree.SubElement(record, _C + "DepartureList"),
              [("gnum", str(number)), ("logisticsNo", logistics_no)])
    _transfer(root, carrier)
    signature(root, signer)
    return root


def export_arrival(deal: Deal, minutes: int = 120) -> etree._Element:
    """The deal's parcel arrived at the sample site ``minutes`` after the deal's start."""
    return arrival_record(SAMPLE_SITE, deal.carrier, deal.customs_code, [deal.logistics_no],
                          vehicle=f"鄂G{deal.serial % 90000 + 10000}", bill_no=_bill_no(deal),
                          when=deal.stamp(minutes), guid=_guid(deal, f"arrival-{minutes}"))


def export_departure(deal: Deal, minutes: int = 480) -> etree._Element:
    """The deal's parcel left China on the 清单's voyage ``minutes`` after the deal's start."""
    return departure_record(deal.carrier, deal.customs_code, _voyage(deal), [deal.logistics_no],
                            when=deal.stamp(minutes), guid=_guid(deal, f"departure-{minutes}"))


def master_waybill_record(
    agent: Company, carrier: Company, customs_code: str, voyage: Voyage,
    parcels: Sequence[tuple[str, str | None]], *, gross_weight: str, when: str, guid: str,
    signer: Signer | None = None,
) -> etree._Element:
    """A 清单总分单 (CEB607, §2.15.4 pp. 39-40) binding ``parcels`` (waybill, its 清单's invtNo
    or None) to the master waybill and the vehicle or flight of ``voyage``, declared by
    ``agent`` and sent by ``carrier`` at ``when`` (YYYYMMDDhhmmss)."""
    root = _message("CEB607", guid)
    record = etree.SubElement(root, _C + "WayBill")
    _fill(etree.SubElement(record, _C + "WayBillHead"), [
        *_start(guid, when, customs_code, f"ZF{when}{guid[:8]}"),
        ("agentCode", agent.code), ("agentName", agent.name),
        ("trafMode", voyage.mode), ("trafName", voyage.name), ("voyageNo", voyage.number),
        ("billNo", voyage.bill), ("grossWeight", gross_weight),
        ("logisticsCode", carrier.code), ("logisticsName", carrier.name), *_ONE_MESSAGE])
    for number, (logistics_no, invt) in enumerate(parcels, start=1):
        _fill(etree.SubElement(record, _C + "WayBillList"), [
            ("gnum", str(number)), ("logisticsNo", logistics_no), ("invtNo", invt)])
    _transfer(root, carrier)
    signature(root, signer)
    return root


def export_master_waybill(deal: Deal, invt: str, minutes: int = 180) -> etree._Element:
    """The carrier's 清单总分单 binding the deal's parcel and 清单 ``invt`` to the master
    waybill and voyage its 清单 names."""
    return master_waybill_record(deal.agent, deal.carrier, deal.customs_code, _voyage(deal),
                                 [(deal.logistics_no, invt)], gross_weight=fmt(deal.gross_weight),
                                 when=deal.stamp(minutes), guid=_guid(deal, f"master-{minutes}"))


def export_cancellation(deal: Deal, invt: str, reason: str = "买家取消订单") -> etree._Element:
    """The declarant's 撤销申请单 (CEB605, §2.13.4 p. 35) of the deal's 清单 ``invt``."""
    guid = _guid(deal, f"cancel-{reason}")
    root = _message("CEB605", guid)
    _fill(etree.SubElement(root, _C + "InvtCancel"), [
        *_start(guid, deal.stamp(90), deal.customs_code, f"CX{deal.stamp(90)}"),
        ("invtNo", invt), ("reason", reason),
        ("agentCode", deal.agent.code), ("agentName", deal.agent.name),
        ("ebcCode", deal.seller.code), ("ebcName", deal.seller.name)])
    _transfer(root, deal.agent)
    signature(root)
    return root


def export_return(
    deal: Deal, invt: str, quantities: Mapping[int, Decimal], *, reason: str = "买家退货"
) -> etree._Element:
    """The declarant's 退货申请单 (CEB213, §2.17.4 pp. 44-46) of the deal's 清单 ``invt``:
    ``quantities`` by the 清单's line number, coming back by the carrier that took them out."""
    tag = ",".join(f"{gnum}x{qty}" for gnum, qty in sorted(quantities.items()))
    guid = _guid(deal, f"return-{tag}-{reason}")
    voyage = _voyage(deal)
    root = _message("CEB213", guid)
    record = etree.SubElement(root, _C + "InvtRefund")
    _fill(etree.SubElement(record, _C + "InvtRefundHead"), [
        *_app(deal, guid, 7 * 24 * 60), ("customsCode", deal.customs_code),
        ("ebpCode", deal.platform.code), ("ebpName", deal.platform.name),
        ("ebcCode", deal.seller.code), ("ebcName", deal.seller.name),
        ("logisticsNo", deal.logistics_no), ("logisticsCode", deal.carrier.code),
        ("logisticsName", deal.carrier.name), ("coElNo", f"TH{deal.stamp(0, '%Y%m%d')}"
                                                          f"{deal.serial:06d}"),
        ("invtNo", invt), ("tradeMode", return_trade_mode(deal.regime)),
        ("agentCode", deal.agent.code), ("agentName", deal.agent.name),
        ("billNo", voyage.bill), ("ieFlag", "I"), ("trafMode", voyage.mode),
        ("trafName", voyage.name), ("portCode", deal.customs_code), ("reason", reason),
        ("country", deal.country), ("voyageNo", voyage.number)])
    for line in deal.lines:
        if line.gnum in quantities:
            qty = quantities[line.gnum]
            legal = (qty * line.goods.legal_per_unit).quantize(Decimal("0.00001"))
            _fill(etree.SubElement(record, _C + "InvtRefundList"), [
                ("gnum", str(line.gnum)), ("gcode", line.goods.hs), ("gname", line.goods.name),
                ("gmodel", line.goods.model), ("qty", fmt(qty)), ("qty1", f"{legal:f}"),
                ("unit", line.goods.unit), ("unit1", line.goods.legal_unit)])
    _transfer(root, deal.agent)
    signature(root)
    return root


def export_return_tally(deal: Deal, invt: str, minutes: int = 10 * 24 * 60) -> etree._Element:
    """The sample site's 退货理货明细单 (CEB215, §2.19.4 pp. 50-51): the deal's returned parcel
    came back and was tallied ``minutes`` after the deal's start."""
    guid = _guid(deal, f"tally-{minutes}")
    voyage = _voyage(deal)
    root = _message("CEB215", guid)
    _fill(etree.SubElement(root, _C + "InvtRefundDetail"), [
        *_app(deal, guid, minutes), ("customsCode", deal.customs_code),
        ("operatorCode", SAMPLE_SITE.code), ("operatorName", SAMPLE_SITE.name),
        ("logisticsCode", deal.carrier.code), ("logisticsName", deal.carrier.name),
        ("logisticsNo", deal.logistics_no), ("invtNo", invt),
        ("coElNo", f"LH{deal.stamp(minutes, '%Y%m%d')}{deal.serial:06d}"),
        ("billNo", voyage.bill), ("ieFlag", "I"), ("trafMode", voyage.mode),
        ("trafName", voyage.name), ("voyageNo", voyage.number)])
    _transfer(root, SAMPLE_SITE)
    signature(root)
    return root


def export_summary_application(
    deal: Deal,
    invts: Sequence[str],
    *,
    summary_flag: str = "1",
    item_name_flag: str = "1",
    start: str | None = None,
    end: str | None = None,
) -> etree._Element:
    """The declarant's 汇总申请单 (CEB701, §2.21.4 pp. 55-56) of the 清单 ``invts``, sent in
    the month after the deal (the next month's 1st at 09:00), the deal's declarant also lodging
    the 报关单. ``start`` and ``end`` (YYYYMMDDhhmmss) are its time range, each left out when
    None."""
    guid = _guid(deal, "summary-" + ",".join(invts))
    month = deal.when.month % 12 + 1
    year = deal.when.year + (deal.when.month == 12)
    when = f"{year}{month:02d}01090000"
    root = _message("CEB701", guid)
    record = etree.SubElement(root, _C + "SummaryApply")
    _fill(etree.SubElement(record, _C + "SummaryApplyHead"), [
        *_start(guid, when, deal.customs_code, f"HZ{when}"),
        ("agentCode", deal.agent.code), ("agentName", deal.agent.name),
        ("ebcCode", deal.seller.code), ("ebcName", deal.seller.name),
        ("declAgentCode", deal.agent.code), ("declAgentName", deal.agent.name),
        ("startTime", start), ("endTime", end),
        ("summaryFlag", summary_flag), ("itemNameFlag", item_name_flag), *_ONE_MESSAGE])
    for invt in invts:
        _fill(etree.SubElement(record, _C + "SummaryApplyList"), [("invtNo", invt)])
    _transfer(root, deal.agent)
    signature(root)
    return root
# fmt: on


def export_after(sample: SampleSet) -> dict[str, etree._Element]:
    """What may follow the sample's export 清单, by file name (see ``write_export_after``)."""
    deal = sample.deal
    invt = sample.documents["inventory-CEB603.xml"].findtext(f".//{_C}invtNo") or ""
    first = deal.lines[0].gnum
    return {
        "arrival-CEB507.xml": export_arrival(deal),
        "master-waybill-CEB607.xml": export_master_waybill(deal, invt),
        "departure-CEB509.xml": export_departure(deal),
        "cancellation-CEB605.xml": export_cancellation(deal, invt),
        "return-CEB213.xml": export_return(deal, invt, {first: Decimal(1)}),
        "return-tally-CEB215.xml": export_return_tally(deal, invt),
        "summary-CEB701.xml": export_summary_application(deal, [invt]),
    }


def write_export_after(sample: SampleSet, folder: Path) -> list[Path]:
    """Write what may follow the sample's export 清单 into ``folder``: its arrival at the site,
    its master waybill, its departure, a cancellation, a return of one item of its first line
    and the site's tally of it, and a summary application naming the 清单."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, root in export_after(sample).items():
        (folder / name).write_bytes(to_bytes(root))
        written.append(folder / name)
    return written
