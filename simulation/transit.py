"""Cross-district transit under electronic locks (电子关锁, 卡车航班); see docs/simulation.md.

Released declarations bound for another district are loaded into the corridor's open truck.
The truck leaves when full, when the first load has waited ``max_wait``, or at a scheduled
departure — whichever comes first. It takes a lock from its origin's pool (waiting in FIFO
order if none is free), is sealed (施封: automatic gate, or an officer from a resource pool),
travels, may raise alarms (each sends it to inspection at the destination), is unsealed
automatically at the destination gate (解封), and its declarations close (899). The lock then
travels back to its home pool. A truck is one chain of events carrying a list of
declarations, never one process per parcel. Trucks themselves are not limited.

The corridor knows nothing of the model: it is given, when built, the pool of sealing officers
and two ports — ``departed(cargo, info)`` when a truck leaves and ``arrived(cargo, info)`` when
it is unsealed — through which the model emits the transit milestones and closes the cargo.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import numpy as np
import simpy

from simulation.distributions import Sampler, sampler, uniform_sampler
from simulation.durations import HOUR
from simulation.monitor import Level
from simulation.resources import Pool
from simulation.scenario import Corridor, SealMode

Item = TypeVar("Item")  # what a truck carries (the model's declarations)
Port = Callable[[list[Item], Mapping[str, Any]], None]


class LockPoolRuntime:
    """k electronic locks at one origin; never more than k in use (``in_use.maximum``)."""

    def __init__(self, env: simpy.Environment, name: str, size: int) -> None:
        self.env = env
        self.name = name
        self.size = size
        self.free = size
        self.in_use = Level()
        self._waiting: deque[tuple[float, Callable[[float], None]]] = deque()
        self.waits: list[float] = []  # seconds each truck waited for a lock
        self.since = 0.0

    def acquire(self, granted: Callable[[float], None]) -> None:
        """Call ``granted(waited_seconds)`` as soon as a lock is free."""
        if self.free > 0:
            self._take(0.0, granted)
        else:
            self._waiting.append((self.env.now, granted))

    def _take(self, waited: float, granted: Callable[[float], None]) -> None:
        self.free -= 1
        self.in_use.change(self.env.now, 1)
        if self.env.now - waited >= self.since:  # trucks that asked after the warm-up
            self.waits.append(waited)
        granted(waited)

    def give_back(self) -> None:
        self.free += 1
        self.in_use.change(self.env.now, -1)
        if self._waiting:
            asked, granted = self._waiting.popleft()
            self._take(self.env.now - asked, granted)

    def waiting(self) -> int:
        return len(self._waiting)

    def reset(self, now: float) -> None:
        self.in_use.reset(now)
        self.waits.clear()
        self.since = now


class CorridorRuntime(Generic[Item]):
    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        spec: Corridor,
        locks: LockPoolRuntime,
        rng: np.random.Generator,
        *,
        seal_pool: Pool | None,
        measured_from: float,
        departed: Port[Item],
        arrived: Port[Item],
    ) -> None:
        """``seal_pool``: the officers who seal (``seal_mode: officer``); ``measured_from``:
        statistics count the trucks dispatched from then on (the end of the warm-up)."""
        self.env = env
        self.name = name
        self.spec = spec
        self.locks = locks
        self.max_wait = sampler(spec.max_wait, rng) if spec.max_wait else None
        self.seal = sampler(spec.seal, rng)
        self.travel = sampler(spec.travel, rng)
        self.unseal = sampler(spec.unseal, rng)
        self.lock_return = sampler(spec.lock_return, rng)
        self.alarm_inspection = (
            sampler(spec.alarm_inspection, rng) if spec.alarm_inspection else None
        )
        self.uniform: Sampler = uniform_sampler(rng)
        # Officer sealing counts as busy officer time, not as a clearance stage's queue.
        self.seal_queue = Level()
        self.seal_pool = seal_pool
        self.departed = departed
        self.arrived = arrived
        self.bay: list[Item] = []
        self._load_generation = 0  # which open load a max-wait timer belongs to
        # Statistics count the trucks dispatched after the warm-up, like every other one.
        self.measured_from = measured_from
        self.alarms: dict[str, int] = {a.kind: 0 for a in spec.alarms}
        self.transit_times: list[float] = []  # seal start -> unsealed, seconds
        self.loads: list[int] = []  # declarations per truck
        if spec.departures_of_day:
            self.env.process(self._timetable())

    # --- loading ---------------------------------------------------------------------------

    def load(self, item: Item) -> None:
        self.bay.append(item)
        if len(self.bay) >= self.spec.truck_capacity:
            self._dispatch()
        elif len(self.bay) == 1 and self.max_wait is not None:
            generation = self._load_generation
            timer = simpy.Timeout(self.env, self.max_wait())
            timer.callbacks.append(
                lambda _e: self._dispatch() if generation == self._load_generation else None
            )

    def _timetable(self) -> Any:
        env = self.env
        day = 0.0
        hours = sorted(self.spec.departures_of_day)
        while True:
            for hour in hours:
                at = day + hour * HOUR
                if at > env.now:
                    yield env.timeout(at - env.now)
                if self.bay:
                    self._dispatch()
            day += 24 * HOUR

    def _dispatch(self) -> None:
        cargo = self.bay
        self.bay = []
        self._load_generation += 1
        measured = self.env.now >= self.measured_from
        if measured:
            self.loads.append(len(cargo))
        self.locks.acquire(lambda _waited: self._seal(cargo, measured))

    # --- one truck -------------------------------------------------------------------------

    def _after(self, delay: float, then: Callable[[], None]) -> None:
        event = simpy.Timeout(self.env, delay)
        event.callbacks.append(lambda _e: then())

    def _seal(self, cargo: list[Item], measured: bool) -> None:
        started = self.env.now
        depart = lambda *_args: self._depart(cargo, started, measured)  # noqa: E731
        if self.spec.seal_mode is SealMode.OFFICER:
            pool = self.seal_pool
            assert pool is not None  # the schema demands a seal_resource for officer sealing
            # Sealing is urgent work: it jumps the officers' queue (priority -1).
            pool.request(cargo, -1, self.seal(), depart, self.seal_queue)
        else:
            self._after(self.seal(), depart)

    def _depart(self, cargo: list[Item], started: float, measured: bool) -> None:
        self.departed(cargo, {"corridor": self.name, "destination": self.spec.destination})
        delay = self.travel()
        alarmed: list[str] = [a.kind for a in self.spec.alarms if self.uniform() < a.probability]
        if measured:
            for kind in alarmed:
                self.alarms[kind] += 1
        if alarmed and self.alarm_inspection is not None:
            delay += self.alarm_inspection()
        arrive = lambda: self._arrive(cargo, started, alarmed, measured)  # noqa: E731
        self._after(delay + self.unseal(), arrive)

    def _arrive(
        self, cargo: list[Item], started: float, alarmed: list[str], measured: bool
    ) -> None:
        now = self.env.now
        if measured:
            self.transit_times.append(now - started)
        self.arrived(cargo, {"corridor": self.name, "alarms": alarmed})
        self._after(self.lock_return(), self.locks.give_back)
