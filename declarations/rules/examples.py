"""Per-rule examples for integrators: ``xsd/<regime>/examples/<rule-id>/{valid,invalid}/``.

Each example starts from a sample set (``declarations.samples``); the invalid one applies one
targeted mutation that breaks exactly the rule it documents (a few mutations necessarily break
a related rule too, e.g. a duplicate line number also unpairs a 清单 line). A folder holds one
set, or one document where the rule is about a lone document (the annual limit).

For 9610 and 1210, which have both directions, the example uses the import documents when the
rule applies to import, else the export ones. Regenerate the committed files with
``python -m declarations.rules.examples`` (deterministic; a test checks they are current).
"""

from __future__ import annotations

import copy
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from lxml import etree

from declarations.document import Document
from declarations.findings import RULES, Finding
from declarations.messages import BY_ROOT, CEB_NS, Direction, Regime
from declarations.paths import xsd_root
from declarations.reconcile import check_set
from declarations.rules import check_document
from declarations.rules.sample_access import add, get, has, head, lines, put, record_of
from declarations.sample_export_followups import export_after, export_summary_application
from declarations.samples import SampleSet, fmt, generate_sets, to_bytes

_C = "{" + CEB_NS + "}"
_I, _E = (Direction.IMPORT,), (Direction.EXPORT,)
_BOTH = (Direction.IMPORT, Direction.EXPORT)

Mutation = Callable[[SampleSet], None]


@dataclass(frozen=True, slots=True)
class Example:
    directions: tuple[Direction, ...]
    mutate: Mutation
    regimes: tuple[Regime, ...] = tuple(Regime)
    lone_document: str | None = None  # file-name prefix of the one document the folder holds
    # a message after the export 清单 both examples get first (sample_export_followups: its file)
    after: str | None = None


def _after(file_name: str, mutate: Mutation) -> Example:
    """The example of a rule of a message after the export 清单: that message alone."""
    kind = file_name.partition("-CEB")[0]
    return Example(_E, mutate, lone_document=kind, after=file_name)


def reprice(sample: SampleSet, price: Decimal, *, single_item: bool = False) -> None:
    """Give line 1 of order and 清单 a new unit price (one item of it if ``single_item``,
    dropping the other lines) and carry the change through every amount that depends on it."""
    for kind in ("order", "inventory"):
        found = lines(sample, kind)
        if single_item:
            for extra in found[1:]:
                extra.getparent().remove(extra)  # type: ignore[union-attr]
            put(found[0], "qty", "1.00")
            if kind == "inventory":
                put(found[0], "qty1", "1")
        put(found[0], "price", fmt(price))
        put(found[0], "totalPrice", fmt(price * Decimal(get(found[0], "qty"))))
    goods = sum((Decimal(get(line, "totalPrice")) for line in lines(sample, "order")), Decimal(0))
    order = head(sample, "order")
    delta = goods - Decimal(get(order, "goodsValue"))
    put(order, "goodsValue", fmt(goods))
    if has(sample, "payment"):
        payment = head(sample, "payment")
        if sample.deal.direction is Direction.IMPORT:
            add(order, "acturalPaid", delta)
            add(payment, "amountPaid", delta)
        else:
            add(payment, "charge", delta)


def _other(code: str) -> str:
    return code[:-1] + ("1" if code[-1] != "1" else "2")


# --- one mutation per rule ---------------------------------------------------------------------


def _actural_paid(s: SampleSet) -> None:
    add(head(s, "order"), "acturalPaid", Decimal(10))
    add(head(s, "payment"), "amountPaid", Decimal(10))  # keep the payment agreeing


def _order_type(s: SampleSet) -> None:
    flip = {"E": "B", "B": "W", "W": "B"}  # B and W name their regime; E may be 9610 or 1210
    order = head(s, "order")
    put(order, "orderType", flip[get(order, "orderType")])


def _duplicate_gnum(kind: str) -> Mutation:
    def mutate(s: SampleSet) -> None:
        put(lines(s, kind)[-1], "gnum", "1")

    return mutate


def _duplicate_order(s: SampleSet) -> None:
    record = record_of(s, "order")
    record.addnext(copy.deepcopy(record))


def _annual(count: int) -> Mutation:
    """One 清单 message with ``count`` purchases of about 4,400 CNY by the same buyer."""

    def mutate(s: SampleSet) -> None:
        reprice(s, Decimal(4400), single_item=True)
        record = record_of(s, "inventory")
        for n in range(2, count + 1):
            twin = copy.deepcopy(record)
            twin_head = twin[0]
            for name in ("orderNo", "logisticsNo", "copNo"):
                put(twin_head, name, f"{get(twin_head, name)}{n}")
            record.getparent().insert(n - 1, twin)  # type: ignore[union-attr]

    return mutate


def _set(kind: str, name: str, value: str, line: bool = False) -> Mutation:
    def mutate(s: SampleSet) -> None:
        put(lines(s, kind)[0] if line else head(s, kind), name, value)

    return mutate


def _change(kind: str, name: str, line: bool = False) -> Mutation:
    def mutate(s: SampleSet) -> None:
        element = lines(s, kind)[0] if line else head(s, kind)
        put(element, name, _other(get(element, name)))

    return mutate


def _bump(kind: str, name: str, line: bool = False) -> Mutation:
    def mutate(s: SampleSet) -> None:
        add(lines(s, kind)[0] if line else head(s, kind), name, Decimal(1))

    return mutate


def _summary_range(s: SampleSet) -> None:
    """The summary application for a range whose end comes before its start."""
    invts = [get(line, "invtNo") for line in lines(s, "summary")]
    s.documents["summary-CEB701.xml"] = export_summary_application(
        s.deal, invts, start="20270331000000", end="20270301000000"
    )


def _payment_amount(s: SampleSet) -> None:
    if s.deal.direction is Direction.IMPORT:
        add(head(s, "payment"), "amountPaid", Decimal(1))
    else:  # the export amounts need not agree (a coupon): the currency must
        put(head(s, "payment"), "currency", "502")


def _export_charge(s: SampleSet) -> None:
    add(head(s, "payment"), "charge", Decimal(1))


def _drop_waybill(s: SampleSet) -> None:
    del s.documents[next(n for n in s.documents if n.startswith("waybill"))]


def _drop_last_inventory_line(s: SampleSet) -> None:
    last = lines(s, "inventory")[-1]
    last.getparent().remove(last)  # type: ignore[union-attr]


def _inventory_goods(s: SampleSet) -> None:
    line = lines(s, "inventory")[0]
    if s.deal.direction is Direction.IMPORT:
        put(line, "gname", get(line, "gname") + "（赠品）")
    else:
        put(line, "itemNo", get(line, "itemNo") + "X")


def _inventory_qty(s: SampleSet) -> None:
    line = lines(s, "inventory")[0]
    qty = Decimal(get(line, "qty")) + 1
    put(line, "qty", fmt(qty))
    put(line, "totalPrice", fmt(qty * Decimal(get(line, "price"))))


def _gnum_gap(kind: str) -> Mutation:
    def mutate(s: SampleSet) -> None:
        last = lines(s, kind)[-1]
        put(last, "gnum", str(int(get(last, "gnum")) + 1))

    return mutate


def _goods_value(s: SampleSet) -> None:
    order = head(s, "order")
    add(order, "goodsValue", Decimal(1))
    if s.deal.direction is Direction.IMPORT:
        add(order, "discount", Decimal(1))  # acturalPaid still adds up


def _ie_flag(s: SampleSet) -> None:
    inventory = head(s, "inventory")
    put(inventory, "ieFlag", "E" if get(inventory, "ieFlag") == "I" else "I")


def _app_type(s: SampleSet) -> None:
    """The set's order with appType 4, after another order of the message: conformance tools
    take a message's first appType for what it does (new, change, delete)."""
    order = head(s, "order")
    twin = copy.deepcopy(order.getparent())
    assert twin is not None
    put(twin[0], "orderNo", get(order, "orderNo") + "A")
    order.getparent().addprevious(twin)  # type: ignore[union-attr]
    put(order, "appType", "4")


def _drop(kind: str, name: str) -> Mutation:
    def mutate(s: SampleSet) -> None:
        node = head(s, kind).find(_C + name)
        if node is None:
            raise KeyError(name)
        node.getparent().remove(node)  # type: ignore[union-attr]

    return mutate


_IMPORT_REGIMES = (Regime.DIRECT, Regime.BONDED)
_B2B = (Regime.B2B_DIRECT, Regime.OVERSEAS_WAREHOUSE)

EXAMPLES: dict[str, Example] = {
    "order.actural-paid": Example(_I, _actural_paid),
    "order.line-total": Example(_BOTH, _bump("order", "totalPrice", line=True)),
    "order.gnum-sequence": Example(_BOTH, _duplicate_gnum("order")),
    "order.gnum-gap": Example(_BOTH, _gnum_gap("order")),
    "order.goods-value": Example(_BOTH, _goods_value),
    "document.app-type": Example(_BOTH, _app_type),
    "document.code-format": Example(_BOTH, _set("order", "unit", "11吨", line=True)),
    "document.repeated-order-no": Example(_BOTH, _duplicate_order),
    "order.currency": Example(_E, _set("order", "currency", "502", line=True)),
    "limit.order-single-transaction": Example(_I, lambda s: reprice(s, Decimal(6000))),
    "limit.single-transaction": Example(_I, lambda s: reprice(s, Decimal(6000))),
    "limit.single-item-full-tax": Example(
        _I, lambda s: reprice(s, Decimal(8000), single_item=True)
    ),
    "limit.annual": Example(_I, _annual(6), lone_document="inventory"),
    "limit.b2b-list-route": Example(_E, lambda s: reprice(s, Decimal(6000)), _B2B),
    "inventory.line-total": Example(_BOTH, _bump("inventory", "totalPrice", line=True)),
    "inventory.gnum-sequence": Example(_I, _duplicate_gnum("inventory")),
    "inventory.export-gnum-sequence": Example(_E, _duplicate_gnum("inventory")),
    "inventory.gnum-gap": Example(_BOTH, _gnum_gap("inventory")),
    "inventory.ie-flag": Example(_BOTH, _ie_flag),
    "inventory.direct-transport": Example(_I, _drop("inventory", "trafNo"), (Regime.DIRECT,)),
    "inventory.pack-no": Example(_I, _set("inventory", "packNo", "2")),
    "inventory.assure-code": Example(_I, _set("inventory", "assureCode", "1234567890")),
    "inventory.statistics-flag": Example(_E, _set("inventory", "statisticsFlag", "C")),
    "reconcile.missing-document": Example(_BOTH, _drop_waybill),
    "reconcile.duplicate-document": Example(_BOTH, _duplicate_order),
    "reconcile.payment-amount": Example(_BOTH, _payment_amount, _IMPORT_REGIMES),
    "reconcile.export-charge": Example(_E, _export_charge, _IMPORT_REGIMES),
    "reconcile.payment-link": Example(_BOTH, _change("payment", "ebpCode"), _IMPORT_REGIMES),
    "reconcile.consignee": Example(_I, _set("waybill", "consigneeTelephone", "13900000000")),
    "reconcile.buyer-payer": Example(_I, _set("payment", "payerName", "另一人")),
    "reconcile.inventory-buyer": Example(_I, _set("inventory", "buyerName", "另一人")),
    "reconcile.inventory-order-link": Example(_BOTH, _change("inventory", "ebpCode")),
    "reconcile.inventory-waybill-link": Example(_BOTH, _change("inventory", "logisticsCode")),
    "reconcile.waybill-order-link": Example(_I, _change("waybill", "orderNo")),
    "reconcile.trade-mode": Example(_E, _order_type),
    "reconcile.inventory-lines": Example(_BOTH, _drop_last_inventory_line),
    "reconcile.inventory-goods": Example(_BOTH, _inventory_goods),
    "reconcile.inventory-amounts": Example(_BOTH, _inventory_qty),
    # after the export 清单 (rules.export_after)
    "record.msg-seq-no": _after("arrival-CEB507.xml", _set("arrival", "msgSeqNo", "2")),
    "record.gnum-sequence": _after("departure-CEB509.xml", _set("departure", "gnum", "2", True)),
    "cancellation.reason": _after("cancellation-CEB605.xml", _set("cancellation", "reason", "")),
    "return.trade-mode": _after("return-CEB213.xml", _set("return-CEB", "tradeMode", "9610")),
    "return.ie-flag": _after("return-tally-CEB215.xml", _set("return-tally", "ieFlag", "E")),
    "return.country": _after("return-CEB213.xml", _set("return-CEB", "country", "142")),
    "summary.time-range": _after("summary-CEB701.xml", _summary_range),
    "summary.flag": _after("summary-CEB701.xml", _set("summary", "summaryFlag", "3")),
}


def cases(rule_id: str) -> list[tuple[Regime, Direction]]:
    """The regimes a rule's examples are written for, each with the direction used."""
    example = EXAMPLES[rule_id]
    found = []
    for regime in example.regimes:
        usable = [d for d in example.directions if d in regime.directions]
        if usable:
            found.append((regime, usable[0]))
    return found


def base_set(regime: Regime, direction: Direction) -> SampleSet:
    """The sample every example of a regime starts from: a set with at least two lines."""
    return next(s for s in generate_sets(regime, direction, seed=2026, count=20)
                if len(s.deal.lines) >= 2)  # fmt: skip


def example_sets(rule_id: str, regime: Regime, direction: Direction) -> dict[str, SampleSet]:
    """The valid and the invalid example of a rule for one regime."""
    example = EXAMPLES[rule_id]
    valid, invalid = base_set(regime, direction), base_set(regime, direction)
    if example.after is not None:
        for sample in (valid, invalid):
            sample.documents[example.after] = export_after(sample)[example.after]
    example.mutate(invalid)
    if rule_id == "limit.annual":  # the valid twin: five purchases stay within 26,000
        _annual(5)(valid)
    return {"valid": valid, "invalid": invalid}


def write_examples(xsd_dir: Path) -> list[Path]:
    """(Re)write every example folder under ``xsd_dir/<regime>/examples``."""
    written: list[Path] = []
    for regime in Regime:
        shutil.rmtree(xsd_dir / regime.value / "examples", ignore_errors=True)
    for rule_id, example in EXAMPLES.items():
        for regime, direction in cases(rule_id):
            for verdict, sample in example_sets(rule_id, regime, direction).items():
                folder = xsd_dir / regime.value / "examples" / rule_id / verdict
                folder.mkdir(parents=True, exist_ok=True)
                for name, root in sample.documents.items():
                    if example.lone_document and not name.startswith(example.lone_document):
                        continue
                    (folder / name).write_bytes(to_bytes(root))
                    written.append(folder / name)
    for regime in Regime:
        _write_index(xsd_dir / regime.value / "examples", regime)
    return written


def _write_index(folder: Path, regime: Regime) -> None:
    rows = [
        f"| `{rule_id}` | {RULES[rule_id].title_en} | {RULES[rule_id].title_zh} | "
        f"{RULES[rule_id].spec_code or ''} |"
        for rule_id in EXAMPLES
        if any(r is regime for r, _ in cases(rule_id))
    ]
    text = (
        f"# Per-rule examples for {regime.value}\n\n"
        "Each folder holds a `valid/` example that passes the rule and an `invalid/` one that\n"
        "breaks it. Generated by `python -m declarations.rules.examples`; do not edit by hand.\n\n"
        "| rule | meaning | 含义 | spec code |\n|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "README.md").write_text(text, encoding="utf-8")


def load_folder(folder: Path, regime: Regime) -> list[Document]:
    """The documents of an example folder, identified by their root element."""
    docs = []
    for path in sorted(folder.glob("*.xml")):
        root = etree.parse(str(path)).getroot()
        message = BY_ROOT[etree.QName(root).localname]
        docs.append(Document(path.name, root, message, message.direction, regime))
    return docs


def evaluate(folder: Path, regime: Regime) -> list[Finding]:
    """Rule and reconciliation findings of an example folder (a lone document: rules only)."""
    docs = load_folder(folder, regime)
    findings = [f for doc in docs for f in check_document(doc)]
    if len(docs) > 1:
        findings.extend(check_set(docs))
    return findings


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else xsd_root()
    files = write_examples(target)
    sys.stdout.write(f"wrote {len(files)} example files under {target}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
