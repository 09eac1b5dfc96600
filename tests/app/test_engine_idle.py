"""An idle engine polls its database less often (``EngineSettings.pause``): the wait between
ticks doubles while they find nothing to do, up to ``idle_tick_s`` and a third of the lease,
and is the tick again once declarations are in its model. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from test_engine_support import make_ready

from app.db.engine import Database
from app.engine import ClearanceEngine, EngineSettings
from app.engine.partitioned import PartitionedEngine


def _config(**values: object) -> EngineSettings:
    return EngineSettings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_the_wait_doubles_while_idle_up_to_its_bound() -> None:
    config = _config(tick_s=0.2, idle_tick_s=1.0, lease_s=15.0)
    assert [config.pause(quiet) for quiet in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    assert config.pause(10_000) == 1.0  # no overflow however long it idles


def test_the_wait_stays_under_a_third_of_the_lease_and_never_under_the_tick() -> None:
    assert _config(tick_s=0.2, idle_tick_s=5.0, lease_s=1.5).pause(6) == 0.5  # renewed in time
    assert _config(tick_s=0.2, idle_tick_s=0.1).pause(3) == 0.2


@pytest.mark.parametrize("partitions", [1, 2])
def test_an_engine_holds_declarations_from_their_pickup_to_their_end(
    database: Database, partitions: int
) -> None:
    """What ``run_forever`` asks before waiting longer: a declaration in the model keeps the
    ticks at their pace (its clock must advance); an engine with none may idle."""
    config = _config(partitions=partitions, tick_s=0.05, lease_s=2.0)
    kind = PartitionedEngine if partitions > 1 else ClearanceEngine
    engine = kind(database, clock_speed=1.0, config=config)  # real time: clearing takes minutes
    engine.run_once()
    assert engine.is_leader and not engine.holds_declarations()
    make_ready(database, "9610", "import", forced="RELEASE")
    engine.run_once()
    assert engine.holds_declarations()
    engine.stop()
    instant = kind(database, clock_speed="instant", config=config)
    instant.run_until_idle()  # takes it over and clears it
    assert not instant.holds_declarations()
    instant.stop()
