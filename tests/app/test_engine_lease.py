"""Only one clearance engine runs: the lease in ``engine_leases``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from test_engine_support import instant_engine, make_ready, statuses

from app import states
from app.db.engine import Database
from app.db.models import Receipt
from app.engine import ClearanceEngine, EngineSettings, lease


def test_two_engines_one_runs(database: Database) -> None:
    ident = make_ready(database, "9610", "import", forced="RELEASE")
    first = instant_engine(database)
    second = instant_engine(database)
    assert first.run_once() == 4
    assert first.is_leader
    make_ready(database, "9610", "import", forced="RELEASE")
    assert second.run_once() == 0  # stands by: the lease is held
    assert not second.is_leader
    assert first.run_once() == 4
    assert statuses(database, ident) == [120, 399, 800, 899]
    current = lease.holder(database)
    assert current is not None and current[0] == first.owner


def test_a_successor_takes_over_when_the_lease_expires(database: Database) -> None:
    now = datetime.now(UTC)
    assert lease.try_acquire(database, "dead-engine", 5.0, now=now - timedelta(seconds=10))
    assert lease.try_acquire(database, "alive", 5.0, now=now - timedelta(seconds=7)) is None
    taken = lease.try_acquire(database, "alive", 5.0, now=now)
    assert taken is not None and taken.owner == "alive"


def test_the_virtual_clock_carries_on_after_a_takeover(database: Database) -> None:
    make_ready(database, "9610", "export", forced="INSPECT")
    first = instant_engine(database)
    first.run_until_idle()
    reached = first.sim_datetime()
    assert reached > datetime.now(UTC)  # instant mode ran simulated minutes ahead
    lease.release(database, first.owner)
    second = instant_engine(database)
    second.run_once()
    assert second.sim_datetime() >= reached


def test_an_engine_that_lost_its_lease_cannot_write(database: Database) -> None:
    engine = instant_engine(database)
    engine.run_once()
    # Another process took over after our lease "expired" (we stalled).
    with database.write() as session:
        lease.hold(session, engine.owner, 0.0)  # our lease ends now
    assert lease.try_acquire(database, "successor", 30.0) is not None
    ident = make_ready(database, "9610", "import", forced="RELEASE")
    with pytest.raises(lease.LeaseLostError), database.write() as session:
        lease.hold(session, engine.owner, 30.0)
    assert engine.run_once() == 0  # run_once finds it is not the leader any more...
    assert statuses(database, ident) == []


def test_engine_threads_compete_and_exactly_one_records(database: Database) -> None:
    """Two engine threads on a fast clock: each declaration gets each receipt once."""
    idents = [make_ready(database, "9610", "import", forced="INSPECT") for _ in range(5)]
    config = EngineSettings(_env_file=None, tick_s=0.05, lease_s=2.0)  # type: ignore[call-arg]
    engines = [ClearanceEngine(database, clock_speed=20_000.0, config=config) for _ in range(2)]
    for engine in engines:
        engine.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with database.read() as session:
                done = session.scalar(select(func.count()).where(Receipt.return_status == 899))
            if done == len(idents):
                break
            time.sleep(0.05)
    finally:
        for engine in engines:
            engine.stop()
    assert sum(e.recovered for e in engines) == 0
    for ident in idents:
        assert statuses(database, ident) == [120, 399, 500, 800, 899]
    assert lease.holder(database) is not None
    assert [_state(database, i) for i in idents] == [states.CLEARED] * 5


def _state(database: Database, ident: int) -> str:
    from app.db.models import Declaration  # noqa: PLC0415

    with database.read() as session:
        row = session.get(Declaration, ident)
        assert row is not None
        return row.state
