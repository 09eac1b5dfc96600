"""What customs forms of an accepted summary application (CEB701, ``app.services.summaries``)
and sends back: the customs declarations (报关单) of its 清单, each with its summary result
(汇总结果单 CEB792, CEB spec 202205 §2.23 pp. 58-61), kept and recorded as a receipt of the
application's document; and the summaries as their sender reads them back
(``GET /api/v1/summaries``, docs/api.md).

A summary is its sender's alone: anyone else is answered 404, as for a missing id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.db.models import DocumentRow
from app.db.models_summary import SummaryGroupRow, SummaryListRow, SummaryRow
from app.errors import not_found
from app.receipts import AnyReceipt, NewReceipt, record_receipts
from declarations import (
    DEC_STATE_FORMED,
    Period,
    ReturnStatus,
    Summary,
    SummaryGroup,
    build_summary_result,
    decl_seq_no,
)

RESULT = "CEB792"  # customs' summary result: one per 报关单
FORMED = "formed"  # a summary whose 报关单 are formed (their CEB792 sent, decState A)
_BEIJING = timezone(timedelta(hours=8), "CST")


@dataclass(frozen=True, slots=True)
class Application:
    """What a CEB701 head says (§2.21.4 pp. 55-56)."""

    agent_code: str
    agent_name: str
    ebc_code: str
    customs_code: str
    decl_agent_code: str
    decl_agent_name: str
    summary_flag: str
    item_name_flag: str | None
    period: Period | None  # startTime/endTime; None: the 清单 named in the body


def utc_of(beijing: datetime) -> datetime:
    """A time the spec writes in Beijing time (naive), in UTC."""
    return beijing.replace(tzinfo=_BEIJING).astimezone(UTC)


def beijing_of(moment: datetime) -> datetime:
    """A stored (UTC) time as the spec writes it: Beijing time, naive."""
    return moment.astimezone(_BEIJING).replace(tzinfo=None)


def next_serial(session: Session, column: InstrumentedAttribute[int]) -> int:
    """The next serial of ``sumNo`` or ``declSeqNo``: a summary application holds the write
    path exclusively (``set_locks.whole``), so no two number at once, and the columns are
    unique all the same."""
    return int(session.scalar(select(func.max(column))) or 0) + 1


def form(
    session: Session,
    row: DocumentRow,
    application: Application,
    *,
    summary: Summary,
    period: Period,
    closed: Mapping[str, tuple[int, datetime]],
    number: str,
    now: datetime,
) -> SummaryRow:
    """Keep the accepted summary ``number`` of the application ``row`` (stored), its 报关单
    and its 清单 (``closed``: invtNo → declaration id and closing time), and send one CEB792
    per 报关单 as a receipt of ``row``. A 清单 another application summarised meanwhile fails
    the flush (unique invtNo), and the submission is answered again."""
    kept = SummaryRow(
        document_id=row.id, sender_id=row.sender_id, sum_no=number,
        customs_code=application.customs_code, agent_code=application.agent_code,
        ebc_code=application.ebc_code, summary_flag=application.summary_flag,
        item_name_flag=application.item_name_flag, by_range=application.period is not None,
        period_start=utc_of(period.start), period_end=utc_of(period.end), state=FORMED,
    )  # fmt: skip
    session.add(kept)
    session.flush()
    serial = next_serial(session, SummaryGroupRow.id)
    groups: list[SummaryGroupRow] = []
    for seq, group in enumerate(summary.groups, start=1):
        declared = decl_seq_no(now.date(), serial + seq - 1)
        xml = build_summary_result(
            group, sum_no=number, decl_seq_no=declared, op_time=now,
            agent_code=application.agent_code, agent_name=application.agent_name,
            decl_agent_code=application.decl_agent_code,
            decl_agent_name=application.decl_agent_name,
        )  # fmt: skip
        formed = _group_row(kept.id, seq, declared, group, xml)
        session.add(formed)
        session.flush()
        groups.append(formed)
        for one in group.lists:
            declaration_id, closed_at = closed[one.invt_no]
            session.add(SummaryListRow(summary_id=kept.id, group_id=formed.id,
                                       invt_no=one.invt_no, declaration_id=declaration_id,
                                       closed_at=closed_at))  # fmt: skip
    session.flush()  # here a 清单 summarised twice at once fails
    decided = int(ReturnStatus.DECIDED)
    results = [NewReceipt(RESULT, decided, _text(g), document_id=row.id) for g in groups]
    for formed, receipt in zip(groups, record_receipts(session, results), strict=True):
        formed.receipt_id = receipt.id
    return kept


def _group_row(
    summary_id: int, seq: int, declared: str, group: SummaryGroup, xml: bytes
) -> SummaryGroupRow:
    key = group.key
    items = [
        {"gseqno": gseqno, "country": item.country, "gcode": item.gcode,
         "currency": item.currency, "item_name": item.item_name,
         "lines": [{"invt_no": line.invt_no, "logistics_no": line.logistics_no,
                    "gnum": line.gnum} for line in group.lines if line.gseqno == gseqno]}
        for gseqno, item in enumerate(group.items, start=1)
    ]  # fmt: skip
    head = {"customs_code": key.customs_code, "ebc_code": key.ebc_code,
            "ebc_name": group.ebc_name, "traf_mode": key.traf_mode,
            "owner_code": key.owner_code, "country": key.country,
            "port_code": key.port_code}  # fmt: skip
    return SummaryGroupRow(summary_id=summary_id, seq=seq, decl_seq_no=declared,
                           dec_state=DEC_STATE_FORMED, head=head, items=items,
                           gross_weight=group.gross_weight, net_weight=group.net_weight,
                           result_xml=xml)  # fmt: skip


def _text(formed: SummaryGroupRow) -> str:
    lists = len({line["invt_no"] for item in formed.items for line in item["lines"]})
    number, state, items = formed.decl_seq_no, formed.dec_state, len(formed.items)
    return (f"报关单{number}已生成(汇总结果，decState {state})：{lists}票清单，{items}项商品 / "
            f"customs declaration {number} formed (summary result, decState {state}): "
            f"{lists} 清单, {items} item(s)")  # fmt: skip


# -- reading back -------------------------------------------------------------------------


def own_summary(session: Session, summary_id: int, enterprise_id: int) -> SummaryRow:
    """The summary, if the enterprise sent its application; 404 otherwise."""
    row = session.get(SummaryRow, summary_id)
    if row is None or row.sender_id != enterprise_id:
        raise not_found(
            "summary.not_found",
            f"you sent no summary application {summary_id}",
            f"未找到您申报的汇总申请{summary_id}",
        )
    return row


def list_summaries(
    session: Session, enterprise_id: int, *, after: int, limit: int
) -> list[SummaryRow]:
    """The enterprise's summaries, oldest first, with ``id > after``."""
    query = select(SummaryRow).where(SummaryRow.sender_id == enterprise_id, SummaryRow.id > after)
    return list(session.scalars(query.order_by(SummaryRow.id).limit(limit)))


def _groups(session: Session, summary_id: int) -> list[SummaryGroupRow]:
    query = select(SummaryGroupRow).where(SummaryGroupRow.summary_id == summary_id)
    return list(session.scalars(query.order_by(SummaryGroupRow.seq)))


def summary_head_json(row: SummaryRow) -> dict[str, Any]:
    """The summary without its 清单 and 报关单 (listings)."""
    return {
        "id": row.id,
        "sum_no": row.sum_no,
        "state": row.state,
        "document_id": row.document_id,
        "customs_code": row.customs_code,
        "agent_code": row.agent_code,
        "ebc_code": row.ebc_code,
        "summary_flag": row.summary_flag,
        "item_name_flag": row.item_name_flag,
        "by_range": row.by_range,
        "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(),
        "created_at": row.created_at.isoformat(),
    }


def summary_json(session: Session, row: SummaryRow) -> dict[str, Any]:
    """The summary, its 清单 and the 报关单 they form (with their items and 清单)."""
    groups = _groups(session, row.id)
    seq_of = {group.id: group.decl_seq_no for group in groups}
    lists = session.scalars(
        select(SummaryListRow)
        .where(SummaryListRow.summary_id == row.id)
        .order_by(SummaryListRow.closed_at, SummaryListRow.invt_no)
    )
    return {
        **summary_head_json(row),
        "lists": [
            {"invt_no": one.invt_no, "declaration_id": one.declaration_id,
             "closed_at": one.closed_at.isoformat(), "decl_seq_no": seq_of[one.group_id]}
            for one in lists
        ],
        "groups": [
            {"seq": group.seq, "decl_seq_no": group.decl_seq_no, "dec_state": group.dec_state,
             **group.head, "gross_weight": f"{group.gross_weight:f}",
             "net_weight": f"{group.net_weight:f}", "receipt_id": group.receipt_id,
             "items": group.items}
            for group in groups
        ],
    }  # fmt: skip


def result_xml(session: Session, row: SummaryRow, decl_seq_no: str) -> bytes:
    """The CEB792 customs sent for the summary's 报关单 ``decl_seq_no``; 404 when it has none."""
    found = session.scalar(
        select(SummaryGroupRow.result_xml).where(
            SummaryGroupRow.summary_id == row.id, SummaryGroupRow.decl_seq_no == decl_seq_no
        )
    )
    if found is None:
        raise not_found(
            "summary.no_such_result",
            f"summary {row.id} formed no customs declaration {decl_seq_no}",
            f"汇总申请{row.id}未生成报关单{decl_seq_no}",
        )
    return bytes(found)


def results_xml(session: Session, row: SummaryRow) -> dict[str, bytes]:
    """Every CEB792 customs sent for the summary, by declSeqNo (one query)."""
    query = select(SummaryGroupRow.decl_seq_no, SummaryGroupRow.result_xml).where(
        SummaryGroupRow.summary_id == row.id
    )
    return {
        number: bytes(xml) for number, xml in session.execute(query.order_by(SummaryGroupRow.seq))
    }


def sum_no_of(session: Session, row: DocumentRow) -> str | None:
    """The summary number customs gave the summary application ``row`` (None for any other
    document, or an application refused)."""
    if row.message_code != "CEB701":
        return None
    return session.scalar(select(SummaryRow.sum_no).where(SummaryRow.document_id == row.id))


def receipt_xml(session: Session, receipt: AnyReceipt) -> bytes | None:
    """A CEB792 receipt as the message customs sends: the summary result itself."""
    if receipt.message_code != RESULT:
        return None
    found = session.scalar(
        select(SummaryGroupRow.result_xml).where(SummaryGroupRow.receipt_id == receipt.id)
    )
    return None if found is None else bytes(found)
