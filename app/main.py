"""The FastAPI application: ``create_app(settings)`` builds it; its lifespan owns the resources.

On start the lifespan opens the database, brings its schema to the latest migration, and starts
the background work (the webhook delivery loop; the clearance engine joins it at the hook
``start_clearance_engine``). On shutdown it stops them in reverse order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app import dashboard
from app.accounts import KeyCache
from app.api.middleware import RequestLogMiddleware
from app.api.routes import (
    after_release,
    bonded_books,
    declarations,
    documents,
    enterprises,
    entrustments,
    health,
    outcomes,
    receipts,
    summaries,
    validation,
    webhooks,
)
from app.api.routes import certificates as certificate_routes
from app.db import migrate
from app.db.engine import Database, WriterQueueTimeoutError, busy
from app.engine import ClearanceEngine, EngineSettings
from app.errors import ServiceError
from app.logging import configure_logging
from app.services import certificates
from app.settings import Settings, get_settings
from app.webhooks.worker import DeliveryWorker

log = structlog.get_logger("danchuang")


def start_clearance_engine(app: FastAPI) -> None:
    """Start the live clearance engine (``app.engine``) with the background work. Several API
    processes may all start one: the engine lease lets exactly one of them run at a time."""
    settings: Settings = app.state.settings
    engine: ClearanceEngine | None = None
    if settings.run_background_in_api:
        config: EngineSettings | None = getattr(app.state, "engine_settings", None)
        engine = ClearanceEngine.from_settings(app.state.database, settings, config)
        engine.start()
    app.state.clearance_engine = engine
    app.state.engine_status = "running" if engine is not None else "off"


def stop_clearance_engine(app: FastAPI) -> None:
    engine: ClearanceEngine | None = getattr(app.state, "clearance_engine", None)
    if engine is not None:
        engine.stop()
    app.state.engine_status = "stopped"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    database = Database.from_url(
        settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )
    if settings.migrate_on_start:
        migrate.upgrade(database.engine)
        certificates.authority(database)  # the test CA and customs' key, made on first start
    app.state.database = database
    worker: DeliveryWorker | None = None
    if settings.run_background_in_api:
        worker = DeliveryWorker.from_settings(database, settings)
        worker.start()
    app.state.webhook_worker = worker
    start_clearance_engine(app)
    log.info("service.started", database=database.engine.url.render_as_string())
    try:
        yield
    finally:
        stop_clearance_engine(app)
        if worker is not None:
            worker.stop()
        database.dispose()
        log.info("service.stopped")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    # /docs serves Swagger UI from the package, not from a CDN: it works on networks without
    # internet access, as customs networks often are. (No /redoc: ReDoc still fetches its logo
    # from redocly's CDN.)
    app = FastAPIOffline(
        redoc_url=None,
        title="danchuang (单窗)",
        summary="A sandbox of China's cross-border e-commerce single window.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.key_cache = KeyCache(settings.key_cache_ttl_s)
    app.add_middleware(RequestLogMiddleware)
    app.include_router(health.router)
    app.include_router(enterprises.router)
    app.include_router(webhooks.router)
    app.include_router(entrustments.router)
    app.include_router(certificate_routes.router)
    app.include_router(receipts.router)
    app.include_router(documents.router)
    app.include_router(declarations.router)
    app.include_router(outcomes.router)
    app.include_router(after_release.router)
    app.include_router(bonded_books.router)
    app.include_router(summaries.router)
    app.include_router(validation.router)
    app.include_router(dashboard.router)  # the web pages: `/`, /scenarios, ...
    app.mount("/static", dashboard.static_files(), name="static")
    _install_error_handlers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    """Every error body has the same shape: {"error": {code, message_en, message_zh}}."""

    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'/'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        error = ServiceError(
            422, "request.invalid", f"invalid request: {problems}", f"请求内容不合规：{problems}"
        )
        return JSONResponse(error.body(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        zh = _HTTP_ZH.get(exc.status_code, "请求失败")
        error = ServiceError(exc.status_code, f"http.{exc.status_code}", str(exc.detail), zh)
        headers = exc.headers
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(app, request))}
        return JSONResponse(error.body(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # Logged with its traceback for the operator; the client gets no internals.
        log.error("request.failed", exc_info=exc)
        error = ServiceError(
            500,
            "internal",
            "the service failed to handle this request; it has been logged",
            "服务处理请求时出错，已记录日志",
        )
        return JSONResponse(error.body(), status_code=500)

    @app.exception_handler(WriterQueueTimeoutError)
    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: Exception) -> JSONResponse:
        """The database's writer stayed busy past the busy timeout (SQLite under a load it
        cannot keep up with): nothing was stored, the client may send the request again."""
        if not busy(exc):
            return await _unexpected(request, exc)
        log.warning("request.busy", path=request.url.path, error=str(exc))
        return JSONResponse(_BUSY.body(), status_code=503, headers={"Retry-After": _RETRY_AFTER_S})


_BUSY = ServiceError(
    503,
    "service.busy",
    "the database's writer stayed busy past the busy timeout: nothing of this request was "
    "stored; send it again after the Retry-After seconds",
    "数据库写入繁忙已超时，本请求未保存任何内容；请在Retry-After所示秒数后重新发送",
)
_RETRY_AFTER_S = "5"
_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method some route takes at this path. (Starlette's own 405 names only the methods
    of the first route matching the path, e.g. POST but not GET for /api/v1/webhooks.)"""
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in app.router.routes
        )
    ]


_HTTP_ZH = {
    400: "请求体无法读取",
    404: "未找到",
    405: "不支持该请求方法",
    406: "不支持请求的格式",
    415: "不支持的内容类型",
}
