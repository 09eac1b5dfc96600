"""The live clearance engine: the SimPy model on a virtual clock, fed from the database.

One engine runs per service (``app.engine.lease``), or one per partition of the
declarations (``app.engine.partitions``, run by ``app.engine.partitioned``). It is a plain
thread, like the webhook worker, because persistence is synchronous. Each tick it

1. renews its lease and moves clearance-ready declarations to ``clearing`` (one transaction),
2. puts each into the model with its outcome decided up front (``app.engine.outcomes``),
3. advances the model's clock to "now" on the virtual clock — wall time since the engine
   started times ``clock_speed`` — or, in ``instant`` mode, until every declaration in the
   model has reached a final state,
4. records the transitions that happened as receipts (a second transaction, lease-fenced).

Crash safety: the database is the truth. A declaration is ``clearing`` from step 1 until its
final receipt; when an engine takes the lease it first puts every ``clearing`` declaration back
into its model. Their outcome is drawn from (seed, declaration id), so the replay takes the
same branch, and receipts already recorded are skipped (``app.engine.store.record``). What a
crash loses is only time: a recovered declaration goes through the stages again on the new
model, without repeating the receipts it already has.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Literal

import numpy as np
import simpy
import structlog
from sqlalchemy.orm import Session

from app.db.engine import Database
from app.engine import chores, lease, plays, store
from app.engine.config import EngineSettings
from app.engine.outcomes import complete, delivery_delay, draw_outcome, parse_outcome
from app.engine.partitions import WHOLE, Partition, share_of_site
from app.engine.scenario import for_live, load_live_scenario, route
from app.services import expiry, tax_bills
from app.settings import Settings
from app.states import RECORDED
from declarations import ReturnStatus
from simulation.lifecycle import Milestone
from simulation.model import ClearanceModel
from simulation.routing import REJECT_WITHOUT_CODE, Forced
from simulation.scenario import Scenario

log = structlog.get_logger("danchuang.engine")

# Milestones that repeat the current status: nothing to record.
_REPEATS = frozenset(
    {Milestone.INSPECTION_END, Milestone.ARRIVAL, Milestone.TRANSIT_START, Milestone.TRANSIT_END}
)
# Instant mode: a declaration runs to its end at once; a runaway (a stage with no capacity for
# ever) is bounded to a simulated year per tick.
_INSTANT_HORIZON_S = 365 * 24 * 3600.0

# Transitions per write transaction: SQLite's holds the one write lock the API waits for;
# PostgreSQL's wait only for the sets they share, and spread their fixed cost (docs/deploy.md).
_FLUSH_CHUNK = {"sqlite": 100, "postgresql": 500}

ClockSpeed = float | Literal["instant"]
CHINA_TIME = timezone(timedelta(hours=8), "CST")  # the sites' time of day, for their shifts


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ClearanceEngine:
    def __init__(
        self,
        database: Database,
        *,
        clock_speed: ClockSpeed,
        config: EngineSettings | None = None,
        scenario: Scenario | None = None,
        owner: str | None = None,
        incomplete_window: timedelta | None = None,
        partition: Partition = WHOLE,
    ) -> None:
        self.database = database
        self.partition = partition  # the declarations it clears, under that partition's lease
        self.clock_speed = clock_speed
        # The lease holder also runs the submission side's incomplete-set expiry (None: off).
        self.incomplete_window = incomplete_window
        self._next_expiry = 0.0
        self.config = config or EngineSettings()
        self.scenario = scenario or load_live_scenario(self.config.scenario)
        self.live_scenario = share_of_site(for_live(self.scenario), partition)
        self.owner = owner or lease.new_owner_id()
        self.is_leader = False
        self.recovered = 0
        self.lag = 0.0  # seconds the model was behind the virtual clock at the last tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reset_model(None)

    @classmethod
    def from_settings(
        cls, database: Database, settings: Settings, config: EngineSettings | None = None
    ) -> ClearanceEngine:
        """The engine of a process; a ``PartitionedEngine`` with ``DANCHUANG_ENGINE_PARTITIONS``
        above 1 (it runs the partitions this process holds)."""
        from app.engine.partitioned import PartitionedEngine  # noqa: PLC0415 (a cycle)

        partitioned = (config or EngineSettings()).partitions > 1
        return (PartitionedEngine if partitioned else cls)(
            database,
            clock_speed=settings.clock_speed,
            config=config,
            incomplete_window=expiry.incomplete_window(settings),
        )

    # --- the virtual clock -----------------------------------------------------------------

    def _reset_model(self, sim_clock: datetime | None) -> None:
        """A fresh model whose clock reads ``sim_clock`` (the previous holder's virtual time)
        or now, whichever is later; what the old model held is the database's to give back.

        The model's time 0 is the midnight (China time) before that: scenario shifts are
        hours of the day counted from the model's time 0, so the model first runs, empty,
        from midnight to now — the officers on duty are then those of the time of day."""
        start = max(sim_clock, _utcnow()) if sim_clock is not None else _utcnow()
        local = start.astimezone(CHINA_TIME)
        self.sim_base = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
        self.sim_offset = (start - self.sim_base).total_seconds()
        self.env = simpy.Environment()
        rng = np.random.default_rng(self.config.seed)
        self.model = ClearanceModel(  # it runs as long as the service: no samples kept
            self.env, self.live_scenario, rng, on_transition=self._on_transition, keep_samples=False
        )
        if self.sim_offset > 0:  # SimPy refuses to run "until" the present
            self.env.run(until=self.sim_offset)
        self.wall_base = time.monotonic()
        self._by_model_id: dict[int, store.Pickup] = {}
        self._awaiting_entry: dict[int, int] = {}  # model id -> declaration id (a real site)
        self._pending: list[store.Transition] = []

    def sim_datetime(self, seconds: float | None = None) -> datetime:
        """The virtual clock's reading at model time ``seconds`` (default: the model's now)."""
        return self.sim_base + timedelta(seconds=self.env.now if seconds is None else seconds)

    def _target(self) -> float:
        assert self.clock_speed != "instant"
        return self.sim_offset + (time.monotonic() - self.wall_base) * self.clock_speed

    # --- the loop --------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="clearance-engine")
        self._thread.daemon = True
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self.is_leader:
            lease.release(self.database, self.owner, self.partition.lease_name)
            self.is_leader = False

    def run_forever(self) -> None:
        quiet = 0  # ticks in a row that found nothing to do
        while not self._stop.is_set():
            try:
                recorded = self.run_once()
            except Exception:  # keep the engine alive; the database still has the truth
                log.exception("engine.tick_failed")
                self.is_leader = False  # re-acquire and recover from the database
                recorded = 0
            idle = self.is_leader and not recorded and not self.holds_declarations()
            quiet = quiet + 1 if idle else 0
            self._stop.wait(self.config.pause(quiet))

    def holds_declarations(self) -> bool:
        """Are declarations in its model (whose clock the ticks advance)?"""
        return bool(self._by_model_id)

    def run_once(self) -> int:
        """One tick (see the module docstring); the number of receipts recorded. A process that
        does not hold the lease only tries to take it."""
        if not self.is_leader and not self._become_leader():
            return 0
        try:
            with self.database.write() as session:
                self._hold(session)
                taken = store.take_ready(
                    session, self.config.batch_size, self.sim_datetime(), self.partition
                )
            for pickup in taken:
                self._inject(pickup)
            self._report_entries()
            self.lag = lag = self._advance()
            recorded = self._flush()
            self._after_release()
            self._expire_incomplete_sets()
        except lease.LeaseLostError:
            # Someone else runs the engine now; what we held in memory is theirs to recover.
            log.warning("engine.lease_lost", owner=self.owner)
            self.is_leader = False
            return 0
        self._report(lag)
        return recorded

    def run_until_idle(self, max_ticks: int = 1000) -> int:
        """Tick until nothing is waiting or in flight (tests and ``instant`` mode), but for
        declarations that wait for a real site's entry record."""
        total = 0
        for _ in range(max_ticks):
            total += self.run_once()
            settled = not self._by_model_id or self._all_await_entry()
            if self.is_leader and settled and not self._ready_waiting():
                return total
        raise RuntimeError(f"the engine did not become idle in {max_ticks} ticks")

    def _ready_waiting(self) -> bool:
        with self.database.read() as session:
            return store.any_ready(session, self.partition)

    def _become_leader(self) -> bool:
        acquired = lease.try_acquire(
            self.database,
            self.owner,
            self.config.lease_s,
            name=self.partition.lease_name,
            partitions=self.partition.count,
        )
        if acquired is None:
            return False
        self._reset_model(acquired.sim_clock)
        with self.database.read() as session:
            unfinished = store.in_flight(session, self.partition)
        for pickup in unfinished:
            self._inject(pickup)
        self.recovered += len(unfinished)
        self.is_leader = True
        where = self.partition.lease_name
        log.info("engine.leading", owner=self.owner, recovered=len(unfinished), lease=where)
        return True

    # --- the model -------------------------------------------------------------------------

    def outcome_of(self, pickup: store.Pickup) -> tuple[str, str, Forced]:
        """The flow, credit class and complete outcome of one declaration (deterministic)."""
        where = route(self.scenario, pickup.regime, pickup.direction, pickup.credit_class)
        rng = np.random.default_rng([self.config.seed, pickup.declaration_id])
        drawn = draw_outcome(
            where.profile,
            rng,
            rules=[(r.probability, r.manual) for r in where.flow.rule_hits],
            has_review=self.scenario.stages.review is not None,
        )
        forced = complete(parse_outcome(pickup.forced), drawn) if pickup.forced else drawn
        return where.flow.name, where.credit.value, forced

    def _inject(self, pickup: store.Pickup) -> None:
        flow, credit, forced = self.outcome_of(pickup)
        if pickup.awaits_entry and not self.model.flow_by_name[flow].spec.goods_arrive:
            # routed to a flow whose goods arrive nowhere (a scenario with no 9610 import flow)
            pickup = replace(pickup, awaits_entry=False)
        handle = self.model.submit(flow, credit, force=forced, goods_external=pickup.awaits_entry)
        self._by_model_id[handle.id] = pickup
        if pickup.awaits_entry:
            self._awaiting_entry[handle.id] = pickup.declaration_id
            if pickup.entered:  # the site's record came before the engine took the 清单
                self._entered(handle.id)

    def _entered(self, model_id: int) -> None:
        del self._awaiting_entry[model_id]
        self.model.goods_arrived(model_id)

    def _report_entries(self) -> None:
        """Tell the model of the site entry records (CEB711) received for the 9610 imports
        whose release waits for a real site."""
        if not self._awaiting_entry:
            return
        with self.database.read() as session:
            done = store.entered(session, list(self._awaiting_entry.values()))
        for model_id, declaration_id in list(self._awaiting_entry.items()):
            if declaration_id in done:
                self._entered(model_id)

    def _after_release(self) -> None:
        """What follows a release on the virtual clock: danchuang's delivery records (playing
        the carrier) and the tax bills summed into payments, due by now (``instant``: all)."""
        now = None if self.clock_speed == "instant" else self.sim_datetime()
        with self.database.read() as session:  # most ticks: nothing due, no write lock taken
            if not plays.follow_ups_due(session, now, self.partition):
                return
        with self.database.write() as session:
            self._hold(session)
            plays.deliver_due(session, now, self.partition)
            if self.partition.first:  # a service-wide chore: partition 0's holder does it
                tax_bills.sum_due(session, now)

    def _on_transition(
        self,
        model_id: int,
        status: ReturnStatus,
        milestone: Milestone,
        sim_time: float,
        info: Mapping[str, Any],
    ) -> None:
        pickup = self._by_model_id.get(model_id)
        if pickup is None:
            return
        if milestone is Milestone.ARRIVAL and pickup.enters_site and not pickup.awaits_entry:
            # danchuang plays the site: the goods entered now, it sends the entry record
            self._pending.append(
                store.Transition(
                    pickup.declaration_id,
                    pickup.direction,
                    int(status),
                    self.sim_datetime(sim_time),
                    act=store.SITE_ENTRY,
                )
            )
            return
        if milestone in _REPEATS or status not in RECORDED:
            return
        code = int(status)
        text = ""
        forced_code = info.get("code", REJECT_WITHOUT_CODE)
        if status == ReturnStatus.REJECTED and forced_code != REJECT_WITHOUT_CODE:
            code = int(forced_code)  # a forced rejection with the spec's negative code
            text = f"海关退单[{code}] rejected by customs (forced)"
        released = status == ReturnStatus.RELEASED and pickup.direction == "import"
        self._pending.append(
            store.Transition(
                pickup.declaration_id,
                pickup.direction,
                code,
                self.sim_datetime(sim_time),
                text,
                deliver_after=self._delivery_delay(pickup) if released else None,
            )
        )
        if ReturnStatus(status).is_final:
            del self._by_model_id[model_id]
            self._awaiting_entry.pop(model_id, None)

    def _delivery_delay(self, pickup: store.Pickup) -> float | None:
        flow = route(self.scenario, pickup.regime, pickup.direction, pickup.credit_class).flow
        return delivery_delay(flow.delivery, self.config.seed, pickup.declaration_id)

    def _advance(self) -> float:
        """Run the model up to the virtual clock's now; the lag behind it in seconds."""
        env = self.env
        if self.clock_speed == "instant":
            limit = env.now + _INSTANT_HORIZON_S
            while self.model.live and env.peek() <= limit and not self._all_await_entry():
                env.step()
            return 0.0
        target = self._target()
        if target > env.now:
            env.run(until=target)
        return max(0.0, self._target() - env.now)

    def _all_await_entry(self) -> bool:
        """Is every declaration in the model decided and waiting for a real site's entry
        record (``instant`` mode: nothing more happens until one comes)?"""
        live = self.model.live
        if len(self._awaiting_entry) < len(live):
            return False
        return all(live[model_id].decided for model_id in self._awaiting_entry if model_id in live)

    def _flush(self) -> int:
        """Record the pending transitions, ``_FLUSH_CHUNK`` at most per transaction."""
        pending, self._pending = self._pending, []
        recorded = 0
        chunk = _FLUSH_CHUNK["sqlite" if self.database.is_sqlite else "postgresql"]
        for start in range(0, len(pending), chunk):
            with self.database.write() as session:
                self._hold(session)
                recorded += store.record(session, pending[start : start + chunk])
        return recorded

    def _hold(self, session: Session) -> None:
        """Renew this partition's lease in ``session``'s transaction (``lease.hold``)."""
        at, name = self.sim_datetime(), self.partition.lease_name
        lease.hold(session, self.owner, self.config.lease_s, sim_clock=at, name=name)

    def _expire_incomplete_sets(self) -> None:
        """Refuse sets incomplete past their window, every ``sweep_s`` wall seconds."""
        if self.incomplete_window is None or time.monotonic() < self._next_expiry:
            return
        self._next_expiry = time.monotonic() + self.config.sweep_s
        chores.sweep_incomplete_sets(self.database, self.incomplete_window)

    def _report(self, lag: float) -> None:
        chores.report(lag, len(self._by_model_id), [self.model])
