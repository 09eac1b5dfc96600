"""The export summary declaration (汇总申报): a declarant's summary application (汇总申请单
CEB701 → CEB702, CEB spec 202205 §2.21-2.22) and the summary results customs sends (汇总结果单
CEB792, §2.23), one per customs declaration (报关单) formed. The grouping is the core's
(``declarations.summarise``, 海关总署公告2018年第194号 item (十)).

Who may summarise what: the application's ``agentCode`` is its sender (``app.security``), and
every 清单 it names must be an export 清单 (CEB603, the one customs holds) declared by that
sender for the application's ``ebcCode`` at its ``customsCode``, closed (CEB604 899, the
declaration ``cleared``), declared ``statisticsFlag`` B, and in no earlier summary (the unique
``summary_lists.invt_no`` holds to that even against two applications at once). With
``startTime`` and ``endTime`` (both or neither, the rule ``summary.time-range``) the 清单 are
those of the sender and ebc closed in that range (the 899's time, Beijing time), not yet
summarised and declared B; the list body is ignored. ``summaryFlag`` is 1 or 2 (the rule
``summary.flag``).

Answers: a refusal is 100 with every reason in both languages; an accepted application is
answered 2 → 3 → 120 → 399 (the sumNo in its text), then customs forms the 报关单 and records
one CEB792 receipt of the application's document per 报关单 (``summary_results.form``): its
sender pulls them (the document's receipts, ``GET /api/v1/summaries/{id}``) and its webhooks
get them, as the CEB792 message itself (``summary_results.receipt_xml``). The declarations stay
``cleared``.

Where the spec is silent, danchuang's model (the spec gives no codes for a refused summary):
an application is taken whole or refused whole; it is new only (appType 1: customs decides it
at once, so nothing is left to change or delete) and not split (msgCount 1); without a range
its period is the calendar month the earliest named 清单 closed in, and a named 清单 closed in
another month is refused; ``sumNo`` and each ``declSeqNo`` are dated the day customs accepts
the application and numbered by one serial each across the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import states
from app.db.models import Declaration, DocumentRow, Receipt
from app.db.models_summary import SummaryListRow, SummaryRow
from app.services.plans import FollowUp, Plan
from app.services.set_documents import facts_of, source_of
from app.services.summary_results import Application, beijing_of, form, next_serial, utc_of
from declarations import (
    CEB_NS,
    Facts,
    Period,
    ReturnStatus,
    Summary,
    SummaryList,
    identify_document,
    sum_no,
    summarise,
    summary_list_of,
)

_LIST, _LIST_RECEIPT = "CEB603", "CEB604"
_INFO_LIMIT = 1000  # returnInfo C..1000 (§2.22.4 p. 58)


@dataclass(frozen=True, slots=True)
class _Closed:
    """A closed export 清单 of the sender: its document, declaration and closing time (UTC)."""

    document: DocumentRow
    declaration_id: int
    closed_at: datetime


class _RefusalError(Exception):
    """Why the application is refused: each reason in Chinese, then each in English."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.text = f"{zh} / {en}"

    @classmethod
    def of(cls, reasons: Sequence[tuple[str, str]]) -> _RefusalError:
        return cls("；".join(zh for zh, _ in reasons), "; ".join(en for _, en in reasons))


def plan(session: Session, row: DocumentRow, facts: Facts) -> Plan:
    """Accept or refuse the summary application ``row`` (CEB701, not yet stored)."""
    try:
        application = _application(facts)
        if application.period is None:
            named = [line.get("invtNo") or "" for line in facts.lines]
            closed = _named(session, application, named)
        else:
            closed = _in_range(session, row.sender_id, application, application.period)
        summary, period = _summarise(session, application, closed)
    except _RefusalError as refusal:
        return Plan(final=(int(ReturnStatus.REJECTED), _clip(refusal.text)))
    now = datetime.now(UTC)
    number = sum_no(now.date(), next_serial(session, SummaryRow.id))
    lists = len(closed)
    text = (f"海关审结：汇总申请编号{number}，{lists}票清单汇总为{len(summary.groups)}份报关单 / "
            f"decided: summary {number}, {lists} 清单 in {len(summary.groups)} customs "
            "declaration(s)")  # fmt: skip

    at = {one.document.invt_no or "": (one.declaration_id, one.closed_at) for one in closed}

    def apply(session: Session, first: Declaration) -> None:
        form(session, row, application, summary=summary, period=period, closed=at,
             number=number, now=now)  # fmt: skip

    first = session.get(Declaration, closed[0].declaration_id)
    assert first is not None  # found with its declaration above
    follow = FollowUp(first, apply, between=(int(ReturnStatus.ACCEPTED),), joins=False)
    return Plan(final=(int(ReturnStatus.DECIDED), text), follow_up=follow)


def _application(facts: Facts) -> Application:
    head = {name: (value or "").strip() or None for name, value in facts.head.items()}
    if facts.key("appType") != "1":
        raise _RefusalError("汇总申请单只受理新增(appType 1)：海关即时审结，无可变更或删除",
                            "only a new application (appType 1) is taken: customs decides it "
                            "at once, nothing is left to change or delete "
                            "(danchuang's model)")  # fmt: skip
    if head.get("msgCount") != "1" or head.get("msgSeqNo") != "1":
        raise _RefusalError("不受理拆分的汇总申请单(msgCount须为1)",
                            "a split application is not taken: msgCount must be 1 "
                            "(danchuang's model)")  # fmt: skip
    return Application(
        agent_code=facts.key("agentCode") or "",
        agent_name=head.get("agentName") or "",
        ebc_code=facts.key("ebcCode") or "",
        customs_code=facts.key("customsCode") or "",
        decl_agent_code=head.get("declAgentCode") or "",
        decl_agent_name=head.get("declAgentName") or "",
        summary_flag=head.get("summaryFlag") or "",  # 1 or 2: the rule summary.flag
        item_name_flag=head.get("itemNameFlag"),
        period=_range(head.get("startTime"), head.get("endTime")),
    )


def _range(start: str | None, end: str | None) -> Period | None:
    """startTime and endTime as a period (the rule ``summary.time-range`` has refused one
    without the other, or ending before it starts: §2.21.4 p. 55)."""
    if start is None or end is None:
        return None
    try:
        times = [datetime.strptime(text, "%Y%m%d%H%M%S") for text in (start, end)]
        return Period(times[0], times[1])
    except ValueError as exc:
        raise _RefusalError(f"汇总时间范围无效：{start}至{end}",
                            f"startTime {start} to endTime {end}: {exc}") from exc  # fmt: skip


def _named(session: Session, application: Application, numbers: list[str]) -> list[_Closed]:
    """The 清单 the body names, each the sender's, for the ebc, declared at the customs and
    closed; refused with every reason when one is not."""
    if not numbers:
        raise _RefusalError("汇总申请单未列明清单", "the application names no 清单 (invtNo)")
    rows = session.execute(
        select(DocumentRow, Declaration)
        .join(Declaration, Declaration.id == DocumentRow.declaration_id)
        .where(
            DocumentRow.message_code == _LIST,
            DocumentRow.invt_no.in_(numbers),
            DocumentRow.current.is_(True),
        )
    ).all()
    found = {document.invt_no: (document, declaration) for document, declaration in rows}
    closing = _closing_times(session, [declaration.id for _, declaration in rows])
    taken: list[_Closed] = []
    problems: list[tuple[str, str]] = []
    ebc, customs = application.ebc_code, application.customs_code
    for number in numbers:
        document, declaration = found.get(number, (None, None))
        if document is None or declaration is None or not _yours(document, application):
            problems.append((f"清单{number}不是本申报单位为收发货人{ebc}在海关{customs}申报的出口清单",
                             f"no export 清单 {number} of yours for ebc {ebc} at customs "
                             f"{customs}"))  # fmt: skip
            continue
        closed_at = closing.get(declaration.id)
        if declaration.state != states.CLEARED or closed_at is None:
            problems.append((f"清单{number}尚未结关(899)", f"清单 {number} is not closed "
                             f"(899): it is {declaration.state}"))  # fmt: skip
            continue
        taken.append(_Closed(document, declaration.id, closed_at))
    if problems:
        raise _RefusalError.of(problems)
    return taken


def _yours(document: DocumentRow, application: Application) -> bool:
    keys = facts_of(document).keys
    return (keys.get("agentCode"), keys.get("ebcCode"), keys.get("customsCode")) == (
        application.agent_code,
        application.ebc_code,
        application.customs_code,
    )


def _closing_times(session: Session, declaration_ids: Sequence[int]) -> dict[int, datetime]:
    """When each declaration's 清单 closed: the time of its CEB604 899 (UTC)."""
    if not declaration_ids:
        return {}
    rows = session.execute(
        select(Receipt.declaration_id, Receipt.sim_time, Receipt.created_at).where(
            Receipt.declaration_id.in_(declaration_ids),
            Receipt.message_code == _LIST_RECEIPT,
            Receipt.return_status == int(ReturnStatus.CLOSED),
        )
    )
    return {ident: sim or created for ident, sim, created in rows if ident is not None}


def _in_range(
    session: Session, sender_id: int, application: Application, period: Period
) -> list[_Closed]:
    """The sender's 清单 for the ebc at the customs, declared B, closed within ``period``
    and in no summary yet."""
    start, end = utc_of(period.start), utc_of(period.end)
    closed_at = func.coalesce(Receipt.sim_time, Receipt.created_at)
    rows = session.execute(
        select(DocumentRow, Declaration.id, Receipt.sim_time, Receipt.created_at)
        .join(Declaration, Declaration.id == DocumentRow.declaration_id)
        .join(Receipt, Receipt.declaration_id == Declaration.id)
        .where(
            DocumentRow.message_code == _LIST,
            DocumentRow.current.is_(True),
            DocumentRow.sender_id == sender_id,
            Declaration.state == states.CLEARED,
            Receipt.message_code == _LIST_RECEIPT,
            Receipt.return_status == int(ReturnStatus.CLOSED),
            closed_at >= start,
            closed_at < end + timedelta(seconds=1),
        )
        .order_by(DocumentRow.id)
    ).all()
    numbers = [document.invt_no for document, *_ in rows if document.invt_no]
    summarised = _summarised(session, numbers)
    taken = [
        _Closed(document, ident, sim or created)
        for document, ident, sim, created in rows
        if _yours(document, application)
        and facts_of(document).head.get("statisticsFlag") == "B"
        and document.invt_no not in summarised
    ]
    if not taken:
        raise _RefusalError(
            f"{period.start:%Y-%m-%d %H:%M:%S}至{period.end:%Y-%m-%d %H:%M:%S}间"
            f"无待汇总的已结关清单(收发货人{application.ebc_code}，申报业务类型B)",
            f"no closed 清单 of ebc {application.ebc_code} declared B (汇总申报) is left to "
            f"summarise between {period.start:%Y-%m-%d %H:%M:%S} and "
            f"{period.end:%Y-%m-%d %H:%M:%S}",
        )
    return taken


def _summarised(session: Session, numbers: Sequence[str]) -> set[str]:
    if not numbers:
        return set()
    query = select(SummaryListRow.invt_no).where(SummaryListRow.invt_no.in_(numbers))
    return set(session.scalars(query))


def _summarise(
    session: Session, application: Application, closed: list[_Closed]
) -> tuple[Summary, Period]:
    """The 报关单 the 清单 form (``declarations.summarise``) and the period they closed in;
    refused with every 清单 left out and why."""
    problems: list[tuple[str, str]] = []
    lists: list[SummaryList] = []
    for one in closed:
        try:
            lists.append(_summary_list(one))
        except ValueError as exc:
            problems.append((f"清单{one.document.invt_no}缺少汇总所需项目", str(exc)))
    if problems:
        raise _RefusalError.of(problems)
    period = application.period
    if period is None:
        first = min(one.closed_at for one in lists)
        period = Period.month(first.year, first.month)
    numbers = [one.invt_no for one in lists]
    summary = summarise(lists, summary_flag=application.summary_flag,
                        item_name_flag=application.item_name_flag, period=period,
                        summarised=_summarised(session, numbers))  # fmt: skip
    if summary.refused:
        raise _RefusalError.of([(r.message_zh, r.message_en) for r in summary.refused])
    return summary, period


def _summary_list(one: _Closed) -> SummaryList:
    """The stored 清单 as the summary sees it, under the number customs gave it. The facts kept
    at intake hold what the reconciliation reads, not the weights, names and lines a 报关单
    needs: the summary reads the 清单's bytes, once."""
    document, _ = identify_document(one.document.raw_xml, source=source_of(one.document))
    records = document.records() if document is not None else []
    if not records or not one.document.invt_no:
        raise ValueError(f"{source_of(one.document)} holds no 清单 record")
    inventory = records[0].element
    written = inventory.find(f"{{{CEB_NS}}}InventoryHead/{{{CEB_NS}}}invtNo")
    if written is not None:  # the enterprise's own text: customs' number stands
        written.text = one.document.invt_no
    closed_at = beijing_of(one.closed_at)
    return summary_list_of(inventory, closed_at=closed_at, invt_no=one.document.invt_no)


def _clip(text: str) -> str:
    return text if len(text) <= _INFO_LIMIT else text[: _INFO_LIMIT - 1] + "…"
