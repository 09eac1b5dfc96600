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
from app.db import migrate
from app.webhooks.outbox import pending_count

router = APIRouter(tags=["operations"])
log = structlog.get_logger("danchuang.health")


@router.get("/healthz")
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
    # Placeholder until the clearance engine lands: the lifespan sets app.state.engine_status.
    checks["engine"] = {"ok": True, "status": getattr(request.app.state, "engine_status", "n/a")}
    worker = getattr(request.app.state, "webhook_worker", None)
    checks["webhooks"] = {"ok": True, "worker": "running" if worker else "external"}
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if healthy else 503)


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
