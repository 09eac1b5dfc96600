"""Rules of the export messages after the 清单 (CEB spec 202205 §2.7, §2.9, §2.13, §2.15, §2.17,
§2.19, §2.21): what the spec's tables say of a field that the structure (the official XSD) cannot
say itself.

- A record split over several messages numbers them from 1 to ``msgCount`` (arrival,
  departure, master waybill, summary application: "以 1 开始的报文顺序号…不得跳号").
- The parcels of an arrival, a departure and a master waybill are numbered from 1 without gaps
  ("从 1 开始的递增序号").
- A cancellation gives its reason (required in the spec's table; the structure lets it be empty).
- A return is declared under 9661 (from a 9610 export) or 1261 (from a special zone), as an
  import (ieFlag I), from a country that is not China; the site's tally of it is an import too.
- A summary application's time range comes in pairs, its end not before its start; its
  summaryFlag is 1 or 2.
"""

from __future__ import annotations

from collections.abc import Iterator

from declarations.findings import Finding, Layer, define_rule
from declarations.messages import Regime, return_trade_mode
from declarations.rules._common import QuotaScope, Unit
from declarations.rules.fields import check_fields

MSG_SEQ_NO = define_rule(
    "record.msg-seq-no",
    Layer.RULE,
    "msgSeqNo numbers the messages of a split record from 1 to msgCount (CEB spec 202205 "
    "p. 18, p. 23, p. 40, p. 56: 以 1 开始的报文顺序号，不得跳号)",
    "报文序号应从 1 开始且不大于报文总数",
)
PARCEL_SEQUENCE = define_rule(
    "record.gnum-sequence",
    Layer.RULE,
    "The parcels of an arrival, departure or master waybill are numbered from 1 without gaps "
    "(CEB spec 202205 p. 19, p. 24, p. 40: 从 1 开始的递增序号)",
    "运抵单、离境单、清单总分单表体序号应从 1 开始连续递增",
)
CANCEL_REASON = define_rule(
    "cancellation.reason",
    Layer.RULE,
    "A cancellation gives its reason (CEB spec 202205 §2.13.4 p. 35: 撤单原因 必填; "
    "error -623012 生成失败[撤单原因为空])",
    "撤销申请单必填撤单原因",
    spec_code="-623012",
)
RETURN_TRADE_MODE = define_rule(
    "return.trade-mode",
    Layer.RULE,
    "An export return is declared under 9661 (a 9610 export) or 1261 (a special-zone export) "
    "(CEB spec 202205 §2.17.4 p. 45: 一般出口填 9661，特殊区域出口填 1261)",
    "退货监管方式：一般出口填 9661，特殊区域出口填 1261",
)
RETURN_IE_FLAG = define_rule(
    "return.ie-flag",
    Layer.RULE,
    "Returned exports come in: ieFlag I (CEB spec 202205 p. 46, p. 51: 出口退货填写 I)",
    "出口退货的进出口标识应填 I",
)
RETURN_COUNTRY = define_rule(
    "return.country",
    Layer.RULE,
    "A return comes from a country other than China (CEB spec 202205 p. 46: 启运国（地区）"
    "不能为中国)",
    "退货启运国（地区）不能为中国",
)
_CHINA = "142"
SUMMARY_TIME_RANGE = define_rule(
    "summary.time-range",
    Layer.RULE,
    "A summary's time range gives startTime and endTime together, the end not before the start "
    "(CEB spec 202205 §2.21.4 p. 55: 填写须成对，结束时间须大于等于开始时间)",
    "汇总开始时间与结束时间须成对填写，且结束时间不早于开始时间",
)
SUMMARY_FLAG = define_rule(
    "summary.flag",
    Layer.RULE,
    "summaryFlag is 1 (by consignor) or 2 (by consignor and producer-seller) (CEB spec 202205 "
    "§2.21.4 p. 56)",
    "收发货人汇总标志应为 1-按收发货人单一汇总 或 2-按收发货人和生产销售单位汇总",
)


def check_split(unit: Unit, scope: QuotaScope) -> Iterator[Finding]:
    """A record that may be split over messages, and lists parcels (CEB507, 509, 607)."""
    yield from check_fields(unit)
    yield from _check_msg_seq_no(unit)
    for expected, line in enumerate(unit.lines, start=1):
        gnum = line.text("gnum")
        if gnum != str(expected):
            yield unit.finding(
                PARCEL_SEQUENCE,
                line,
                "gnum",
                f"parcel {expected} is numbered {gnum!r}: number them 1, 2, 3… without gaps",
                f"第{expected}个包裹的序号为 {gnum!r}：应从 1 开始连续编号",
            )
            return


def _check_msg_seq_no(unit: Unit) -> Iterator[Finding]:
    count, number = unit.head.decimal("msgCount"), unit.head.decimal("msgSeqNo")
    if count is not None and number is not None and not 1 <= number <= count:
        yield unit.finding(
            MSG_SEQ_NO,
            unit.head,
            "msgSeqNo",
            f"msgSeqNo {number} is not between 1 and msgCount {count}",
            f"报文序号 {number} 不在 1 到报文总数 {count} 之间",
        )


def check_cancellation(unit: Unit, scope: QuotaScope) -> Iterator[Finding]:
    yield from check_fields(unit)
    if unit.head.text("reason") is None:
        yield unit.finding(
            CANCEL_REASON,
            unit.head,
            "reason",
            "the cancellation gives no reason",
            "撤销申请单未填撤单原因",
        )


def check_return(unit: Unit, scope: QuotaScope) -> Iterator[Finding]:
    """The return application (CEB213) and, for its ieFlag, the site's tally (CEB215)."""
    yield from check_fields(unit)
    head = unit.head
    flag = head.text("ieFlag")
    if flag != "I":
        yield unit.finding(
            RETURN_IE_FLAG,
            head,
            "ieFlag",
            f"ieFlag {flag!r}: returned exports come in, ieFlag I",
            f"进出口标识 {flag!r}：出口退货应填 I",
        )
    if unit.doc.message.code != "CEB213":
        return
    yield from _check_trade_mode(unit)
    if head.text("country") == _CHINA:
        yield unit.finding(
            RETURN_COUNTRY,
            head,
            "country",
            "country 142 (China): a return comes from abroad",
            "启运国（地区）为 142（中国）：退货应自境外启运",
        )


def _check_trade_mode(unit: Unit) -> Iterator[Finding]:
    mode = unit.head.text("tradeMode")
    regime = unit.doc.regime or Regime.DIRECT
    wanted = return_trade_mode(regime)
    if mode == wanted:
        return
    yield unit.finding(
        RETURN_TRADE_MODE,
        unit.head,
        "tradeMode",
        f"tradeMode {mode or '(missing)'}: a return of a {regime.value} export is declared "
        f"under {wanted}",
        f"退货监管方式 {mode or '(空)'}：{regime.value} 出口的退货应填 {wanted}",
    )


def check_summary(unit: Unit, scope: QuotaScope) -> Iterator[Finding]:
    """The summary application (CEB701): its split, its time range and its flag."""
    yield from check_fields(unit)
    yield from _check_msg_seq_no(unit)
    head = unit.head
    start, end = head.text("startTime"), head.text("endTime")
    if (start is None) != (end is None):
        given, missing = ("startTime", "endTime") if end is None else ("endTime", "startTime")
        yield unit.finding(
            SUMMARY_TIME_RANGE,
            head,
            missing,
            f"{given} without {missing}: give the time range's two ends together",
            f"只填了{given}而未填{missing}：汇总时间须成对填写",
        )
    elif start is not None and end is not None and end < start:
        yield unit.finding(
            SUMMARY_TIME_RANGE,
            head,
            "endTime",
            f"endTime {end} is before startTime {start}",
            f"汇总结束时间 {end} 早于开始时间 {start}",
        )
    flag = head.text("summaryFlag")
    if flag not in ("1", "2"):
        yield unit.finding(
            SUMMARY_FLAG,
            head,
            "summaryFlag",
            f"summaryFlag {flag!r} is not 1 (by consignor) or 2 (by consignor and producer-seller)",
            f"收发货人汇总标志 {flag!r} 不是 1 或 2",
        )
