"""``/parties``: who sends the carrier's and the site's messages, enterprise by enterprise.

danchuang plays the carrier (CEB513, CEB607, CEB509) and the supervised site (CEB711, CEB507)
unless a party to the declaration says a real one sends them (``app.services.real_senders``);
the operator sees each enterprise's setting here and changes it as the enterprise would through
``PUT /api/v1/enterprises/me/real-senders``, and sees when danchuang sends each message: the
delays of the engine's scenario (``DANCHUANG_ENGINE_SCENARIO``), flow by flow.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from app.accounts import find_enterprise
from app.dashboard.access import require_access
from app.dashboard.deps import DatabaseDep
from app.dashboard.templating import templates
from app.db.engine import Database
from app.db.models import Enterprise
from app.engine.config import EngineSettings
from app.engine.scenario import load_live_scenario
from app.errors import ServiceError
from app.services import real_senders

router = APIRouter(dependencies=[Depends(require_access)])


def _page(request: Request, database: Database, status_code: int = 200,
          error: str | None = None) -> HTMLResponse:  # fmt: skip
    with database.read() as session:
        rows = [
            (row.code, row.name, real_senders.setting(session, row.id).as_json())
            for row in session.scalars(select(Enterprise).order_by(Enterprise.code))
        ]
    timings = real_senders.timings(load_live_scenario(EngineSettings().scenario))
    context = {"rows": rows, "playable": real_senders.PLAYABLE, "timings": timings,
               "error": error}  # fmt: skip
    return templates.TemplateResponse(
        request, "real_senders.html.j2", context, status_code=status_code
    )


@router.get("/parties", response_class=HTMLResponse, include_in_schema=False)
def parties_page(request: Request, database: DatabaseDep) -> HTMLResponse:
    return _page(request, database)


@router.post("/parties", response_class=HTMLResponse, include_in_schema=False)
def change(
    request: Request,
    database: DatabaseDep,
    enterprise: Annotated[str, Form()],
    message: Annotated[str, Form()],
    who: Annotated[str, Form()],
) -> HTMLResponse:
    """Set who sends ``message`` for ``enterprise``'s declarations."""
    try:
        with database.write() as session:
            found = find_enterprise(session, enterprise.strip())
            real_senders.change(session, found.id, {message: who})
    except ServiceError as exc:
        return _page(request, database, exc.status, f"{exc.message_en} / {exc.message_zh}")
    return _page(request, database)
