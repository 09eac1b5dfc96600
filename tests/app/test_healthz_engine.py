"""``/healthz`` tells an operator which process clears: the lease holder, a standby, or none."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from test_engine_support import instant_engine

from app.db.engine import Database
from app.main import create_app
from app.settings import Settings


async def _engine_checks(settings: Settings, *, polls: int = 1) -> list[dict[str, Any]]:
    """The engine check of ``/healthz``, ``polls`` times over a few engine ticks."""
    app = create_app(settings)
    seen = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            for _ in range(polls):
                response = await c.get("/healthz")
                assert response.status_code == 200
                seen.append(response.json()["checks"]["engine"])
                await asyncio.sleep(0.1)
    return seen


async def _engine_check(settings: Settings) -> dict[str, Any]:
    return (await _engine_checks(settings))[0]


async def test_without_an_engine_anywhere_nothing_clears(settings: Settings) -> None:
    engine = await _engine_check(settings)
    assert engine == {"ok": True, "status": "off", "clearing": False, "sim_clock": None}


async def test_a_service_beside_a_worker_says_off_but_clearing(
    settings: Settings, database: Database
) -> None:
    worker = instant_engine(database)  # a `danchuang worker` elsewhere holds the lease
    worker.run_once()
    try:
        engine = await _engine_check(settings)
    finally:
        worker.stop()
    assert engine["status"] == "off"
    assert engine["clearing"] is True
    assert engine["sim_clock"] is not None


async def test_a_second_engine_is_a_standby(settings: Settings, database: Database) -> None:
    leader = instant_engine(database)
    leader.run_once()
    try:
        with_engine = settings.model_copy(update={"run_background_in_api": True})
        seen = await _engine_checks(with_engine, polls=8)  # its engine ticks every 0.2 s
    finally:
        leader.stop()
    assert {e["status"] for e in seen} == {"standby"}
    assert all(e["clearing"] for e in seen)


async def test_the_only_engine_leads(settings: Settings) -> None:
    with_engine = settings.model_copy(update={"run_background_in_api": True})
    seen = await _engine_checks(with_engine, polls=10)
    assert seen[-1]["status"] == "leader"  # from its first tick on
    assert seen[-1]["clearing"] is True
