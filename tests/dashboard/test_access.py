"""Who may open the dashboard: open on the local SQLite sandbox, otherwise the admin key."""

from __future__ import annotations

import httpx
import pytest
from dashboard_support import ADMIN_KEY
from fastapi import FastAPI

from app.dashboard.config import DashboardSettings, open_without_key
from app.settings import Settings

CLOSED = DashboardSettings(enabled=False, _env_file=None)  # type: ignore[call-arg]
LONG_KEY = "k" * 40


@pytest.mark.parametrize(
    ("environment", "url", "enabled", "expected"),
    [
        ("development", "sqlite:///./var/x.db", None, True),  # `make run`: the local sandbox
        ("development", "postgresql+psycopg://db/x", None, False),
        ("production", "sqlite:///./var/x.db", None, False),
        ("production", "postgresql+psycopg://db/x", True, True),  # the operator opens it
        ("development", "sqlite:///./var/x.db", False, False),
    ],
)
def test_who_sees_the_dashboard_without_a_key(
    environment: str, url: str, enabled: bool | None, expected: bool
) -> None:
    settings = Settings(
        environment=environment,  # type: ignore[arg-type]
        database_url=url,
        admin_key=LONG_KEY,  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )
    dashboard = DashboardSettings(enabled=enabled, _env_file=None)  # type: ignore[call-arg]
    assert open_without_key(dashboard, settings) is expected


async def test_a_closed_dashboard_asks_for_the_admin_key(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.state.dashboard_settings = CLOSED
    for path in ("/", "/declarations/1", "/scenarios", "/conformance", "/error-codes"):
        response = await client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/login"
    wrong = await client.post("/login", data={"key": "not-the-key"})
    assert wrong.status_code == 401 and "not the admin key" in wrong.text
    signed_in = await client.post("/login", data={"key": ADMIN_KEY})
    assert signed_in.status_code == 303
    cookie = signed_in.cookies.get("danchuang_dashboard")
    assert cookie and ADMIN_KEY not in cookie  # the browser keeps a token, not the key
    assert (await client.get("/")).status_code == 200  # the client sends the cookie back
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {ADMIN_KEY}"}
    assert (await client.get("/error-codes", headers=bearer)).status_code == 200
    client.cookies.set("danchuang_dashboard", "0" * 64)  # a forged token
    assert (await client.get("/")).status_code == 303


async def test_without_an_admin_key_a_closed_dashboard_is_off(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.state.dashboard_settings = CLOSED
    app.state.settings = app.state.settings.model_copy(update={"admin_key": None})
    response = await client.get("/")
    assert response.status_code == 404
    assert "DANCHUANG_DASHBOARD_ENABLED" in response.json()["error"]["message_en"]
