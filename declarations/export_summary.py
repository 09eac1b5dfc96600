"""The export summary declaration (汇总申报): the customs declarations (报关单) a summary
application (汇总申请单 CEB701, CEB spec 202205 §2.21 pp. 53-56) forms from export 清单, and
the summary result (汇总结果单 CEB792, §2.23 pp. 58-61) of each.

The rule is 海关总署公告2018年第194号 item (十). Only 清单 declared ``statisticsFlag`` B (汇总申报,
§2.11.4 p. 29) are summarised. Those closed in one period (a month) form one 报关单 when their
heads agree on ``ebcCode`` (收发货人), ``trafMode``, ``country`` (运抵国), ``portCode`` (出境关别)
and, only under ``summaryFlag`` 2 (按收发货人和生产销售单位汇总, §2.21.4 p. 56), ``ownerCode``.
Its lines form one item (``gseqno``) when they agree on the destination country (the line's
``country``, else the head's), the 10-digit ``gcode``, the currency and, under ``itemNameFlag``
1 (按清单原始商品名相同汇总, p. 56), the ``itemName``.

Where the spec is silent, danchuang's model: a 报关单 is declared at one customs, so the 清单's
``customsCode`` is part of the head's key too; ``itemNameFlag`` other than 1 groups by the
classification name, which the 10-digit ``gcode`` decides; ``gseqno`` numbers the items from 1
in order of first appearance, the 清单 taken in the order they closed (then by ``invtNo``), their
lines by ``gnum``; ``sumNo`` and ``declSeqNo`` are "S" + yyyyMMdd + 9-digit serial, the form of
the official sample; ``decState`` is customs' own code (XSD: 具体返回值由海关确定), "A" (the
sample's) for a 报关单 just formed.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import partial

from lxml import etree

from declarations.document import Fields, ceb, decimal_value
from declarations.messages import CEB_NS
from declarations.receipts import return_time

_PLAIN = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_SPEC_603 = "CEB spec 202205 §2.11.4 pp. 28-30"
_WEIGHT_STEP = Decimal("0.00001")  # N19,5: 5 decimals,
_WEIGHT_LIMIT = Decimal(10) ** 14  # 14 digits before them
_LINE_FIELDS = ("invtNo", "logisticsNo", "gseqno", "gnum", "gcode")  # SummaryResultList
DEC_STATE_FORMED = "A"  # decState of a 报关单 just formed (the official sample's value)


@dataclass(frozen=True, slots=True)
class SummaryLine:
    """One 清单 line as the summary sees it (InventoryList, §2.11.4 p. 30)."""

    gnum: int
    gcode: str
    item_name: str | None
    country: str | None  # 目的国; None: the head's 运抵国 stands
    currency: str


@dataclass(frozen=True, slots=True)
class SummaryList:
    """One export 清单 as the summary sees it, with the time it closed (结关)."""

    invt_no: str
    logistics_no: str
    customs_code: str
    agent_code: str
    agent_name: str
    ebc_code: str
    ebc_name: str
    owner_code: str
    traf_mode: str
    country: str
    port_code: str
    statistics_flag: str
    gross_weight: Decimal
    net_weight: Decimal
    closed_at: datetime
    lines: tuple[SummaryLine, ...]


def _required(fields: Fields, name: str) -> str:
    value = fields.text(name)
    if value is None:
        where = etree.QName(fields.element).localname
        raise ValueError(f"CEB603 {where}/{name} is required to summarise a 清单 ({_SPEC_603})")
    return value


def _number(fields: Fields, name: str) -> Decimal:
    value = decimal_value(_required(fields, name))
    if value is None:
        where = etree.QName(fields.element).localname
        raise ValueError(f"CEB603 {where}/{name} is not a number ({_SPEC_603})")
    return value


def summary_list_of(
    inventory: etree._Element, *, closed_at: datetime, invt_no: str | None = None
) -> SummaryList:
    """The 清单 of one CEB603 ``Inventory`` record, closed at ``closed_at``. ``invt_no`` is the
    number customs assigned, for a record as sent (the enterprise leaves ``invtNo`` to
    customs). Raises ``ValueError`` naming the field a summary needs and the record lacks."""
    head_node = inventory.find(ceb("InventoryHead"))
    if inventory.tag != ceb("Inventory") or head_node is None:
        raise ValueError(f"expected a CEB603 Inventory record with its head ({_SPEC_603})")
    head = Fields(head_node)
    written = head.text("invtNo")
    if invt_no is not None and written is not None and written != invt_no:
        raise ValueError(f"CEB603 InventoryHead/invtNo is {written}, not {invt_no}")
    number = invt_no or _required(head, "invtNo")
    lines: list[SummaryLine] = []
    for node in inventory.iterchildren(ceb("InventoryList")):
        line = Fields(node)
        gnum = _number(line, "gnum")
        if gnum % 1 or gnum < 1:
            raise ValueError(f"CEB603 InventoryList/gnum counts from 1 ({_SPEC_603})")
        lines.append(SummaryLine(int(gnum), _required(line, "gcode"), line.text("itemName"),
                                 line.text("country"), _required(line, "currency")))  # fmt: skip
    if not lines:
        raise ValueError(f"CEB603 Inventory/InventoryList: a 清单 has lines ({_SPEC_603})")
    text = partial(_required, head)
    return SummaryList(
        invt_no=number, logistics_no=text("logisticsNo"), customs_code=text("customsCode"),
        agent_code=text("agentCode"), agent_name=text("agentName"), ebc_code=text("ebcCode"),
        ebc_name=text("ebcName"), owner_code=text("ownerCode"), traf_mode=text("trafMode"),
        country=text("country"), port_code=text("portCode"),
        statistics_flag=text("statisticsFlag"), gross_weight=_number(head, "grossWeight"),
        net_weight=_number(head, "netWeight"), closed_at=closed_at,
        lines=tuple(sorted(lines, key=lambda line: line.gnum)),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Period:
    """The time the summarised 清单 closed in, both ends included to the second (startTime and
    endTime of the application, §2.21.4 p. 55)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("endTime must not be before startTime (§2.21.4 p. 55)")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        """One calendar month (公告2018年第194号: the 清单 closed in the month before)."""
        start = datetime(year, month, 1)
        following = datetime(year + month // 12, month % 12 + 1, 1)
        return cls(start, following - timedelta(seconds=1))

    def holds(self, moment: datetime) -> bool:
        return self.start.replace(microsecond=0) <= moment.replace(microsecond=0) <= self.end


class RefusalReason(StrEnum):
    """Why a 清单 of the application is not summarised."""

    NOT_SUMMARY = "not_summary"  # statisticsFlag is not B
    ALREADY_SUMMARISED = "already_summarised"
    DUPLICATE = "duplicate"  # named twice in the application
    OUTSIDE_PERIOD = "outside_period"
    GCODE = "gcode"  # a line's gcode is not a 10-digit HS code


@dataclass(frozen=True, slots=True)
class RefusedList:
    """A 清单 left out of the summary, and why (English and Chinese)."""

    invt_no: str
    reason: RefusalReason
    message_en: str
    message_zh: str


@dataclass(frozen=True, slots=True)
class HeadKey:
    """What the 清单 of one 报关单 share (``owner_code`` None under summaryFlag 1)."""

    customs_code: str
    ebc_code: str
    traf_mode: str
    owner_code: str | None
    country: str
    port_code: str


@dataclass(frozen=True, slots=True)
class ItemKey:
    """What the lines of one 报关单 item share (``item_name`` None unless itemNameFlag is 1)."""

    country: str
    gcode: str
    currency: str
    item_name: str | None


@dataclass(frozen=True, slots=True)
class ResultLine:
    """One 清单 line in its 报关单 item (SummaryResultList, §2.23.4 pp. 60-61)."""

    invt_no: str
    logistics_no: str
    gseqno: int
    gnum: int
    gcode: str


@dataclass(frozen=True, slots=True)
class SummaryGroup:
    """The 清单 of one future 报关单, its items (``items[i]`` is gseqno i + 1), its lines."""

    key: HeadKey
    ebc_name: str
    lists: tuple[SummaryList, ...]
    items: tuple[ItemKey, ...]
    lines: tuple[ResultLine, ...]
    gross_weight: Decimal
    net_weight: Decimal


@dataclass(frozen=True, slots=True)
class Summary:
    """The 报关单 an application forms, and the 清单 it leaves out."""

    groups: tuple[SummaryGroup, ...]
    refused: tuple[RefusedList, ...]


def _refusal(
    one: SummaryList, *, seen: set[str], summarised: Collection[str], period: Period
) -> RefusedList | None:
    number = one.invt_no

    def refuse(reason: RefusalReason, en: str, zh: str) -> RefusedList:
        return RefusedList(number, reason, f"清单 {number}: {en}", f"清单{number}{zh}")

    if one.statistics_flag != "B":
        return refuse(RefusalReason.NOT_SUMMARY,
                      f"statisticsFlag is {one.statistics_flag}, not B (汇总申报)",
                      f"申报业务类型为{one.statistics_flag}，非汇总申报(B)")  # fmt: skip
    if number in summarised:
        return refuse(RefusalReason.ALREADY_SUMMARISED, "is in an earlier summary already",
                      "已汇总，不得重复汇总")  # fmt: skip
    if number in seen:
        return refuse(RefusalReason.DUPLICATE, "is named twice", "重复列明")
    if not period.holds(one.closed_at):
        return refuse(RefusalReason.OUTSIDE_PERIOD,
                      f"closed {one.closed_at:%Y-%m-%d %H:%M:%S}, outside the period",
                      f"结关时间{one.closed_at:%Y-%m-%d %H:%M:%S}不在汇总期间内")  # fmt: skip
    bad = [line.gnum for line in one.lines if len(line.gcode) != 10 or not line.gcode.isdigit()]
    if bad:
        return refuse(RefusalReason.GCODE, f"line {bad[0]}'s gcode is not a 10-digit HS code",
                      f"第{bad[0]}项商品编码不是10位海关商品编码")  # fmt: skip
    return None


def summarise(
    lists: Iterable[SummaryList],
    *,
    summary_flag: str,
    item_name_flag: str | None,
    period: Period,
    summarised: Collection[str] = frozenset(),
) -> Summary:
    """The 报关单 the 清单 ``lists`` form under the application's ``summaryFlag`` and
    ``itemNameFlag``, and the 清单 refused: declared A, named in ``summarised`` (invtNo of
    earlier summaries) or twice, closed outside ``period``, or with a gcode not of 10 digits.
    (That the 清单 are the applicant's, declared at its customs, is the caller's check.)"""
    if summary_flag not in ("1", "2"):
        raise ValueError(
            f"summaryFlag must be 1 (按收发货人单一汇总) or 2 (按收发货人和生产销售单位汇总), "
            f"not {summary_flag!r} (CEB spec 202205 §2.21.4 p. 56)"
        )
    by_name = item_name_flag == "1"
    refused: list[RefusedList] = []
    taken: list[SummaryList] = []
    seen: set[str] = set()
    for one in lists:
        refusal = _refusal(one, seen=seen, summarised=summarised, period=period)
        seen.add(one.invt_no)
        if refusal is None:
            taken.append(one)
        else:
            refused.append(refusal)
    grouped: dict[HeadKey, list[SummaryList]] = {}
    for one in sorted(taken, key=lambda one: (one.closed_at, one.invt_no)):
        owner = one.owner_code if summary_flag == "2" else None
        key = HeadKey(one.customs_code, one.ebc_code, one.traf_mode, owner, one.country,
                      one.port_code)  # fmt: skip
        grouped.setdefault(key, []).append(one)
    groups = tuple(_group(key, members, by_name) for key, members in grouped.items())
    return Summary(groups, tuple(refused))


def _group(key: HeadKey, members: list[SummaryList], by_name: bool) -> SummaryGroup:
    items: dict[ItemKey, int] = {}
    lines: list[ResultLine] = []
    for one in members:
        for line in one.lines:
            name = line.item_name if by_name else None
            item = ItemKey(line.country or one.country, line.gcode, line.currency, name)
            gseqno = items.setdefault(item, len(items) + 1)
            lines.append(ResultLine(one.invt_no, one.logistics_no, gseqno, line.gnum, line.gcode))
    return SummaryGroup(
        key=key,
        ebc_name=members[0].ebc_name,
        lists=tuple(members),
        items=tuple(items),
        lines=tuple(lines),
        gross_weight=sum((one.gross_weight for one in members), Decimal(0)),
        net_weight=sum((one.net_weight for one in members), Decimal(0)),
    )


def _s_number(field: str, day: date, serial: int) -> str:
    if not 0 <= serial < 10**9:
        raise ValueError(f"{field} serials run from 0 to 999,999,999")
    return f"S{day:%Y%m%d}{serial:09d}"


def sum_no(day: date, serial: int) -> str:
    """汇总申请编号 ``sumNo``: "S" + yyyyMMdd + 9-digit serial (18 characters, §2.23.4 p. 60)."""
    return _s_number("sumNo", day, serial)


def decl_seq_no(day: date, serial: int) -> str:
    """汇总统一编号 ``declSeqNo``, one per 报关单: the form of ``sum_no`` (§2.23.4 p. 60)."""
    return _s_number("declSeqNo", day, serial)


def _checked(field: str, value: str, shortest: int, longest: int) -> str:
    if not shortest <= len(value) <= longest:
        size = f"{longest}" if shortest == longest else f"{shortest} to {longest}"
        raise ValueError(f"SummaryResultHead/{field} {value!r} must have {size} characters "
                         "(CEB spec 202205 §2.23.4 p. 60)")  # fmt: skip
    return value


def _weight(field: str, value: Decimal) -> str:
    if not 0 <= value < _WEIGHT_LIMIT:
        raise ValueError(f"SummaryResultHead/{field} {value} is not an N19,5 weight")
    return f"{value.quantize(_WEIGHT_STEP):f}"


def build_summary_result(
    group: SummaryGroup,
    *,
    sum_no: str,
    decl_seq_no: str,
    op_time: datetime,
    agent_code: str,
    agent_name: str,
    decl_agent_code: str,
    decl_agent_name: str,
    dec_state: str = DEC_STATE_FORMED,
    dec_tmp_no: str | None = None,
    dec_pre_no: str | None = None,
    entry_id: str | None = None,
    guid: str | None = None,
) -> bytes:
    """The CEB792 message of one 报关单: its SummaryResultHead (the applicant ``agent_*``, the
    follow-up broker ``decl_agent_*``, spelt ``declAgentCode`` as the official XSD does) and one
    SummaryResultList per 清单 line, in the XSD's order; no envelope nodes (customs' own
    message). ``dec_tmp_no``, ``dec_pre_no`` and ``entry_id`` come with later results."""
    head_values: list[tuple[str, str | None]] = [
        ("guid", str(uuid.uuid4()).upper()),
        ("customsCode", group.key.customs_code),
        ("sumNo", _checked("sumNo", sum_no, 18, 18)),
        ("opDate", return_time(op_time)),
        ("declSeqNo", _checked("declSeqNo", decl_seq_no, 18, 18)),
        ("decTmpNo", dec_tmp_no and _checked("decTmpNo", dec_tmp_no, 18, 18)),
        ("decPreNo", dec_pre_no and _checked("decPreNo", dec_pre_no, 18, 18)),
        ("entryId", entry_id and _checked("entryId", entry_id, 18, 18)),
        ("decState", _checked("decState", dec_state, 1, 3)),
        ("agentCode", _checked("agentCode", agent_code, 1, 18)),
        ("agentName", _checked("agentName", agent_name, 1, 100)),
        ("ebcCode", group.key.ebc_code),
        ("ebcName", group.ebc_name),
        ("declAgentCode", _checked("declAgentCode", decl_agent_code, 1, 18)),
        ("declAgentName", _checked("declAgentName", decl_agent_name, 1, 100)),
        ("grossWeight", _weight("grossWeight", group.gross_weight)),
        ("netWeight", _weight("netWeight", group.net_weight)),
        ("msgCount", "1"),  # one message per 报关单: not split
        ("msgSeqNo", "1"),
    ]
    root = etree.Element(ceb("CEB792Message"), nsmap={"ceb": CEB_NS},
                         guid=guid or str(uuid.uuid4()).upper(), version="1.0")  # fmt: skip
    result = etree.SubElement(root, ceb("SummaryResult"))
    head = etree.SubElement(result, ceb("SummaryResultHead"))
    for name, value in head_values:
        if value:
            etree.SubElement(head, ceb(name)).text = value
    for line in group.lines:
        node = etree.SubElement(result, ceb("SummaryResultList"))
        texts = (line.invt_no, line.logistics_no, str(line.gseqno), str(line.gnum), line.gcode)
        for name, text in zip(_LINE_FIELDS, texts, strict=True):
            etree.SubElement(node, ceb(name)).text = text
    return _PLAIN + etree.tostring(root, encoding="UTF-8")
