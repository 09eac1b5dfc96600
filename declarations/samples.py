"""Complete, mutually consistent sample sets for every regime (``danchuang samples``).

A set is the documents of one deal, each a CEB message with one record:

- import (9610 direct purchase, 1210 bonded): order CEB311, payment CEB411, waybill CEB511,
  declaration list (清单) CEB621;
- export 9610 / 1210: order CEB303 (type E), receipt of payment CEB403, waybill CEB505,
  清单 CEB603;
- 9710 / 9810: order CEB303 (type B / W), waybill CEB505, 清单 CEB603 — the 清单 route, so
  the goods stay within 5,000 CNY.

Everything is drawn from one ``random.Random(seed)``, so a seed always gives the same sets.
Values honour the schema facets (lengths, N19,5 with at most 2 decimals) and every business
rule; the import taxTotal is the tax ``declarations.tax`` computes. The folders of a set are
named ``<regime>-<direction>-<nnnn>``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from declarations.document import Document
from declarations.identifiers import invt_no, pre_no
from declarations.messages import BY_ROOT, CEB_NS, Direction, Regime
from declarations.pki import Signer
from declarations.sample_deals import (
    CNY,
    PARTY_ROLES,
    Company,
    Deal,
    fmt,
    id_check_digit,
    make_deal,
)
from declarations.sample_signer import published_certificates, sample_signer, stand_in_signer
from declarations.xmldsig import SIGNATURE_TAG, sign_message, sign_tree

__all__ = [
    "PARTY_ROLES",
    "Company",
    "Deal",
    "SampleSet",
    "build_set",
    "fmt",
    "generate_sets",
    "id_check_digit",
    "make_deal",
    "published_certificates",
    "sample_signer",
    "stand_in_signer",
    "to_bytes",
]

_C = "{" + CEB_NS + "}"
NSMAP = {"ceb": CEB_NS}

# --- rendering -------------------------------------------------------------------------------


def _fill(parent: etree._Element, fields: Sequence[tuple[str, str | None]]) -> etree._Element:
    """Append ``ceb:name`` children in order; None values are left out (optional fields)."""
    for name, value in fields:
        if value is not None:
            etree.SubElement(parent, _C + name).text = value
    return parent


def _message(code: str, guid: str) -> etree._Element:
    return etree.Element(f"{_C}{code}Message", nsmap=NSMAP, guid=guid, version="1.0")


def _app(deal: Deal, guid: str, minutes: int, status: str = "2") -> list[tuple[str, str | None]]:
    return [("guid", guid), ("appType", "1"), ("appTime", deal.stamp(minutes)),
            ("appStatus", status)]  # fmt: skip


def _transfer(root: etree._Element, sender: Company) -> None:
    _fill(etree.SubElement(root, _C + "BaseTransfer"), [
        ("copCode", sender.code), ("copName", sender.name), ("dxpMode", "DXP"),
        ("dxpId", sender.dxp_id),
    ])  # fmt: skip


# Where the schema requires a signature (the 清单, CEB621), the message is signed for real by
# the sample signer (``declarations.sample_signer``), and signed again when written
# (``to_bytes``): an edited tree or its indented file is not the message first signed. The
# messages danchuang sends when it plays a party are signed by the stand-in signer instead (its
# builders' ``signer``, ``app.services.stand_ins``).
def signature(root: etree._Element, signer: Signer | None = None) -> None:
    """Append the signature of ``root`` as it stands, by ``signer`` (the sample signer's by
    default): it holds for the tree written as it is (``etree.tostring``, as the live service
    sends the messages it plays), not for its indented file (``to_bytes``)."""
    key, certificate = signer or sample_signer()
    sign_tree(root, key, certificate)


# fmt: off
def import_order(deal: Deal) -> etree._Element:
    guid = deal.guids[0]
    root = _message("CEB311", guid)
    record = etree.SubElement(root, _C + "Order")
    b = deal.buyer
    _fill(etree.SubElement(record, _C + "OrderHead"), [*_app(deal, guid, 0),
        ("orderType", "I"), ("orderNo", deal.order_no),
        ("ebpCode", deal.platform.code), ("ebpName", deal.platform.name),
        ("ebcCode", deal.seller.code), ("ebcName", deal.seller.name),
        ("goodsValue", fmt(deal.goods_value)), ("freight", fmt(deal.freight)),
        ("discount", fmt(deal.discount)), ("taxTotal", fmt(deal.tax_total)),
        ("acturalPaid", fmt(deal.paid)), ("currency", CNY),
        ("buyerRegNo", b.platform_account), ("buyerName", b.name), ("buyerTelephone", b.phone),
        ("buyerIdType", "1"), ("buyerIdNumber", b.id_number),
        ("payCode", deal.payer_company.code), ("payName", deal.payer_company.name),
        ("payTransactionId", deal.pay_no),
        ("consignee", b.name), ("consigneeTelephone", b.phone), ("consigneeAddress", b.address),
        ("consigneeDistrict", b.id_number[:6])])
    for line in deal.lines:
        _fill(etree.SubElement(record, _C + "OrderList"), [
            ("gnum", str(line.gnum)), ("itemNo", line.sku),
            ("itemName", line.goods.name), ("gmodel", line.goods.model),
            ("unit", line.goods.unit), ("qty", fmt(line.qty)), ("price", fmt(line.price)),
            ("totalPrice", fmt(line.total)), ("currency", CNY), ("country", deal.country)])
    _transfer(root, deal.seller)
    return root


def import_payment(deal: Deal) -> etree._Element:
    guid = deal.guids[1]
    root = _message("CEB411", guid)
    b, pay = deal.buyer, deal.payer_company
    _fill(etree.SubElement(etree.SubElement(root, _C + "Payment"), _C + "PaymentHead"), [
        *_app(deal, guid, 1), ("payCode", pay.code), ("payName", pay.name),
        ("payTransactionId", deal.pay_no), ("orderNo", deal.order_no),
        ("ebpCode", deal.platform.code), ("ebpName", deal.platform.name),
        ("payerIdType", "1"), ("payerIdNumber", b.id_number), ("payerName", b.name),
        ("telephone", b.phone), ("amountPaid", fmt(deal.paid)), ("currency", CNY),
        ("payTime", deal.stamp(-2))])
    _transfer(root, pay)
    return root


def import_waybill(deal: Deal) -> etree._Element:
    guid = deal.guids[2]
    root = _message("CEB511", guid)
    b = deal.buyer
    _fill(etree.SubElement(etree.SubElement(root, _C + "Logistics"), _C + "LogisticsHead"), [
        *_app(deal, guid, 3), ("logisticsCode", deal.carrier.code),
        ("logisticsName", deal.carrier.name), ("logisticsNo", deal.logistics_no),
        ("billNo", _bill_no(deal)), ("orderNo", deal.order_no),
        ("freight", fmt(deal.freight)), ("insuredFee", "0.00"), ("currency", CNY),
        ("weight", fmt(deal.gross_weight)), ("packNo", "1"),
        ("goodsInfo", "、".join(line.goods.name for line in deal.lines)),
        ("consignee", b.name), ("consigneeAddress", b.address), ("consigneeTelephone", b.phone)])
    _transfer(root, deal.carrier)
    return root


def import_inventory(deal: Deal) -> etree._Element:
    guid = deal.guids[3]
    root = _message("CEB621", guid)
    record = etree.SubElement(root, _C + "Inventory")
    b, bonded = deal.buyer, deal.regime is Regime.BONDED
    _fill(etree.SubElement(record, _C + "InventoryHead"), [*_app(deal, guid, 30),
        ("orderNo", deal.order_no), ("ebpCode", deal.platform.code),
        ("ebpName", deal.platform.name), ("ebcCode", deal.seller.code),
        ("ebcName", deal.seller.name), ("logisticsNo", deal.logistics_no),
        ("logisticsCode", deal.carrier.code), ("logisticsName", deal.carrier.name),
        ("copNo", f"C{deal.stamp(30, '%Y%m%d')}{deal.serial:06d}"),
        ("preNo", pre_no(deal.when.date(), deal.serial)), ("assureCode", deal.seller.code),
        ("emsNo", _ems_no(deal) if bonded else None),
        ("invtNo", invt_no(deal.customs_code, deal.when.year, Direction.IMPORT, deal.serial)),
        ("ieFlag", "I"), ("declTime", deal.stamp(30, "%Y%m%d")),
        ("customsCode", deal.customs_code), ("portCode", deal.customs_code),
        ("ieDate", deal.stamp(0, "%Y%m%d")),
        ("buyerIdType", "1"), ("buyerIdNumber", b.id_number), ("buyerName", b.name),
        ("buyerTelephone", b.phone), ("consigneeAddress", b.address),
        ("agentCode", deal.agent.code), ("agentName", deal.agent.name),
        ("areaCode", deal.zone.code if bonded else None),
        ("areaName", deal.zone.name if bonded else None),
        ("tradeMode", deal.regime.value), ("trafMode", "4" if bonded else "5"),
        ("trafNo", None if bonded else f"CA{deal.serial % 9000 + 1000}"),
        ("voyageNo", None if bonded else deal.stamp(0, "%Y%m%d")),
        ("billNo", None if bonded else _bill_no(deal)),
        ("country", CNY if bonded else deal.country),
        ("freight", fmt(deal.freight)), ("insuredFee", "0.00"), ("currency", CNY),
        ("wrapType", "2"), ("packNo", "1"), ("grossWeight", fmt(deal.gross_weight)),
        ("netWeight", fmt(deal.net_weight))])
    for line in deal.lines:
        _fill(etree.SubElement(record, _C + "InventoryList"), [
            ("gnum", str(line.gnum)),
            ("itemRecordNo", line.record_no if bonded else None),
            ("itemNo", line.sku), ("itemName", line.goods.name),
            ("gcode", line.goods.hs), ("gname", line.goods.name), ("gmodel", line.goods.model),
            ("barCode", "无"), ("country", deal.country), ("currency", CNY),
            ("qty", fmt(line.qty)), ("unit", line.goods.unit),
            ("qty1", f"{line.legal_qty:f}"), ("unit1", line.goods.legal_unit),
            ("price", fmt(line.price)), ("totalPrice", fmt(line.total))])
    _transfer(root, deal.agent)
    signature(root)
    return root


def export_order(deal: Deal) -> etree._Element:
    guid = deal.guids[0]
    root = _message("CEB303", guid)
    record = etree.SubElement(root, _C + "Order")
    order_type = {Regime.B2B_DIRECT: "B", Regime.OVERSEAS_WAREHOUSE: "W"}.get(deal.regime, "E")
    _fill(etree.SubElement(record, _C + "OrderHead"), [*_app(deal, guid, 0),
        ("orderType", order_type), ("orderNo", deal.order_no),
        ("ebpCode", deal.platform.code), ("ebpName", deal.platform.name),
        ("ebcCode", deal.seller.code), ("ebcName", deal.seller.name),
        ("goodsValue", fmt(deal.goods_value)), ("freight", fmt(deal.freight)),
        ("currency", CNY)])
    for line in deal.lines:
        _fill(etree.SubElement(record, _C + "OrderList"), [
            ("gnum", str(line.gnum)), ("itemNo", line.sku),
            ("itemName", line.goods.name), ("unit", line.goods.unit), ("currency", CNY),
            ("qty", fmt(line.qty)), ("price", fmt(line.price)), ("totalPrice", fmt(line.total))])
    _transfer(root, deal.seller)
    return root


def export_receipt(deal: Deal) -> etree._Element:
    guid = deal.guids[1]
    root = _message("CEB403", guid)
    pay = deal.payer_company
    _fill(etree.SubElement(root, _C + "Receipts"), [*_app(deal, guid, 5),
        ("ebpCode", deal.platform.code), ("ebpName", deal.platform.name),
        ("ebcCode", deal.seller.code), ("ebcName", deal.seller.name),
        ("orderNo", deal.order_no), ("payCode", pay.code), ("payName", pay.name),
        ("payNo", deal.pay_no), ("charge", fmt(deal.goods_value + deal.freight)),
        ("currency", CNY), ("accountingDate", deal.stamp(4))])
    _transfer(root, pay)
    return root


def export_waybill(deal: Deal) -> etree._Element:
    guid = deal.guids[2]
    root = _message("CEB505", guid)
    _fill(etree.SubElement(root, _C + "Logistics"), [*_app(deal, guid, 10),
        ("logisticsCode", deal.carrier.code), ("logisticsName", deal.carrier.name),
        ("logisticsNo", deal.logistics_no), ("freight", fmt(deal.freight)),
        ("insuredFee", "0.00"), ("currency", CNY), ("grossWeight", fmt(deal.gross_weight)),
        ("packNo", "1"), ("goodsInfo", "、".join(line.goods.name for line in deal.lines)),
        ("ebcCode", deal.seller.code), ("ebcName", deal.seller.name)])
    _transfer(root, deal.carrier)
    return root


def export_inventory(deal: Deal) -> etree._Element:
    guid = deal.guids[3]
    root = _message("CEB603", guid)
    record = etree.SubElement(root, _C + "Inventory")
    zone = deal.regime is Regime.BONDED
    _fill(etree.SubElement(record, _C + "InventoryHead"), [*_app(deal, guid, 30),
        ("customsCode", deal.customs_code),
        ("ebpCode", deal.platform.code), ("ebpName", deal.platform.name),
        ("orderNo", deal.order_no), ("logisticsCode", deal.carrier.code),
        ("logisticsName", deal.carrier.name), ("logisticsNo", deal.logistics_no),
        ("copNo", f"C{deal.stamp(30, '%Y%m%d')}{deal.serial:06d}"),
        ("preNo", pre_no(deal.when.date(), deal.serial)),
        ("invtNo", invt_no(deal.customs_code, deal.when.year, Direction.EXPORT, deal.serial)),
        ("ieFlag", "E"), ("portCode", deal.customs_code), ("ieDate", deal.stamp(0, "%Y%m%d")),
        ("statisticsFlag", "A" if deal.regime is Regime.DIRECT else "B"),
        ("agentCode", deal.agent.code), ("agentName", deal.agent.name),
        ("ebcCode", deal.seller.code), ("ebcName", deal.seller.name),
        ("ownerCode", deal.seller.code), ("ownerName", deal.seller.name),
        ("iacCode", deal.zone.code if zone else None),
        ("iacName", deal.zone.name if zone else None),
        ("emsNo", _ems_no(deal) if zone else None),
        ("tradeMode", deal.regime.value), ("trafMode", "5"),
        ("trafName", f"CA{deal.serial % 9000 + 1000}"), ("voyageNo", deal.stamp(0, "%Y%m%d")),
        ("billNo", _bill_no(deal)), ("country", deal.country), ("POD", deal.country),
        ("freight", fmt(deal.freight)), ("fCurrency", CNY), ("fFlag", "3"),
        ("insuredFee", "0.00"), ("iCurrency", CNY), ("iFlag", "3"), ("wrapType", "2"),
        ("packNo", "1"), ("grossWeight", fmt(deal.gross_weight)),
        ("netWeight", fmt(deal.net_weight))])
    for line in deal.lines:
        _fill(etree.SubElement(record, _C + "InventoryList"), [
            ("gnum", str(line.gnum)), ("itemNo", line.sku),
            ("itemRecordNo", line.record_no if zone else None),
            ("itemName", line.goods.name), ("gcode", line.goods.hs), ("gname", line.goods.name),
            ("gmodel", line.goods.model), ("barCode", "无"), ("country", "142"),
            ("currency", CNY), ("qty", fmt(line.qty)), ("qty1", f"{line.legal_qty:f}"),
            ("unit", line.goods.unit), ("unit1", line.goods.legal_unit),
            ("price", fmt(line.price)), ("totalPrice", fmt(line.total))])
    _transfer(root, deal.agent)
    return root
# fmt: on


def _bill_no(deal: Deal) -> str:
    return f"{deal.serial % 900 + 100}-{deal.when:%m%d}{deal.serial % 10000:04d}"


def _ems_no(deal: Deal) -> str:
    return f"T{deal.customs_code}W{deal.zone.code[-6:]}"


# --- sets ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SampleSet:
    """One deal's documents: file name -> message root, in the order they are sent."""

    name: str
    deal: Deal
    documents: dict[str, etree._Element]

    def as_documents(self) -> list[Document]:
        """The set as identified documents, as the pipeline would hand them to the rules."""
        direction, regime = self.deal.direction, self.deal.regime
        roots = self.documents.items()
        return [
            Document(n, r, BY_ROOT[etree.QName(r).localname], direction, regime) for n, r in roots
        ]

    def write(self, out: Path) -> Path:
        folder = out / self.name
        folder.mkdir(parents=True, exist_ok=True)
        for file_name, root in self.documents.items():
            (folder / file_name).write_bytes(to_bytes(root))
        return folder


def to_bytes(root: etree._Element) -> bytes:
    """The message as a file; a signed one is signed again as written (see ``signature``)."""
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    if len(root) and root[-1].tag == SIGNATURE_TAG:
        key, certificate = sample_signer()
        data = sign_message(data, key, certificate)
    return data


def build_set(deal: Deal) -> SampleSet:
    if deal.direction is Direction.IMPORT:
        docs = {"order-CEB311.xml": import_order(deal), "payment-CEB411.xml": import_payment(deal),
                "waybill-CEB511.xml": import_waybill(deal),
                "inventory-CEB621.xml": import_inventory(deal)}  # fmt: skip
    else:
        docs = {"order-CEB303.xml": export_order(deal)}
        if deal.regime in (Regime.DIRECT, Regime.BONDED):
            docs["payment-CEB403.xml"] = export_receipt(deal)
        docs["waybill-CEB505.xml"] = export_waybill(deal)
        docs["inventory-CEB603.xml"] = export_inventory(deal)
    name = f"{deal.regime.value}-{deal.direction.value}-{deal.serial:04d}"
    return SampleSet(name, deal, docs)


def generate_sets(
    regime: Regime,
    direction: Direction = Direction.IMPORT,
    *,
    seed: int = 0,
    count: int = 1,
    parties: Mapping[str, Company] | None = None,
) -> list[SampleSet]:
    """``count`` sets for a regime and direction, the same for the same seed; ``parties`` fixes
    the enterprises of some roles (see ``make_deal``)."""
    if direction not in regime.directions:
        raise ValueError(f"regime {regime.value} has no {direction.value} direction")
    unknown = set(parties or {}) - set(PARTY_ROLES)
    if unknown:
        raise ValueError(f"unknown party role(s): {', '.join(sorted(unknown))}")
    rng = random.Random(f"{seed}:{regime.value}:{direction.value}")
    return [
        build_set(make_deal(regime, direction, rng, serial, parties))
        for serial in range(1, count + 1)
    ]
