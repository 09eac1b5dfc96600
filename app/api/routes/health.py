"""Operations: liveness/readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from app import metrics
from app.api.deps import DatabaseDep
from app.api.schemas import Health
from app.dashboard import engine_status
from app.db import migrate
from app.db.engine import Database
from app.engine import ClearanceEngine
from app.webhooks.outbox import pending_count

router = APIRouter(tags=["operations"])
log = structlog.get_logger("danchuang.health")


@router.get(
    "/healthz",
    response_model=None,
    responses={
        200: {"model": Health, "description": "Healthy."},
        503: {"model": Health, "description": "A check failed: see `checks`."},
    },
)
def healthz(request: Request, database: DatabaseDep) -> JSONResponse:
    """200 when the database answers and its schema is at the latest migration, else 503."""
    checks: dict[str, Any] = {}
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = {"ok": True, "backend": database.engine.dialect.name}
        current, head = migrate.current_revision(database.engine), migrate.head_revision()
        checks["migrations"] = {"ok": current == head, "current": current, "head": head}
    except Exception as exc:  # the point of a health check is to report, not to raise
        checks["database"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    if checks.get("migrations", {}).get("ok"):  # the lease table is there to be read
        checks["engine"] = engine_check(request, database)
    worker = getattr(request.app.state, "webhook_worker", None)
    checks["webhooks"] = {"ok": True, "worker": "running" if worker else "external"}
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if healthy else 503)


def engine_check(request: Request, database: Database) -> dict[str, Any]:
    """This process's engine (``leader``: it clears; ``standby``: another holds the lease;
    ``off``: ``--no-engine``; ``stopped``) and whether any engine clears at all. A service
    whose engine runs in a ``danchuang worker`` is healthy with ``off`` here; what matters to an
    operator is ``clearing`` below, read from the lease row every engine renews."""
    engine: ClearanceEngine | None = getattr(request.app.state, "clearance_engine", None)
    status = getattr(request.app.state, "engine_status", "off")
    if engine is not None and status == "running":
        status = "leader" if engine.is_leader else "standby"
    with database.read() as session:
        anywhere = engine_status.read(session)
    return {
        "ok": True,
        "status": status,
        "clearing": anywhere.running,
        "sim_clock": anywhere.sim_clock.isoformat() if anywhere.sim_clock else None,
    }


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(database: DatabaseDep) -> Response:
    # Queue lengths are read at scrape time: they are facts about the database, not events.
    # A database outage must not hide the other metrics (that is when they matter most).
    try:
        with database.read() as session:
            metrics.QUEUE_LENGTH.labels(queue="webhook_outbox").set(pending_count(session))
    except Exception:
        log.warning("metrics.queue_length_unavailable", exc_info=True)
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
