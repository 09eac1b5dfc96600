"""``/summaries``: the export summary declarations (汇总申报, CEB spec 202205 §2.21-2.23) customs
decided, newest first: each application's 清单 and the customs declarations (报关单) they formed,
with the summary result (CEB792) customs sent for each (``app.services.summary_results``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from app.dashboard.access import require_access
from app.dashboard.deps import DatabaseDep
from app.dashboard.templating import templates
from app.db.models_summary import SummaryRow
from app.services import summary_results

router = APIRouter(dependencies=[Depends(require_access)])

SHOWN = 50  # the newest summaries the page lists


@router.get("/summaries", response_class=HTMLResponse, include_in_schema=False)
def summaries_page(request: Request, database: DatabaseDep) -> HTMLResponse:
    with database.read() as session:
        rows = session.scalars(select(SummaryRow).order_by(SummaryRow.id.desc()).limit(SHOWN))
        summaries = [
            (
                summary_results.summary_json(session, row),
                {n: xml.decode() for n, xml in summary_results.results_xml(session, row).items()},
            )
            for row in rows
        ]
    return templates.TemplateResponse(
        request, "summaries.html.j2", {"summaries": summaries, "shown": SHOWN}
    )
