"""Fixtures for the dashboard's page tests: the real app (lifespan running) on a temp SQLite
database, httpx against it, and a way to put a real declaration set through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from dashboard_support import ADMIN_KEY, SendSet
from fastapi import FastAPI
from lxml import etree

from app import accounts
from app.dashboard.config import DashboardSettings
from app.db.engine import Database
from app.db.models import Role
from app.main import create_app
from app.settings import Settings
from declarations.messages import BY_ROOT, Direction, Kind, Regime
from declarations.samples import SampleSet, generate_sets, to_bytes
from simulation.scenario import CreditClass

SENDER_ROLE = {
    Kind.ORDER: ("seller", Role.EBC),
    Kind.PAYMENT: ("payer_company", Role.PAY),
    Kind.WAYBILL: ("carrier", Role.LOGISTICS),
    Kind.INVENTORY: ("agent", Role.AGENT),
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'danchuang.db'}",
        admin_key=ADMIN_KEY,  # type: ignore[arg-type]
        run_background_in_api=False,  # no engine unless a test runs one itself
        log_format="console",
        demo_keys_file=tmp_path / "demo-keys.json",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def dashboard_settings(tmp_path: Path) -> DashboardSettings:
    return DashboardSettings(jobs_dir=tmp_path / "jobs", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def app(settings: Settings, dashboard_settings: DashboardSettings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    app.state.dashboard_settings = dashboard_settings
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def database(app: FastAPI) -> Database:
    found: Database = app.state.database
    return found


@pytest.fixture
def send_set(client: httpx.AsyncClient, database: Database) -> SendSet:
    """``await send_set(regime, direction)``: a sample set sent through the API, each document
    by its own party (registered here); the declaration's id."""
    counter = iter(range(1000))
    keys: dict[str, str] = {}  # company code -> API key

    async def send(regime: Regime, direction: Direction) -> int:
        sample: SampleSet = generate_sets(regime, direction, seed=next(counter), count=1)[0]
        declaration_id = None
        for root in sample.documents.values():
            kind = BY_ROOT[etree.QName(root).localname].kind
            attribute, role = SENDER_ROLE[kind]
            company = getattr(sample.deal, attribute)
            if company.code not in keys:
                with database.write() as session:
                    enterprise = accounts.create_enterprise(
                        session,
                        code=company.code,
                        name=company.name,
                        roles=[role],
                        credit_class=CreditClass.AEO,
                    )
                    keys[company.code] = accounts.issue_key(session, enterprise)[1]
            response = await client.post(
                "/api/v1/documents",
                content=to_bytes(root),
                headers={
                    "Authorization": f"Bearer {keys[company.code]}",
                    "Content-Type": "application/xml",
                },
            )
            assert response.status_code == 201, response.text
            declaration = response.json()["declaration"]
            declaration_id = declaration["id"] if declaration else declaration_id
        assert declaration_id is not None
        return int(declaration_id)

    return send
