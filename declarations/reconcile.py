"""Cross-document reconciliation of a set (三单对碰), layer ``reconcile``.

The pipeline calls ``check_set`` once per set, with the documents that passed the schema layer.
A call may hold any subset of a set, several sets, unrelated documents, and messages with up to
100 records each. Records are grouped into deals (one order and what belongs to it) by shared
keys: ``orderNo`` (order, payment, import waybill, 清单) and ``logisticsNo`` (waybill, 清单;
the export waybill has no orderNo and reaches its order only through the 清单). Each deal is
then reconciled on its own.

What the spec states is checked as written (CEB spec 202205 §3.1.4 pp. 63-64: the order's consignee
and acturalPaid match the waybill and the payment; §3.9.4 p. 84: 清单 lines match the order's by
gnum). Where it leaves room, these are danchuang's own modelling choices:

- A deal that holds a 清单 must hold every other document its regime requires (customs checks
  the 清单 against the receipts of the others, cf. -621002): a missing one is an error. A deal
  without a 清单 is a set still in progress: missing documents are reported as warnings.
- Import amounts: acturalPaid = amountPaid (p. 63). Export: the receipt is in the order's
  currency; its charge is the order's transaction amount (p. 10) while goodsValue includes
  non-cash deductions (p. 4), so a coupon lowers it: only a charge above goodsValue + freight is
  reported, as a warning (``EXPORT_CHARGE``).
- The buyer should be the payer: a warning (``BUYER_PAYER``), as 公告2018年第194号 requires it
  only of orderers whose identity is not authenticated, which the messages do not tell.
- 清单 lines match order lines one-to-one by gnum, with equal qty and price (to the fen); names:
  import gname = the order's itemName (CEB spec 202205 §3.9.4 p. 84), export itemNo = the
  order's itemNo (the export order names goods only by its SKU and platform name) when the
  order's fits the 清单's field: the order's itemNo is C..30 (p. 4), the 清单's C..20 (p. 30),
  so a longer SKU cannot be repeated and is not compared.
- The import 清单's buyer (name, ID number) is the order's buyer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache

from declarations.document import Document
from declarations.findings import Finding, RuleInfo, Severity
from declarations.grouping import connected
from declarations.messages import DATA_MESSAGES, REGIME_OF_TRADE_MODE, Direction, Kind, Regime
from declarations.reconcile_lines import check_lines
from declarations.reconcile_rules import (
    BUYER_PAYER,
    CONSIGNEE,
    DUPLICATE,
    EXPORT_CHARGE,
    INVENTORY_BUYER,
    INVENTORY_ORDER_LINK,
    INVENTORY_WAYBILL_LINK,
    MISSING_DOCUMENT,
    PAYMENT_AMOUNT,
    PAYMENT_LINK,
    TRADE_MODE,
    WAYBILL_ORDER_LINK,
    required_kinds,
)
from declarations.rules._common import Unit, agree, money, read_units

# Enum members read for every set, bound once: on Python 3.11 ``Kind.ORDER`` is a lookup through
# the enum's metaclass, several times a module global's cost.
_ORDER, _PAYMENT, _WAYBILL, _INVENTORY = Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY
_RETURN = Kind.RETURN
_IMPORT, _EXPORT = Direction.IMPORT, Direction.EXPORT
_ERROR, _WARNING = Severity.ERROR, Severity.WARNING

_EXPORT_TYPES = {"B": Regime.B2B_DIRECT, "W": Regime.OVERSEAS_WAREHOUSE}
_E_MODES = ("9610", *Regime.BONDED.trade_modes(Direction.EXPORT))
_TRADE_MODES = {"I": ("9610", "1210"), "E": _E_MODES, "B": ("9710",), "W": ("9810",)}


@dataclass(slots=True)
class Deal:
    """The records of one order across the documents of a set."""

    parts: dict[Kind, list[Unit]] = field(default_factory=dict)

    def first(self, kind: Kind) -> Unit | None:
        found = self.parts.get(kind)
        return found[0] if found else None

    def units(self) -> Iterator[Unit]:
        for found in self.parts.values():
            yield from found

    @property
    def direction(self) -> Direction:
        unit = self.first(_INVENTORY) or next(iter(self.parts.values()))[0]
        return unit.doc.direction

    @property
    def regime(self) -> Regime | None:
        inventory = self.first(_INVENTORY)
        trade_mode = inventory.head.text("tradeMode") if inventory else None
        if trade_mode is not None and trade_mode in REGIME_OF_TRADE_MODE:
            return REGIME_OF_TRADE_MODE[trade_mode]
        for found in self.parts.values():
            for unit in found:
                if unit.doc.regime is not None:
                    return unit.doc.regime
        order = self.first(_ORDER)
        order_type = order.head.text("orderType") if order else None
        return _EXPORT_TYPES.get(order_type or "")


def group_deals(docs: Sequence[Document]) -> list[Deal]:
    """Group the records of the documents into deals by shared orderNo / logisticsNo."""
    return group_units([read_units(doc) for doc in docs if doc.message.kind is not _RETURN])


def group_units(documents: Sequence[Sequence[Unit]]) -> list[Deal]:
    """``group_deals`` for records already read: the units of each document."""
    records = [
        unit for units in documents for unit in units if unit.doc.message.kind is not _RETURN
    ]
    deals = []
    for group in connected([unit.head.present(_KEYS) for unit in records]):
        parts: dict[Kind, list[Unit]] = {}
        for index in group:
            unit = records[index]
            kind = unit.doc.message.kind
            found = parts.get(kind)
            if found is None:
                parts[kind] = [unit]
            else:
                found.append(unit)
        deals.append(Deal(parts))
    return deals


_KEYS = ("orderNo", "logisticsNo")


def check_set(docs: Sequence[Document]) -> list[Finding]:
    """Every reconciliation finding about a set of documents (layer ``reconcile``). (The
    buyer's annual limit is a rule of the 清单, ``rules.limits``, not of the set.)"""
    return check_units([read_units(doc) for doc in docs if doc.message.kind is not _RETURN])


def check_units(documents: Sequence[Sequence[Unit]]) -> list[Finding]:
    """``check_set`` for records already read (``read_units`` of each document): the pipeline
    reads each document once for its rules and its reconciliation."""
    findings: list[Finding] = []
    for deal in group_units(documents):
        findings.extend(check_deal(deal))
    return findings


def check_deal(deal: Deal) -> list[Finding]:
    """Every finding about one deal. (A list built in place rather than a generator: most
    checks find nothing, and each generator resumed costs a frame.)"""
    direction = deal.direction
    parts = deal.parts
    found = _completeness(deal, direction)
    order, payment, waybill, inventory = (
        parts.get(_ORDER),
        parts.get(_PAYMENT),
        parts.get(_WAYBILL),
        parts.get(_INVENTORY),
    )
    # (the first of each kind; a second one is a duplicate, reported above)
    imported = direction is _IMPORT
    if order and payment:
        found += _payment(order[0], payment[0], imported)
    if order and waybill and imported:
        found += _same(CONSIGNEE, order[0], waybill[0], _CONSIGNEE_FIELDS, ("consignee", "收货人"))
        found += _same(WAYBILL_ORDER_LINK, order[0], waybill[0], _ORDER_NO, ("order", "订单"))
    if inventory and order:
        first_order, first_inventory = order[0], inventory[0]
        found += _same(
            INVENTORY_ORDER_LINK, first_order, first_inventory, _ORDER_LINKS, ("order", "订单")
        )
        if imported:
            found += _same(
                INVENTORY_BUYER, first_order, first_inventory, _BUYER_FIELDS, ("buyer", "订购人")
            )
        found.extend(check_lines(first_order, first_inventory, imported))
        found.extend(_trade_mode(first_order, first_inventory))
    if inventory and waybill:
        found += _same(
            INVENTORY_WAYBILL_LINK, waybill[0], inventory[0], _LOGISTICS_LINKS, ("waybill", "运单")
        )
    return found


# "order (CEB311 电子订单)": how findings about a set name each data message.
_DESCRIPTIONS: dict[tuple[Direction, Kind], str] = {
    key: f"{m.name_en} ({m.code} {m.name_zh})" for key, m in DATA_MESSAGES.items()
}


def _describe(direction: Direction, kind: Kind) -> str:
    return _DESCRIPTIONS[(direction, kind)]


def _deal_key(anchor: Unit) -> str:
    """The number findings about a deal name it by: the anchor's orderNo, else logisticsNo."""
    head = anchor.head
    for name in _KEYS:
        if head.reads(name):
            return head.text(name) or "?"
    return "?"


@cache  # a pure function over a handful of possible arguments, asked for by nearly every set
def _missing_names(direction: Direction, missing: tuple[Kind, ...]) -> tuple[str, str]:
    """How a finding names the documents a set lacks, in English and Chinese."""
    return (
        ", ".join([_DESCRIPTIONS[(direction, k)] for k in missing]),
        "、".join([DATA_MESSAGES[(direction, k)].name_zh for k in missing]),
    )


def _completeness(deal: Deal, direction: Direction) -> list[Finding]:
    parts = deal.parts
    anchor = deal.first(_INVENTORY) or deal.first(_ORDER) or next(deal.units())
    findings = []
    for kind, found in parts.items():
        if len(found) > 1:
            keys = _deal_key(anchor)
            for extra in found[1:]:
                findings.append(
                    extra.finding(
                        DUPLICATE,
                        extra.head,
                        None,
                        f"a second {_describe(direction, kind)} for order {keys} in this set",
                        f"本批单证中订单 {keys} 的{DATA_MESSAGES[(direction, kind)].name_zh}重复",
                    )
                )
    regime = deal.regime
    missing = tuple([k for k in required_kinds(direction, regime) if k not in parts])
    if not missing:
        return findings
    keys = _deal_key(anchor)
    severity = _ERROR if _INVENTORY in parts else _WARNING
    names_en, names_zh = _missing_names(direction, missing)
    label = regime._value_ if regime else direction._value_  # (the descriptor-free .value)
    findings.append(
        anchor.finding(
            MISSING_DOCUMENT,
            anchor.head,
            None,
            f"{label} set for {keys} lacks: {names_en}",
            f"{label} 订单 {keys} 缺少单证：{names_zh}",
            severity=severity,
        )
    )
    return findings


_CONSIGNEE_FIELDS = (
    ("consignee", "consignee"),
    ("consigneeTelephone", "consigneeTelephone"),
    ("consigneeAddress", "consigneeAddress"),
)
_BUYER_FIELDS = (("buyerName", "buyerName"), ("buyerIdNumber", "buyerIdNumber"))
_PAYER_FIELDS = (("buyerName", "payerName"), ("buyerIdNumber", "payerIdNumber"))
_ORDER_NO = (("orderNo", "orderNo"),)
_ORDER_LINKS = (("orderNo", "orderNo"), ("ebpCode", "ebpCode"), ("ebcCode", "ebcCode"))
_LOGISTICS_LINKS = (("logisticsNo", "logisticsNo"), ("logisticsCode", "logisticsCode"))
_CURRENCY = (("currency", "currency"),)


def _same(
    rule: RuleInfo,
    reference: Unit,
    checked: Unit,
    pairs: Sequence[tuple[str, str]],
    what: tuple[str, str],
) -> list[Finding]:
    """Each (reference field, checked field) pair holds the same text; report on ``checked``.

    ``what`` names the reference document's role in English and Chinese, for the messages.
    (A list, not a generator: called several times for every set, nearly always finding
    nothing, and a list costs less to hand back empty.)
    """
    what_en, what_zh = what
    found = []
    reference_head, checked_head = reference.head, checked.head
    reference_raw, checked_raw = reference_head.raw, checked_head.raw
    for ref_field, field_name in pairs:
        if reference_raw[ref_field] == checked_raw[field_name]:
            continue  # the same text as written (or both absent): the same stripped text
        expected, actual = reference_head.text(ref_field), checked_head.text(field_name)
        if expected is None or actual is None or expected == actual:
            continue
        found.append(
            checked.finding(
                rule,
                checked_head,
                field_name,
                f"{field_name} {actual!r} differs from the {what_en}'s {ref_field} {expected!r} "
                f"({reference.doc.source})",
                f"{field_name} {actual!r} 与{what_zh}的 {ref_field} {expected!r} 不一致"
                f"（{reference.doc.source}）",
            )
        )
    return found


def _payment(order: Unit, payment: Unit, imported: bool) -> list[Finding]:
    found = _same(PAYMENT_LINK, order, payment, (("ebpCode", "ebpCode"),), ("order", "订单"))
    if imported:
        found = _same(BUYER_PAYER, order, payment, _PAYER_FIELDS, ("buyer", "订购人")) + found
        expected, paid = order.head.decimal("acturalPaid"), payment.head.decimal("amountPaid")
        if expected is not None and paid is not None and not agree(paid, expected):
            found.append(
                payment.finding(
                    PAYMENT_AMOUNT,
                    payment.head,
                    "amountPaid",
                    f"amountPaid {money(paid)} differs from the order's acturalPaid "
                    f"{money(expected)} ({order.doc.source})",
                    f"支付金额 {money(paid)} 与订单实际支付金额 {money(expected)} "
                    f"不一致（{order.doc.source}）",
                )
            )
        return found
    found = _same(PAYMENT_AMOUNT, order, payment, _CURRENCY, ("order", "订单")) + found
    goods, freight = order.head.decimal("goodsValue"), order.head.decimal("freight")
    charge = payment.head.decimal("charge")
    if goods is not None and freight is not None and charge is not None:
        ceiling = goods + freight
        if charge > ceiling and not agree(charge, ceiling):
            found.append(
                payment.finding(
                    EXPORT_CHARGE,
                    payment.head,
                    "charge",
                    f"charge {money(charge)} is more than the order's goodsValue + freight "
                    f"{money(ceiling)} ({order.doc.source})",
                    f"收款金额 {money(charge)} 高于订单商品金额加运杂费 {money(ceiling)}"
                    f"（{order.doc.source}）",
                )
            )
    return found


def _trade_mode(order: Unit, inventory: Unit) -> Iterator[Finding]:
    order_type, trade_mode = order.head.text("orderType"), inventory.head.text("tradeMode")
    allowed = _TRADE_MODES.get(order_type or "")
    if allowed is None or trade_mode is None or trade_mode in allowed:
        return
    wanted = " or ".join(allowed)
    yield inventory.finding(
        TRADE_MODE,
        inventory.head,
        "tradeMode",
        f"tradeMode {trade_mode} does not fit the order's type {order_type} "
        f"({order.doc.source}), which is declared under {wanted}",
        f"贸易方式 {trade_mode} 与订单类型 {order_type} 不符（{order.doc.source}），应为 {wanted}",
    )
