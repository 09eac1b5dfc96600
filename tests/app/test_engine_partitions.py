"""The partitioned clearance engine in one process, on SQLite and PostgreSQL: the partition
function, each partition's lease and its fencing, the share of the site each partition models,
and processes (``PartitionedEngine``) sharing the partitions and taking a dead one's over."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from test_engine_support import make_ready, statuses

from app import states
from app.db.engine import Database
from app.db.models import Declaration, EngineLease, Receipt
from app.engine import ClearanceEngine, EngineSettings, lease, store
from app.engine.partitioned import PartitionedEngine
from app.engine.partitions import WHOLE, Partition, all_partitions, partition_of, share_of_site
from app.engine.scenario import load_live_scenario
from app.settings import Settings

FORCED = ["RELEASE", "INSPECT", "REVIEW", "DETAIN=501", "RETURN", "REJECT"]


def _config(**values: object) -> EngineSettings:
    return EngineSettings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def _engine(database: Database, partition: Partition, owner: str) -> ClearanceEngine:
    """One partition's engine, in a process of ``owner`` that keeps its heartbeat (as a
    ``PartitionedEngine`` does: the ``clearance`` row's holder shows its partitioning so)."""
    config = _config(partitions=partition.count)
    lease.heartbeat(database, owner, partition.count, 60.0)
    return ClearanceEngine(
        database, clock_speed="instant", config=config, owner=owner, partition=partition
    )


def _process(database: Database, owner: str, clock: float | str = "instant") -> PartitionedEngine:
    return PartitionedEngine(database, clock_speed=clock, config=_config(partitions=4), owner=owner)  # type: ignore[arg-type]


def _ready(database: Database, count: int) -> list[int]:
    return [
        make_ready(database, "9610", "import", forced=FORCED[i % len(FORCED)]) for i in range(count)
    ]


def _final_receipts(database: Database, ids: list[int]) -> Counter[int]:
    """How many final 清单 receipts each declaration has (decided once: exactly 1)."""
    finals = {100, 501, 502, 503, 599, 700, 899}
    with database.read() as session:
        rows = session.execute(
            select(Receipt.declaration_id, Receipt.return_status).where(
                Receipt.declaration_id.in_(ids), Receipt.message_code.in_(("CEB622", "CEB604"))
            )
        ).all()
    return Counter(d for d, status in rows if d is not None and (status in finals or status < 0))


def _assert_each_decided_once(database: Database, ids: list[int]) -> None:
    for ident in ids:
        path = statuses(database, ident)
        assert len(path) == len(set(path)), (ident, path)  # no receipt twice
    assert _final_receipts(database, ids) == Counter(ids)  # each decided, once
    with database.read() as session:
        left = session.scalars(select(Declaration.state).where(Declaration.id.in_(ids))).all()
    assert set(left) <= set(states.FINAL_STATES)


def test_the_partition_of_a_declaration_is_stable_and_balanced() -> None:
    for count in (1, 2, 3, 4, 7):
        shares = Counter(partition_of(ident, count) for ident in range(1, 10_001))
        assert set(shares) == set(range(count))
        assert max(shares.values()) - min(shares.values()) <= 1  # consecutive ids: balanced
        assert all(partition_of(i, count) == partition_of(i, count) for i in range(50))
    assert [p.index for p in all_partitions(4)] == [0, 1, 2, 3]
    assert Partition(3, 4).holds(7) and not Partition(3, 4).holds(8)
    with pytest.raises(ValueError, match="partition 4 of 4"):
        Partition(4, 4)


def test_the_sql_condition_agrees_with_the_partition_function(database: Database) -> None:
    ids = _ready(database, 9)
    with database.read() as session:
        for part in all_partitions(4):
            found = session.scalars(
                select(Declaration.id).where(Declaration.id.in_(ids), part.covers(Declaration.id))
            ).all()
            assert sorted(found) == [i for i in ids if part.holds(i)]
        assert (
            len(session.scalars(select(Declaration.id).where(WHOLE.covers(Declaration.id))).all())
            == 9
        )


def test_each_partition_models_its_share_of_the_site() -> None:
    site = load_live_scenario("builtin")  # officers 4, xray 2, inspectors 2, audit unlimited
    assert share_of_site(site, WHOLE) is site
    for count in (2, 3, 4):
        parts = [share_of_site(site, p) for p in all_partitions(count)]
        officers = [p.resources["officers"].capacity or 0 for p in parts]
        assert sum(officers) == 4  # 2+2, 2+1+1, 1+1+1+1
        assert all(p.resources["audit_system"].capacity is None for p in parts)
    four = [share_of_site(site, p).resources["xray"].capacity for p in all_partitions(4)]
    assert four == [1, 1, 1, 1]  # a pool smaller than P keeps one server in each partition


def test_each_partition_clears_only_its_own_declarations(database: Database) -> None:
    ids = _ready(database, 8)
    engines = [_engine(database, p, f"owner-{p.index}") for p in all_partitions(4)]
    first = engines[1].run_until_idle()
    assert first > 0
    with database.read() as session:
        cleared = set(
            session.scalars(
                select(Declaration.id).where(
                    Declaration.id.in_(ids), Declaration.state.in_(states.FINAL_STATES)
                )
            )
        )
    assert cleared == {i for i in ids if partition_of(i, 4) == 1}
    for engine in engines:
        engine.run_until_idle()
    _assert_each_decided_once(database, ids)
    names = {lease.lease_name(i, 4) for i in range(4)}
    assert names == {"clearance", "clearance.1/4", "clearance.2/4", "clearance.3/4"}
    for index, name in enumerate(sorted(names, key=lambda n: (n != "clearance", n))):
        current = lease.holder(database, name)
        assert current is not None and current[0] == f"owner-{index}"


def test_a_partition_has_one_holder_and_its_writes_are_fenced(database: Database) -> None:
    part = Partition(2, 4)
    holder = _engine(database, part, "holder")
    rival = _engine(database, part, "rival")
    other = _engine(database, Partition(1, 4), "other")
    holder.run_once()
    assert holder.is_leader
    assert rival.run_once() == 0 and not rival.is_leader  # the lease is held
    assert other.run_once() == 0 and other.is_leader  # another partition's lease is free
    # The holder stalls past its lease; the rival takes the partition over.
    with database.write() as session:
        lease.hold(session, "holder", 0.0, name=part.lease_name)
    assert lease.try_acquire(database, "rival", 30.0, name=part.lease_name, partitions=4)
    mine = [i for i in _ready(database, 8) if part.holds(i)]
    assert mine
    assert holder.run_once() == 0 and not holder.is_leader  # its write is refused
    with database.read() as session:
        left = set(session.scalars(select(Declaration.state).where(Declaration.id.in_(mine))))
    assert left == {states.CLEARANCE_READY}  # the stalled holder took none of them
    with pytest.raises(lease.LeaseLostError), database.write() as session:
        lease.hold(session, "holder", 30.0, name=part.lease_name)
    # The other partitions' leases are untouched by it.
    with database.write() as session:
        lease.hold(session, "other", 30.0, name=Partition(1, 4).lease_name)


def test_engines_of_another_partitioning_are_refused(database: Database) -> None:
    now = datetime.now(UTC)
    assert lease.try_acquire(database, "four", 30.0, name="clearance.1/4", partitions=4)
    # One engine for everything (P = 1) would clear partition 1's declarations too.
    single = ClearanceEngine(database, clock_speed="instant", config=_config(), owner="one")
    assert single.run_once() == 0 and not single.is_leader
    assert lease.try_acquire(database, "two", 30.0, name="clearance.1/2", partitions=2) is None
    # Once the partitioned engines are gone (their leases expired) the single one runs.
    with database.write() as session:
        session.execute(update(EngineLease).values(expires_at=now - timedelta(seconds=1)))
    ident = make_ready(database, "9610", "import", forced="RELEASE")
    single.run_until_idle()
    assert single.is_leader and statuses(database, ident)[-1] == 899
    # ... and now it holds ``clearance``: a partitioned engine may not start beside it.
    assert lease.try_acquire(database, "four", 30.0, name="clearance.2/4", partitions=4) is None


def test_two_processes_share_the_partitions_fairly(database: Database) -> None:
    first, second = _process(database, "first"), _process(database, "second")
    first.run_once()
    assert [e.partition.index for e in first.held()] == [0, 1, 2, 3]  # alone: all of them
    second.run_once()
    assert second.held() == [] and second.workers == 2  # none free yet
    first.run_once()  # sees two processes: gives up its surplus, the highest partitions
    assert [e.partition.index for e in first.held()] == [0, 1]
    second.run_once()
    assert [e.partition.index for e in second.held()] == [2, 3]
    ids = _ready(database, 24)
    for _ in range(10):
        first.run_once()
        second.run_once()
    _assert_each_decided_once(database, ids)
    assert first.is_leader and second.is_leader
    # A clean stop gives the partitions up at once: the other takes them all.
    first.stop()
    second.run_once()
    assert [e.partition.index for e in second.held()] == [0, 1, 2, 3]
    second.stop()


def test_a_dead_process_partitions_are_taken_over_and_recovered(database: Database) -> None:
    doomed = _process(database, "doomed", clock=1.0)  # real time: all stays in flight
    ids = _ready(database, 12)
    doomed.run_once()
    with database.read() as session:
        clearing = session.scalars(
            select(Declaration.id).where(Declaration.state == states.CLEARING)
        ).all()
    assert sorted(clearing) == sorted(ids)
    # It dies (no goodbye): its heartbeat and leases run out.
    with database.write() as session:
        session.execute(
            update(EngineLease)
            .where(EngineLease.owner == "doomed")
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    survivor = _process(database, "survivor")
    survivor.run_until_idle()
    assert [e.partition.index for e in survivor.held()] == [0, 1, 2, 3]
    assert survivor.recovered == len(ids)
    _assert_each_decided_once(database, ids)
    # The dead one cannot write any more, in any partition.
    assert doomed.run_once() == 0 and not doomed.is_leader
    with database.read() as session:
        assert not store.any_ready(session)
    survivor.stop()


def test_the_service_starts_a_partitioned_engine_when_told_to(
    database: Database, settings: Settings
) -> None:
    """``from_settings`` (what ``serve`` and ``worker`` call) gives a ``PartitionedEngine`` for
    P > 1; its thread clears, and a clean stop gives every lease and the heartbeat up."""
    instant = settings.model_copy(update={"clock_speed": "instant"})
    assert type(ClearanceEngine.from_settings(database, instant, _config())) is ClearanceEngine
    engine = ClearanceEngine.from_settings(database, instant, _config(partitions=4))
    assert isinstance(engine, PartitionedEngine)
    ids = _ready(database, 8)
    engine.start()
    try:
        for _ in range(600):
            with database.read() as session:
                left = session.scalar(
                    select(func.count(Declaration.id)).where(
                        Declaration.id.in_(ids), Declaration.state.not_in(states.FINAL_STATES)
                    )
                )
            # a round clears in its ticks and sets ``is_leader`` at its end: wait for both
            if left == 0 and engine.is_leader:
                break
            time.sleep(0.1)
        assert left == 0
        assert engine.is_leader
    finally:
        engine.stop()
    _assert_each_decided_once(database, ids)
    now = datetime.now(UTC)
    with database.read() as session:
        live = session.scalars(select(EngineLease.name).where(EngineLease.expires_at > now)).all()
    assert live == []
