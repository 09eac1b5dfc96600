"""The deals sample sets are drawn from (``declarations.samples``): goods, companies, people and
one deal's lines and amounts, all from one ``random.Random``, so a seed always gives the same
deal. The XML of each message is written from a deal by ``declarations.samples``.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from declarations.messages import Direction, Regime
from declarations.tax import TaxableLine, import_tax

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
