"""A write that waits past the busy timeout is answered 503 with Retry-After, and nothing of it
is stored: the client sends it again (docs/api.md, "Errors").

SQLite has one writer. Under a load it cannot keep up with, a request's write transaction waits
for the writers ahead of it; past ``DANCHUANG_SQLITE_BUSY_TIMEOUT_MS`` it gives up. That used to
answer 500 ``internal``, as if danchuang had failed, when the request was merely not taken.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import httpx
import pytest
from service_support import PartyFactory
from submission_helpers import document, register, sample, send

from app.db.engine import Database
from app.main import create_app
from app.settings import Settings
from declarations.messages import Direction, Kind, Regime

BUSY_TIMEOUT_MS = 300


@pytest.fixture
async def busy_client(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    """The service on SQLite with a short busy timeout, and the database it writes to."""
    app = create_app(settings.model_copy(update={"sqlite_busy_timeout_ms": BUSY_TIMEOUT_MS}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, app.state.database


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_write_kept_waiting_past_the_busy_timeout_is_answered_503(
    busy_client: tuple[httpx.AsyncClient, Database], make_party: PartyFactory
) -> None:
    client, database = busy_client
    sample_set = sample(Regime.DIRECT, Direction.IMPORT)
    parties = register(make_party, sample_set)
    order = document(sample_set, Kind.ORDER)

    holding, release = threading.Event(), threading.Event()

    def hold_the_writer() -> None:
        with database.write():
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=hold_the_writer)
    holder.start()
    try:
        assert holding.wait(10)
        response = await send(client, parties.seller, order)
    finally:
        release.set()
        holder.join(30)

    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    error = response.json()["error"]
    assert error["code"] == "service.busy"
    assert "nothing of this request was stored" in error["message_en"]

    # Nothing was stored: sent again, the order is new (201), not a repeat of a stored one (200).
    again = await send(client, parties.seller, order)
    assert again.status_code == 201, again.text
    assert again.json()["repeat"] is False
