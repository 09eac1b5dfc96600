"""danchuang's site operator is registered at its first entry record, by whichever engine
partition plays one first (``stand_ins.site_operator``). Two partitions in two processes can
do so at the same moment: on PostgreSQL the second INSERT then waits on the first's unique
code and fails when it commits. The second must take the first's row, not fail its tick (seen
as ``engine.tick_failed``, a UniqueViolation on ``uq_enterprises_code``, in a benchmark run)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select, text

from app.accounts import Principal
from app.db.engine import Database
from app.db.models import Enterprise
from app.services import stand_ins


def _registered(database: Database, found: list[Principal]) -> None:
    with database.write() as session:
        found.append(stand_ins.site_operator(session))


def _wait_for_a_blocked_insert(database: Database) -> None:
    """On PostgreSQL, until the other transaction waits on a lock (our uncommitted row)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with database.read() as session:
            if session.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")):
                return
        time.sleep(0.05)
    raise AssertionError("the second registration never waited on the first")


def test_two_partitions_registering_the_site_at_once_share_one_operator(
    database: Database,
) -> None:
    second: list[Principal] = []
    other = threading.Thread(target=_registered, args=(database, second))
    with database.write() as session:
        first = stand_ins.site_operator(session)  # inserted, not committed yet
        other.start()
        if not database.is_sqlite:  # SQLite's one writer makes the other wait to begin
            _wait_for_a_blocked_insert(database)
    other.join(30)
    assert not other.is_alive()
    assert [p.id for p in second] == [first.id]
    with database.read() as session:
        count = select(func.count()).where(Enterprise.code == stand_ins.SITE.code)
        assert session.scalar(count) == 1
