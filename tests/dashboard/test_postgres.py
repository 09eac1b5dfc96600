"""The dashboard's queries and job queue on PostgreSQL (CI starts a throwaway server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from postgres_support import throwaway_schema

from app.dashboard import engine_status, jobs, queries
from app.dashboard.config import DashboardSettings
from app.db import migrate
from app.db.engine import Database
from app.db.models import Declaration

pytestmark = pytest.mark.postgres


@pytest.fixture
def database() -> Iterator[Database]:
    with throwaway_schema() as url:
        db = Database.from_url(url)
        migrate.upgrade(db.engine)
        try:
            yield db
        finally:
            db.dispose()


def test_counts_and_engine_status_read_on_postgresql(database: Database) -> None:
    rows = [("9610", "cleared"), ("9610", "cleared"), ("1210", "clearing"), (None, "incomplete")]
    with database.write() as session:
        for n, (regime, state) in enumerate(rows):
            session.add(
                Declaration(
                    regime=regime,
                    direction="import",
                    order_no=f"O{n}",
                    ebp_code="1234567890",
                    state=state,
                )
            )
    with database.read() as session:
        counts = queries.counts(session)
        status = engine_status.read(session)
    assert counts.cells[("9610", "cleared")] == 2
    assert counts.cells[("", "incomplete")] == 1
    assert counts.column_total("clearing") == 1 and counts.total == 4
    assert not status.running


def test_two_runners_never_claim_the_same_job(database: Database) -> None:
    limits = DashboardSettings(_env_file=None)  # type: ignore[call-arg]
    first = jobs.submit(database, jobs.JobRequest("ezhou-huahu", 1), limits)
    second = jobs.submit(database, jobs.JobRequest("ezhou-huahu", 1), limits)
    one, two = jobs.JobRunner(database, limits), jobs.JobRunner(database, limits)
    assert [one.claim(), two.claim(), one.claim()] == [first, second, None]
