"""The export summary declarations you applied for (汇总申报, CEB701; docs/live-clearance.md):

GET /api/v1/summaries                                    yours, oldest first
GET /api/v1/summaries/{id}                               one, its 清单 and its 报关单
GET /api/v1/summaries/{id}/results/{declSeqNo}           the CEB792 customs sent for one 报关单
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from app.api.deps import CurrentEnterprise, DatabaseDep
from app.api.schemas import XML_CONTENT, Cursor, RowId, errors
from app.services import summary_results

router = APIRouter(prefix="/api/v1/summaries", tags=["summaries"])

DeclSeqNo = Annotated[
    str, Path(pattern="^S[0-9]{17}$", description="The 报关单's declSeqNo (汇总统一编号).")
]


class SummaryHead(BaseModel):
    """A summary application customs accepted (CEB701, CEB spec 202205 §2.21)."""

    id: int
    sum_no: str = Field(description="汇总申请编号 customs gave (sumNo)")
    state: str = Field(description="formed: its 报关单 are formed, their CEB792 sent")
    document_id: int = Field(description="the CEB701 document; the CEB792 are its receipts")
    customs_code: str
    agent_code: str
    ebc_code: str
    summary_flag: str
    item_name_flag: str | None
    by_range: bool = Field(description="true: startTime/endTime chose the 清单")
    period_start: str = Field(description="the 清单 closed in this period (UTC)")
    period_end: str
    created_at: str


class SummaryListOut(BaseModel):
    invt_no: str
    declaration_id: int
    closed_at: str = Field(description="its CEB604 899 (UTC)")
    decl_seq_no: str


class ItemLineOut(BaseModel):
    invt_no: str
    logistics_no: str
    gnum: int


class ItemOut(BaseModel):
    gseqno: int
    country: str
    gcode: str
    currency: str
    item_name: str | None
    lines: list[ItemLineOut]


class GroupOut(BaseModel):
    """One 报关单 the summary formed (CEB792, §2.23)."""

    seq: int
    decl_seq_no: str
    dec_state: str
    customs_code: str
    ebc_code: str
    ebc_name: str
    traf_mode: str
    owner_code: str | None
    country: str
    port_code: str
    gross_weight: str
    net_weight: str
    receipt_id: int | None
    items: list[ItemOut]


class SummaryOut(SummaryHead):
    lists: list[SummaryListOut]
    groups: list[GroupOut]


class SummaryPage(BaseModel):
    summaries: list[SummaryHead]
    cursor: int


@router.get("", response_model=SummaryPage, responses=errors(401, 422))
def list_summaries(
    *,
    enterprise: CurrentEnterprise,
    database: DatabaseDep,
    after: Cursor = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """The summaries you applied for, oldest first."""
    with database.read() as session:
        rows = summary_results.list_summaries(session, enterprise.id, after=after, limit=limit)
        return {
            "summaries": [summary_results.summary_head_json(row) for row in rows],
            "cursor": rows[-1].id if rows else after,
        }


@router.get("/{summary_id}", response_model=SummaryOut, responses=errors(401, 404, 422))
def read_summary(
    summary_id: RowId, enterprise: CurrentEnterprise, database: DatabaseDep
) -> dict[str, Any]:
    """One summary you applied for: its sumNo, its 清单 and the 报关单 they form, each with its
    declSeqNo and items."""
    with database.read() as session:
        row = summary_results.own_summary(session, summary_id, enterprise.id)
        return summary_results.summary_json(session, row)


@router.get(
    "/{summary_id}/results/{decl_seq_no}",
    response_class=Response,
    responses={200: {"content": XML_CONTENT}, **errors(401, 404, 422)},
)
def read_summary_result(
    summary_id: RowId, decl_seq_no: DeclSeqNo, enterprise: CurrentEnterprise, database: DatabaseDep
) -> Response:
    """The summary result (CEB792) customs sent for one 报关单 of your summary."""
    with database.read() as session:
        row = summary_results.own_summary(session, summary_id, enterprise.id)
        xml = summary_results.result_xml(session, row, decl_seq_no)
    return Response(xml, media_type="application/xml")
