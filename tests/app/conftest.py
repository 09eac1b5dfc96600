"""Fixtures for the service tests: a migrated database on each backend, an app, enterprises.

Persistence tests run on SQLite (a file in tmp_path, WAL) and on PostgreSQL. PostgreSQL needs
DANCHUANG_TEST_POSTGRES_URL (CI's .ci/run starts a throwaway server and sets it); each test gets
its own schema there, dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from postgres_support import throwaway_schema
from service_support import Party, PartyFactory, Receiver, recording_receiver

from app import accounts
from app.db import migrate
from app.db.engine import Database
from app.db.models import Role
from app.main import create_app
from app.settings import Settings
from declarations import SignatureMode
from simulation.scenario import CreditClass

ADMIN_KEY = "test-admin-key-0123456789abcdef0123456789"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL to an empty database on the parametrised backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'danchuang.db'}"
        return
    with throwaway_schema() as url:
        yield url


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A database migrated to the latest revision."""
    db = Database.from_url(db_url)
    migrate.upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: os.PathLike[str]) -> Settings:
    return Settings(
        environment="test",
        database_url=db_url,
        admin_key=ADMIN_KEY,  # type: ignore[arg-type]
        run_background_in_api=False,
        log_format="console",
        demo_keys_file=f"{tmp_path}/demo-keys.json",  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """httpx against the ASGI app, with its lifespan running (migrations applied on start).

    httpx's ASGI transport does not run lifespans, so the test enters the app's own lifespan
    context around it (what asgi-lifespan's LifespanManager does).
    """
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The service with ``DANCHUANG_SIGNATURE_MODE=require``."""
    app = create_app(settings.model_copy(update={"signature_mode": SignatureMode.REQUIRE}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
def make_party(database: Database) -> PartyFactory:
    """``make_party(code, *roles)``: register an enterprise with one API key."""

    def make(code: str, *roles: Role) -> Party:
        with database.write() as session:
            enterprise = accounts.create_enterprise(
                session, code=code, name=f"Test {code}", roles=roles, credit_class=CreditClass.AEO
            )
            _, key = accounts.issue_key(session, enterprise)
            return Party(enterprise.id, code, key)

    return make


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback that records every POST (``service_support``)."""
    with recording_receiver() as found:
        yield found
