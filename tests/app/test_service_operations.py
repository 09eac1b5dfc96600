"""Operations: /healthz, /metrics, request logs, the settings, and the service on a real port."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import uvicorn
from pydantic import ValidationError
from service_support import PartyFactory

from app.db import migrate
from app.db.engine import Database
from app.db.models import Declaration, DocumentRow, Role
from app.main import create_app
from app.receipts import record_receipt
from app.settings import Settings


async def test_healthz_reports_database_migrations_and_engine(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["migrations"] == {
        "ok": True,
        "current": migrate.head_revision(),
        "head": migrate.head_revision(),
    }
    assert "status" in body["checks"]["engine"]


async def test_healthz_is_503_when_the_schema_is_behind(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"migrate_on_start": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["migrations"]["ok"] is False
    assert body["checks"]["migrations"]["current"] is None


async def test_metrics_expose_requests_receipts_and_queues(
    client: httpx.AsyncClient, database: Database, make_party: PartyFactory
) -> None:
    await client.get("/healthz")
    await client.get("/api/v1/webhooks")  # 401
    await client.get("/no/such/page")
    party = make_party("3301960101", Role.EBP)
    await client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/h"}, headers=party.headers
    )
    with database.write() as session:
        declaration = Declaration(direction="import", order_no="M1", ebp_code=party.code)
        session.add(declaration)
        session.flush()
        session.add(
            DocumentRow(guid="GM1", message_code="CEB311", direction="import", raw_xml=b"<x/>",
                     sender_id=party.id, declaration_id=declaration.id)
        )  # fmt: skip
        session.flush()
        record_receipt(
            session, message_code="CEB622", return_status=120, declaration_id=declaration.id
        )

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for name in (
        "danchuang_submissions_total",
        "danchuang_findings_total",
        "danchuang_clock_lag_seconds",
        "danchuang_http_request_duration_seconds_bucket",
    ):
        assert name in text
    assert 'danchuang_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="/api/v1/webhooks",status="401"' in text
    assert 'route="<unmatched>",status="404"' in text  # unknown paths share one label
    assert 'danchuang_receipts_total{message="CEB622",status="120"}' in text
    assert 'danchuang_queue_length{queue="webhook_outbox"} 1.0' in text


async def test_one_structured_log_line_per_request(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="danchuang.http"):
        response = await client.get("/healthz", headers={"X-Request-ID": "req-42"})
    assert response.headers["x-request-id"] == "req-42"
    [record] = [r for r in caplog.records if r.name == "danchuang.http"]
    event = record.msg
    assert isinstance(event, dict)
    assert event["event"] == "request"
    assert (event["method"], event["path"], event["status"]) == ("GET", "/healthz", 200)
    assert event["duration_ms"] >= 0 and event["request_id"] == "req-42"


async def test_json_log_lines_in_production_format(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings.model_copy(update={"log_format": "json"}))  # handler on stderr now
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get("/healthz?probe=1")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    [request] = [line for line in lines if line.get("event") == "request"]
    assert request["method"] == "GET" and request["path"] == "/healthz"
    assert request["status"] == 200 and request["duration_ms"] >= 0
    assert request["level"] == "info" and request["timestamp"].endswith("Z")
    assert any(line.get("event") == "service.started" for line in lines)


async def test_unknown_routes_and_bad_json_get_the_common_error_shape(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "http.404"
    response = await client.post(
        "/api/v1/enterprises",
        content=b"{not json",
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "request.invalid"


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANCHUANG_CLOCK_SPEED", "instant")
    monkeypatch.setenv("DANCHUANG_DATABASE_URL", "postgresql+psycopg://u@db/x")
    monkeypatch.setenv("DANCHUANG_WEBHOOK_MAX_ATTEMPTS", "3")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.clock_speed == "instant"
    assert not settings.is_sqlite and settings.webhook_max_attempts == 3
    monkeypatch.setenv("DANCHUANG_CLOCK_SPEED", "120")
    assert Settings(_env_file=None).clock_speed == 120.0  # type: ignore[call-arg]
    monkeypatch.setenv("DANCHUANG_CLOCK_SPEED", "-1")
    with pytest.raises(ValidationError, match="clock_speed"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_production_refuses_to_start_without_a_strong_admin_key() -> None:
    with pytest.raises(ValidationError, match="DANCHUANG_ADMIN_KEY"):
        Settings(environment="production", _env_file=None)  # type: ignore[call-arg]
    strong = "x" * 40
    settings = Settings(environment="production", admin_key=strong, _env_file=None)  # type: ignore[arg-type, call-arg]
    assert settings.json_logs


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The app under a real uvicorn on a loopback port, its webhook worker running."""
    settings = settings.model_copy(
        update={"run_background_in_api": True, "webhook_poll_interval_s": 0.05}
    )
    config = uvicorn.Config(  # port 0: the OS picks a free port, read back once started
        create_app(settings), host="127.0.0.1", port=0, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(30)


def test_the_served_app_delivers_webhooks_from_its_background_worker(
    live_server: str, database: Database, make_party: PartyFactory
) -> None:
    """End to end over TCP: subscribe through the API, record a receipt, get it pushed."""
    got: list[bytes] = []
    done = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()
            done.set()

        def log_message(self, *args: object) -> None:
            pass

    hook_server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=hook_server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        party = make_party("3301960101", Role.EBP)
        assert httpx.get(f"{live_server}/healthz").json()["checks"]["webhooks"]["worker"] == (
            "running"
        )
        url = f"http://127.0.0.1:{hook_server.server_address[1]}/in"
        created = httpx.post(
            f"{live_server}/api/v1/webhooks", json={"url": url}, headers=party.headers
        )
        assert created.status_code == 201
        with database.write() as session:
            document = DocumentRow(
                guid="GL1", message_code="CEB311", direction="import", raw_xml=b"<x/>",
                sender_id=party.id,
            )  # fmt: skip
            session.add(document)
            session.flush()
            record_receipt(session, message_code="CEB312", return_status=2, document_id=document.id)
        assert done.wait(30), "the webhook was not delivered"
    finally:
        hook_server.shutdown()
        hook_server.server_close()
    assert json.loads(got[0])["receipt"]["message_code"] == "CEB312"


async def test_an_unexpected_failure_is_a_json_500_without_internals(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal"
    assert "secret" not in response.text
