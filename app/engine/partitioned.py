"""The engine of a process when the declarations are partitioned (``DANCHUANG_ENGINE_PARTITIONS``
above 1): it holds its fair share of the partitions' leases and runs each held partition's
``ClearanceEngine`` in turn, in its one thread.

**The fair share.** Every engine process renews a heartbeat row each tick
(``app.engine.lease.heartbeat``); the live heartbeats are the W processes that share the P
partitions. A process holds at most ceil(P / W) partitions: it takes free or expired leases up
to that share (partition 0 first) and gives up the highest-numbered ones it holds above it. One
process alone takes every partition; when a second starts, the first sees W = 2 at its next
tick and gives up its surplus, which the second takes; when one dies (SIGKILL), its heartbeat
and its leases expire after ``DANCHUANG_ENGINE_LEASE_S``, the survivors' share grows, and they
take the orphaned partitions and recover their ``clearing`` declarations as a restarted engine
does. A partition given up is handed over like a crash: the new holder replays its
``clearing`` declarations (same outcome, no receipt twice); only their time in the model is
lost. With P not a multiple of W some processes hold one partition less, and with W > P some
hold none and stand by.
"""

from __future__ import annotations

import math
from datetime import timedelta

import structlog

from app.db.engine import Database
from app.engine import chores, lease
from app.engine.config import EngineSettings
from app.engine.engine import ClearanceEngine, ClockSpeed
from app.engine.partitions import WHOLE, Partition, all_partitions
from simulation.scenario import Scenario

log = structlog.get_logger("danchuang.engine")


class PartitionEngine(ClearanceEngine):
    """One partition's engine inside a ``PartitionedEngine``, which sets the gauges for all."""

    def _report(self, lag: float) -> None:
        """Nothing: ``PartitionedEngine`` reports the sum over its partitions."""

    @property
    def in_flight(self) -> int:
        """Declarations in this partition's model."""
        return len(self._by_model_id)

    def busy(self) -> bool:
        """Has it work it can do now: declarations in its model not all waiting for a real
        site's record, or clearance-ready ones of its partition?"""
        moving = bool(self._by_model_id) and not self._all_await_entry()
        return moving or self._ready_waiting()


class PartitionedEngine(ClearanceEngine):
    """The partitions this process holds, each with its own model and virtual clock; the
    engine's own (whole-site) model is never run. ``is_leader``: it holds one at least."""

    def __init__(
        self,
        database: Database,
        *,
        clock_speed: ClockSpeed,
        config: EngineSettings | None = None,
        scenario: Scenario | None = None,
        owner: str | None = None,
        incomplete_window: timedelta | None = None,
        partition: Partition = WHOLE,  # the signature of ClearanceEngine's; the whole is split
    ) -> None:
        super().__init__(
            database, clock_speed=clock_speed, config=config, scenario=scenario, owner=owner
        )
        self.engines = [
            PartitionEngine(
                database,
                clock_speed=clock_speed,
                config=self.config,
                scenario=self.scenario,
                owner=self.owner,
                # the incomplete-set sweep is a service-wide chore: partition 0's holder does it
                incomplete_window=incomplete_window if part.first else None,
                partition=part,
            )
            for part in all_partitions(self.config.partitions)
        ]
        self.workers = 1  # engine processes sharing the partitions, at the last tick

    def held(self) -> list[PartitionEngine]:
        """The partitions' engines whose lease this process holds."""
        return [engine for engine in self.engines if engine.is_leader]

    def run_once(self) -> int:
        """One round: renew the heartbeat, give up partitions above the fair share, take free
        ones up to it, and tick every partition held; the number of receipts recorded."""
        count, lease_s = self.config.partitions, self.config.lease_s
        self.workers = lease.heartbeat(self.database, self.owner, count, lease_s)
        share = math.ceil(count / self.workers)
        held = self.held()
        for engine in held[share:]:
            log.info("engine.partition_handed_over", lease=engine.partition.lease_name,
                     share=share, workers=self.workers)  # fmt: skip
            engine.stop()  # releases its lease: another process takes it
        recorded = 0
        for engine in self.engines:
            if engine.is_leader:
                recorded += _tick(engine)
            elif len(self.held()) < share:
                recorded += _tick(engine)  # takes the lease if it is free or expired
        held = self.held()
        self.is_leader = bool(held)
        self.recovered = sum(engine.recovered for engine in self.engines)
        self.lag = max((engine.lag for engine in held), default=0.0)
        chores.report(self.lag, sum(engine.in_flight for engine in held), [e.model for e in held])
        return recorded

    def holds_declarations(self) -> bool:
        return any(engine.holds_declarations() for engine in self.held())

    def _ready_waiting(self) -> bool:
        # run_until_idle (ClearanceEngine's) asks this: idle when no partition held has work.
        return any(engine.busy() for engine in self.held())

    def stop(self, timeout: float = 10.0) -> None:
        self.is_leader = False  # its own lease is never taken: the partitions' are
        super().stop(timeout)
        for engine in self.engines:
            engine.stop()  # gives up the leases held, so that others need not wait for expiry
        lease.heartbeat(self.database, self.owner, self.config.partitions, 0.0, stop=True)


def _tick(engine: PartitionEngine) -> int:
    """One partition's tick; a failure is logged and the partition re-taken and recovered
    from the database at the next round, as ``ClearanceEngine.run_forever`` does."""
    try:
        return engine.run_once()
    except Exception:
        log.exception("engine.tick_failed", lease=engine.partition.lease_name)
        engine.is_leader = False
        return 0
