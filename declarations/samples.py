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

import base64
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from lxml import etree

from declarations.document import Document
from declarations.identifiers import invt_no, pre_no
from declarations.messages import BY_ROOT, CEB_NS, Direction, Regime
from declarations.tax import TaxableLine, import_tax

_C = "{" + CEB_NS + "}"
NSMAP = {"ceb": CEB_NS}
CNY = "142"
START = datetime(2026, 1, 5, 9, 0, 0)  # sample clock: the sets spread over 2026

# --- the world the samples are drawn from ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Goods:
    name: str
    model: str  # gmodel: brand, size, composition
    hs: str  # 10-digit HS code
    unit: str  # transaction unit (JGS-20): 007 个, 011 件
    legal_unit: str  # first legal unit: 035 千克 or the transaction unit
    legal_per_unit: Decimal  # legal quantity per transaction unit
    kg_per_unit: Decimal
    price_low: Decimal
    price_high: Decimal


def _catalogue(table: str) -> tuple[Goods, ...]:
    """Goods from a table of ``name | model | HS | unit | legal unit | legal per unit | kg per
    unit | lowest price | highest price`` rows."""
    goods = []
    for row in table.strip().splitlines():
        name, model, hs, unit, legal, per, kg, low, high = (c.strip() for c in row.split("|"))
        goods.append(Goods(name, model, hs, unit, legal, Decimal(per), Decimal(kg),
                           Decimal(low), Decimal(high)))  # fmt: skip
    return tuple(goods)


IMPORT_GOODS = _catalogue("""
婴儿配方奶粉   | 1段 800克/罐 牛奶基 | 1901101000 | 007 | 035 | 0.8  | 1.1  | 180 | 320
玻尿酸补水面膜 | 25毫升×10片/盒      | 3304990099 | 007 | 035 | 0.3  | 0.35 | 89  | 199
深海鱼油软胶囊 | 1000毫克×200粒/瓶   | 2106909090 | 007 | 035 | 0.3  | 0.4  | 120 | 260
婴儿纸尿裤     | L码 54片/包         | 9619001100 | 011 | 035 | 1.2  | 1.3  | 99  | 169
声波电动牙刷   | 充电式 含2个刷头    | 8509809000 | 007 | 007 | 1    | 0.5  | 199 | 899
无硅油洗发水   | 500毫升/瓶          | 3305100090 | 007 | 035 | 0.55 | 0.6  | 59  | 139
维生素C咀嚼片  | 60片/瓶 橙味        | 2106909090 | 007 | 035 | 0.12 | 0.15 | 69  | 159
""")
EXPORT_GOODS = _catalogue("""
手机保护壳     | TPU材质 适配6.1英寸  | 3926909090 | 007 | 035 | 0.03 | 0.04 | 6   | 25
蓝牙耳机       | 真无线 入耳式       | 8518300000 | 007 | 007 | 1    | 0.1  | 35  | 90
LED灯带        | 5米/卷 12V          | 9405409000 | 007 | 035 | 0.25 | 0.3  | 12  | 40
女式连衣裙     | 涤纶100% 针织       | 6104430090 | 011 | 011 | 1    | 0.3  | 25  | 80
运动鞋         | 橡胶底 纺织面       | 6404110090 | 011 | 011 | 1    | 0.8  | 40  | 95
不锈钢保温杯   | 500毫升 304不锈钢   | 9617001900 | 007 | 007 | 1    | 0.35 | 15  | 45
""")
# city, customs area of company codes, district code of ID numbers, address prefix
_CITIES = (
    ("杭州", "3301", "330106", "浙江省杭州市西湖区"),
    ("宁波", "3302", "330212", "浙江省宁波市鄞州区"),
    ("广州", "4401", "440106", "广东省广州市天河区"),
    ("深圳", "4403", "440305", "广东省深圳市南山区"),
    ("上海", "3100", "310115", "上海市浦东新区"),
    ("郑州", "4101", "410105", "河南省郑州市金水区"),
    ("北京", "1100", "110105", "北京市朝阳区"),
    ("成都", "5101", "510107", "四川省成都市武侯区"),
)
# fmt: off
_BRANDS = ("海纳", "云帆", "远航", "嘉禾", "星桥", "瑞丰", "恒通", "盛远", "优选", "环宇",
           "锦程", "蓝海")
_ROLES = {"platform": ("网络科技有限公司", "ENT"), "seller": ("国际贸易有限公司", "ENT"),
          "carrier": ("国际物流有限公司", "LGS"), "payment": ("支付服务有限公司", "ENT"),
          "agent": ("报关服务有限公司", "ENT"), "zone": ("保税仓储有限公司", "ENT")}
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛",
          "明", "超", "秀英", "华", "晨", "欣怡", "子涵", "浩然", "雨桐", "思远")
_ROADS = ("文三路", "学院路", "中山路", "人民路", "解放路", "建设路", "科技路", "滨江大道")
# fmt: on
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True, slots=True)
class Company:
    code: str  # 10-character customs registration code
    name: str
    dxp_id: str


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    id_number: str
    phone: str
    address: str
    platform_account: str


def id_check_digit(first17: str) -> str:
    """The GB 11643 check character (ISO 7064 MOD 11-2) of a resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def company(rng: random.Random, role: str) -> Company:
    city, area, _, _ = rng.choice(_CITIES)
    suffix, dxp_kind = _ROLES[role]
    code = f"{area}{rng.choice('9W')}{rng.randint(0, 99999):05d}"
    dxp = f"DXP{dxp_kind}{rng.randint(0, 10**10 - 1):010d}"
    return Company(code, f"{city}{rng.choice(_BRANDS)}{suffix}", dxp)


def person(rng: random.Random) -> Person:
    _, _, district, place = rng.choice(_CITIES)
    born = datetime(1960, 1, 1) + timedelta(days=rng.randint(0, 40 * 365))
    first17 = f"{district}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    number, building, room = rng.randint(1, 999), rng.randint(1, 30), rng.randint(101, 2808)
    address = f"{place}{rng.choice(_ROADS)}{number}号{building}幢{room}室"
    return Person(
        name=rng.choice(_SURNAMES) + rng.choice(_GIVEN),
        id_number=first17 + id_check_digit(first17),
        phone=f"1{rng.choice('3589')}{rng.randint(0, 10**9 - 1):09d}",
        address=address,
        platform_account=f"u{rng.randint(10**7, 10**9)}",
    )


def fmt(value: Decimal) -> str:
    """An N19,5 amount as text: two decimals, as platforms send money."""
    return f"{value.quantize(Decimal('0.01')):f}"


@dataclass(frozen=True, slots=True)
class Line:
    gnum: int
    goods: Goods
    qty: Decimal
    price: Decimal

    @property
    def total(self) -> Decimal:
        return self.qty * self.price

    @property
    def legal_qty(self) -> Decimal:
        return (self.qty * self.goods.legal_per_unit).quantize(Decimal("0.00001"))

    @property
    def weight(self) -> Decimal:
        return self.qty * self.goods.kg_per_unit

    @property
    def sku(self) -> str:
        return f"SKU{self.goods.hs[:6]}{self.gnum:02d}"

    @property
    def record_no(self) -> str:  # the bonded account book's item number (itemRecordNo)
        return f"{self.goods.hs[:8]}{self.gnum:02d}"


@dataclass(frozen=True, slots=True)
class Deal:
    """Everything the documents of one set say, decided once so that they agree."""

    regime: Regime
    direction: Direction
    serial: int
    when: datetime
    guids: tuple[str, str, str, str]
    order_no: str
    logistics_no: str
    pay_no: str
    platform: Company
    seller: Company
    carrier: Company
    payer_company: Company
    agent: Company
    zone: Company  # the bonded / special-area warehouse enterprise (1210)
    buyer: Person
    lines: tuple[Line, ...]
    freight: Decimal
    discount: Decimal
    customs_code: str
    country: str

    @property
    def goods_value(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal(0))

    @property
    def tax_total(self) -> Decimal:
        if self.direction is Direction.EXPORT:
            return Decimal(0)
        taxable = [TaxableLine(line.total) for line in self.lines]  # VAT 13 %, no excise
        return import_tax(taxable, freight=self.freight).total

    @property
    def paid(self) -> Decimal:
        return self.goods_value + self.freight + self.tax_total - self.discount

    @property
    def net_weight(self) -> Decimal:
        return sum((line.weight for line in self.lines), Decimal(0))

    @property
    def gross_weight(self) -> Decimal:
        return self.net_weight + Decimal("0.2")  # the parcel's packing

    def stamp(self, minutes: int, pattern: str = "%Y%m%d%H%M%S") -> str:
        return (self.when + timedelta(minutes=minutes)).strftime(pattern)


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper()


def _money(rng: random.Random, low: Decimal, high: Decimal) -> Decimal:
    cents = rng.randint(int(low * 100), int(high * 100))
    return Decimal(cents) / 100


# The roles a deal's enterprises play, as ``parties`` of ``generate_sets`` name them.
PARTY_ROLES = tuple(_ROLES)


def make_deal(
    regime: Regime,
    direction: Direction,
    rng: random.Random,
    serial: int,
    parties: Mapping[str, Company] | None = None,
) -> Deal:
    """Draw one deal; its value stays within 5,000 CNY (with freight for import).

    ``parties`` (role -> enterprise, roles of ``PARTY_ROLES``) replaces the drawn enterprises of
    those roles; everything else is drawn as without it, so the same seed gives the same deal.
    """
    when = START + timedelta(minutes=rng.randint(0, 330 * 24 * 60))
    imported = direction is Direction.IMPORT
    catalogue = IMPORT_GOODS if imported else EXPORT_GOODS
    b2b = regime in (Regime.B2B_DIRECT, Regime.OVERSEAS_WAREHOUSE)
    budget = Decimal(4600)
    lines: list[Line] = []
    for goods in rng.sample(catalogue, rng.randint(1, 3)):
        price = _money(rng, goods.price_low, goods.price_high)
        qty = Decimal(rng.randint(20, 120) if b2b else rng.randint(1, 3))
        qty = min(qty, Decimal(int(budget / price)))
        if qty < 1:
            break
        budget -= qty * price
        lines.append(Line(len(lines) + 1, goods, qty, price))
    low, high = (Decimal(0), Decimal(60)) if imported else (Decimal(20), Decimal(300))
    freight = _money(rng, low, high)
    discount = rng.choice((Decimal(0), Decimal(0), Decimal(5))) if imported else Decimal(0)
    prefix = "I" if imported else "E"
    guids = (_guid(rng), _guid(rng), _guid(rng), _guid(rng))
    order_no = f"{prefix}{when:%Y%m%d}{rng.randint(0, 10**10 - 1):010d}"
    logistics_no = f"{rng.choice(('SF', 'YT', 'JD', 'EMS'))}{rng.randint(0, 10**13 - 1):013d}"
    pay_no = f"PAY{when:%Y%m%d%H%M%S}{rng.randint(0, 10**8 - 1):08d}"
    drawn = {role: company(rng, role) for role in PARTY_ROLES}  # drawn even when given
    firms = {role: (parties or {}).get(role, firm) for role, firm in drawn.items()}
    # fmt: off
    return Deal(
        regime=regime, direction=direction, serial=serial, when=when, guids=guids,
        order_no=order_no, logistics_no=logistics_no, pay_no=pay_no,
        platform=firms["platform"], seller=firms["seller"], carrier=firms["carrier"],
        payer_company=firms["payment"], agent=firms["agent"], zone=firms["zone"],
        buyer=person(rng),
        lines=tuple(lines), freight=freight, discount=discount,
        customs_code=rng.choice(("2244", "2249", "5141", "5316", "2918", "4606")),
        country=rng.choice(("116", "133", "304", "305", "502", "601", "609")),
    )
    # fmt: on


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


# A structurally valid enveloped XML-DSig signature (CEB spec 202205 §6) — NOT a real signature: no
# cryptography happens here. Digest, signature value and certificate are random base64 bytes,
# only so that a schema making the Signature mandatory (CEB621) is satisfied.
_SIGNATURE = """<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
<ds:SignatureMethod Algorithm="http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3"/>
<ds:Reference URI=""><ds:Transforms>
<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>
<ds:DigestMethod Algorithm="http://www.chinaport.gov.cn/2022/04/xmldsig#sm3"/>
<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>
<ds:SignatureValue>{value}</ds:SignatureValue>
<ds:KeyInfo><ds:KeyName>0001</ds:KeyName>
<ds:X509Data><ds:X509Certificate>{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
</ds:Signature>"""


def signature(root: etree._Element, deal: Deal) -> None:
    """Append a placeholder ``ds:Signature`` (see ``_SIGNATURE``)."""
    rng = random.Random(deal.guids[3])
    digest, value, certificate = (base64.b64encode(rng.randbytes(n)).decode() for n in (32, 64, 96))
    text = _SIGNATURE.format(digest=digest, value=value, certificate=certificate)
    root.append(etree.fromstring(text, etree.XMLParser(remove_blank_text=True)))


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
    signature(root, deal)
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
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


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
