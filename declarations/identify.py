"""The identify step: which message a tree is, its direction, and the regime it is declared under.

The message type comes from the root element (``BY_ROOT``), and with it the direction. The regime
(监管方式) is either given by the caller or read from the document (orderType, tradeMode:
CEB spec 202205 §2.1.4 p. 3, §2.11.4 p. 29, §3.9.4 p. 83):

- export order CEB303: ``orderType`` E → 9610 (or 1210, if its set says so), B → 9710,
  W → 9810;
- 清单 (CEB603 / CEB621): ``tradeMode`` 9610 / 1210 / 9710 / 9810;
- export return CEB213: ``tradeMode`` 1261 → 1210; 9661 → 9610, or 9710 / 9810 if its set
  says so (§2.17.4 p. 45: the return of a general export);
- import 清单 without a usable tradeMode but with ``emsNo`` or ``areaCode`` → 1210 (bonded);
- anything else: 9610, the regime every direction has (``Identified.tentative``).

A regime given by the caller serves documents that name none (payments, waybills, import
orders). It never overrides what the message says itself: a ``tradeMode`` or an ``orderType``
that contradicts it is a finding naming both (``schema.regime-conflict``). orderType E is B2C
export, which 9610 and 1210 share, so it agrees with either.

Only the first record is read: the schema of the chosen regime then checks every record, so a
message mixing regimes is still rejected there.
"""

from __future__ import annotations

from typing import NamedTuple

from lxml import etree

from declarations.document import Document, ceb, source_line
from declarations.findings import Finding, Layer, define_rule
from declarations.messages import (
    BY_ROOT,
    CEB_NS,
    REGIME_OF_TRADE_MODE,
    RETURN_TRADE_MODES,
    Direction,
    Kind,
    MessageType,
    Regime,
)

# Platform-level code 0002 of the spec (chapter 7): "报文不符合XML Schema" (fails the schema).
_SCHEMA_ERROR = "0002"

UNKNOWN_MESSAGE = define_rule(
    "schema.unknown-message",
    Layer.SCHEMA,
    "The root element is not a supported CEB message",
    "根元素不是支持的CEB报文",
    spec_code=_SCHEMA_ERROR,
)
WRONG_NAMESPACE = define_rule(
    "schema.namespace",
    Layer.SCHEMA,
    "The root element is not in the CEB namespace",
    "根元素不在CEB命名空间中",
    spec_code=_SCHEMA_ERROR,
)
REGIME_DIRECTION = define_rule(
    "schema.regime-direction",
    Layer.SCHEMA,
    "The regime does not apply to the message's direction",
    "监管方式不适用于该报文的进出口方向",
    spec_code=_SCHEMA_ERROR,
)

REGIME_CONFLICT = define_rule(
    "schema.regime-conflict",
    Layer.SCHEMA,
    "The regime asked for contradicts the regime the message names",
    "指定的监管方式与报文自身申报的监管方式不一致",
    spec_code=_SCHEMA_ERROR,
)

ORDER_TYPE_REGIMES = {"E": Regime.DIRECT, "B": Regime.B2B_DIRECT, "W": Regime.OVERSEAS_WAREHOUSE}
_REGIME_BY_CODE = {r.value: r for r in Regime}
SUPPORTED = ", ".join(sorted(BY_ROOT))


class Identified(NamedTuple):
    """The outcome of the identify step: a document, or the finding that says why not.
    (A named tuple, like ``parsing.Parsed``: cheap to build for every document.)"""

    document: Document | None
    findings: tuple[Finding, ...] = ()
    # True when the regime was assumed rather than named: nothing named it (9610 assumed), or
    # what it named several regimes share (``_shared_by_regimes``). A set may then
    # take the regime its other documents name (pipeline.share_regime).
    tentative: bool = False


def parse_regime(value: str | Regime | None) -> Regime | None:
    """A caller's regime argument; raises ValueError naming the valid codes."""
    if value is None or isinstance(value, Regime):
        return value
    regime = _REGIME_BY_CODE.get(value.strip())
    if regime is None:
        codes = ", ".join(_REGIME_BY_CODE)
        raise ValueError(f"unknown regime {value!r}; expected one of {codes}")
    return regime


def _first_text(root: etree._Element, message: MessageType, field: str) -> str | None:
    record = root.find(ceb(message.record))
    if record is None:
        return None
    holder = record.find(ceb(message.head)) if message.head else record
    if holder is None:
        return None
    node = holder.find(ceb(field))
    if node is None or not node.text:
        return None
    return node.text.strip() or None


_EXPORT_RETURN = "CEB213"  # names the regime of the export it returns (RETURN_TRADE_MODES)
# Every message but the export order, the 清单 and the export return: the quick answer for most
# documents.
_DOCUMENTS_NAMING_NO_REGIME = frozenset(
    m.code
    for m in BY_ROOT.values()
    if m.kind is not Kind.INVENTORY
    and not (m.kind is Kind.ORDER and m.direction is Direction.EXPORT)
    and m.code != _EXPORT_RETURN
)


def regime_from_document(root: etree._Element, message: MessageType) -> Regime | None:
    """The regime a document declares itself under (see the module docstring), if any."""
    if message.code in _DOCUMENTS_NAMING_NO_REGIME:
        return None
    if message.kind is Kind.ORDER and message.direction is Direction.EXPORT:
        order_type = _first_text(root, message, "orderType")
        if order_type in ORDER_TYPE_REGIMES:
            return ORDER_TYPE_REGIMES[order_type]
    elif message.code == _EXPORT_RETURN:
        regimes = RETURN_TRADE_MODES.get(_first_text(root, message, "tradeMode") or "")
        return regimes[0] if regimes else None
    elif message.kind is Kind.INVENTORY:
        trade_mode = REGIME_OF_TRADE_MODE.get(_first_text(root, message, "tradeMode") or "")
        if trade_mode is not None and message.direction in trade_mode.directions:
            return trade_mode
        if message.direction is Direction.IMPORT and (
            _first_text(root, message, "emsNo") or _first_text(root, message, "areaCode")
        ):
            return Regime.BONDED
    return None


def stated_regimes(root: etree._Element, message: MessageType) -> tuple[str, set[Regime]] | None:
    """What the message says itself about its regime, and the regimes that agree with it:
    ``("tradeMode 9610", {9610})``, ``("orderType E", {9610, 1210})``; None when it says
    nothing (an inferred regime, e.g. bonded from emsNo, is not a statement)."""
    if message.code in _DOCUMENTS_NAMING_NO_REGIME:
        return None
    if message.code == _EXPORT_RETURN:
        trade_mode = _first_text(root, message, "tradeMode") or ""
        if trade_mode in RETURN_TRADE_MODES:
            return f"tradeMode {trade_mode}", set(RETURN_TRADE_MODES[trade_mode])
    elif message.kind is Kind.INVENTORY:
        trade_mode = _first_text(root, message, "tradeMode") or ""
        if trade_mode in REGIME_OF_TRADE_MODE:
            return f"tradeMode {trade_mode}", {REGIME_OF_TRADE_MODE[trade_mode]}
    elif message.kind is Kind.ORDER and message.direction is Direction.EXPORT:
        order_type = _first_text(root, message, "orderType") or ""
        if order_type in ORDER_TYPE_REGIMES:
            agreeing = {ORDER_TYPE_REGIMES[order_type]}
            if order_type == "E":
                agreeing.add(Regime.BONDED)
            return f"orderType {order_type}", agreeing
    return None


def _regime_conflict(
    root: etree._Element, message: MessageType, regime: Regime, source: str
) -> Finding | None:
    stated = stated_regimes(root, message)
    if stated is None or regime in stated[1]:
        return None
    field, agreeing = stated
    named = " or ".join(sorted(r.value for r in agreeing))
    return REGIME_CONFLICT.finding(
        f"the message names regime {named} ({field}), but regime {regime.value} was asked "
        f"for; leave the regime argument out or make it {named}",
        f"报文申报的监管方式为 {named}（{field}），与指定的监管方式 {regime.value} 不一致；"
        f"请不指定监管方式，或指定为 {named}",
        xpath="/ceb:" + etree.QName(root).localname,
        line=source_line(root),
        field=field.split()[0],
        source=source,
    )


def _shared_by_regimes(root: etree._Element, message: MessageType) -> bool:
    """Whether what the message says agrees with more than one regime: an export order of type
    E (B2C, 9610 or 1210) or a return under 9661 (a general export: 9610, 9710 or 9810)."""
    if message.code == "CEB303":
        return _first_text(root, message, "orderType") == "E"
    if message.code == _EXPORT_RETURN:
        return _first_text(root, message, "tradeMode") == "9661"
    return False


def identify(
    root: etree._Element,
    *,
    source: str = "<input>",
    regime: Regime | None = None,
    raw_size: int = 0,
) -> Identified:
    """Name the message, its direction and its regime; or say why it cannot be handled."""
    tag: object = root.tag  # (see document.TAG_NOTE)
    if not isinstance(tag, str):
        tag = ""  # comments and PIs have no tag name
    namespace, _, local = tag[1:].rpartition("}") if tag.startswith("{") else ("", "", tag)
    message = BY_ROOT.get(local)
    if message is None:
        line = source_line(root)
        shown = local[:60] or "(none)"
        meant = BY_ROOT.get(local + "Message")  # e.g. the official CEB214 sample's root
        hint = f"the spec names its root {meant.root}" if meant else f"supported: {SUPPORTED}"
        hint_zh = f"规范规定其根元素为 {meant.root}" if meant else f"支持的报文：{SUPPORTED}"
        return Identified(
            None,
            (
                UNKNOWN_MESSAGE.finding(
                    f"the root element {shown!r} is not a supported message; {hint}",
                    f"根元素 {shown!r} 不是支持的报文；{hint_zh}",
                    xpath="/" + shown,
                    line=line,
                    field=shown,
                    source=source,
                ),
            ),
        )
    if namespace != CEB_NS:
        line = source_line(root)
        return Identified(
            None,
            (
                WRONG_NAMESPACE.finding(
                    f"the root element {local} must be in the namespace {CEB_NS}",
                    f"根元素 {local} 必须位于命名空间 {CEB_NS}",
                    xpath="/" + local,
                    line=line,
                    field=local,
                    source=source,
                ),
            ),
        )
    if regime is not None and message.direction not in regime.directions:
        line = source_line(root)
        return Identified(
            None,
            (
                REGIME_DIRECTION.finding(
                    f"regime {regime.value} has no {message.direction.value} messages, "
                    f"but {message.code} is an {message.direction.value} message",
                    f"监管方式 {regime.value} 没有"
                    f"{'进口' if message.direction is Direction.IMPORT else '出口'}报文，"
                    f"而 {message.code} 是"
                    f"{'进口' if message.direction is Direction.IMPORT else '出口'}报文",
                    xpath="/ceb:" + local,
                    line=line,
                    source=source,
                ),
            ),
        )
    if regime is not None:
        conflict = _regime_conflict(root, message, regime, source)
        if conflict is not None:
            return Identified(None, (conflict,))
    chosen = regime or regime_from_document(root, message)
    document = Document(source, root, message, message.direction, chosen or Regime.DIRECT, raw_size)
    tentative = regime is None and (chosen is None or _shared_by_regimes(root, message))
    return Identified(document, (), tentative)
