"""One log line and two metrics per HTTP request (pure ASGI middleware: no body buffering).

It runs on every request, so it keeps its own cost down: request ids come from ``random`` (an
id for logs, not a secret: ``uuid4`` asked the kernel for randomness each time), the metric
series of each (method, route, status) are looked up once (``metrics.http_series``), and the log
line is built only when INFO is enabled.
"""

from __future__ import annotations

import logging
import random
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics

log = structlog.get_logger("danchuang.http")
_access = logging.getLogger("danchuang.http")  # the stdlib logger behind it: its level


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope.get("headers") or ():
            if name == b"x-request-id":
                request_id = value.decode("latin-1")[:64]
                break
        request_id = request_id or f"{random.getrandbits(128):032x}"
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500  # if the app fails before answering, that is what the client gets

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"].append((b"x-request-id", request_id.encode("latin-1")))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - started
            # The route template (/api/v1/webhooks/{webhook_id}), set by FastAPI's router, keeps
            # metric labels bounded; unmatched paths (404s, scans) share one label.
            route = getattr(scope.get("route"), "path", None) or "<unmatched>"
            method = scope["method"]
            requests, latency = metrics.http_series(method, route, status)
            requests.inc()
            latency.observe(duration)
            if _access.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    method=method,
                    path=scope["path"],
                    route=route,
                    status=status,
                    duration_ms=round(duration * 1000, 2),
                )
            structlog.contextvars.unbind_contextvars("request_id")
