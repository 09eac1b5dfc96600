"""A lean server pool: priorities, shifts (time-varying capacity) and pre-emption.

Why not ``simpy.Resource``: its capacity is read-only, its waiting line is a list with
O(n) removal at the head, and using it needs a generator process per job. Here a job is
plain data in a heap ordered by (priority, arrival order) and a service is one SimPy
``Timeout`` with a callback — one event per service, no process switch.

Shift ends (``ShiftEnd``):

- ``finish``: servers whose shift ended finish the job in hand, then leave. Until they do,
  ``busy`` may exceed ``capacity`` (the documented overlap); no job *starts* while
  ``busy >= capacity``.
- ``preempt``: surplus jobs are interrupted at once (lowest priority, most recently started
  first), go back to the head of their priority class and later resume their *remaining*
  service time. ``busy <= capacity`` at every instant.

``capacity=None`` is an unlimited pool (a pure delay): every job starts at once.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any, cast

import simpy

from simulation.durations import HOUR
from simulation.monitor import Level
from simulation.scenario import Resource, ShiftEnd

# What a pure delay's timeout carries: the item and what to call when it ends.
_Delay = tuple[Any, Callable[[Any, float], None]]


class Ticket:
    """One job's claim on a pool: who, for which stage, how long, and what happens next."""

    __slots__ = (
        "active",
        "arrived",
        "end",
        "item",
        "on_done",
        "prio",
        "queue",
        "remaining",
        "started",
        "waited",
    )

    def __init__(
        self,
        item: Any,
        prio: int,
        remaining: float,
        on_done: Callable[[Any, float], None],
        queue: Level,
    ) -> None:
        self.item = item
        self.prio = prio
        self.remaining = remaining
        self.on_done = on_done  # called with (item, waited seconds) when service ends
        self.queue = queue  # the waiting-line level of the stage the job waits in
        self.active = False
        self.started = False
        self.arrived = 0.0
        self.waited = 0.0  # time in the queue before the first start
        self.end = 0.0


class Pool:
    """Servers with a (possibly scheduled) capacity, a priority queue and statistics."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        spec: Resource,
        *,
        trace: bool = False,
    ) -> None:
        self.env = env
        self.name = name
        self.unlimited = spec.capacity is None and spec.schedule is None
        self.preempt = spec.at_shift_end is ShiftEnd.PREEMPT
        first = spec.schedule[0].capacity if spec.schedule else (spec.capacity or 0)
        self.capacity: float = math.inf if self.unlimited else first
        self.busy = 0
        self._waiting: list[tuple[int, int, Ticket]] = []
        self._seq = 0
        self._preempt_seq = 0
        # Insertion-ordered (a dict, not a set): the choice of pre-emption victims must not
        # depend on object addresses, or replications would differ between processes.
        self._in_service: dict[Ticket, None] = {}
        self.busy_level = Level()
        self.capacity_level = Level(0.0 if self.unlimited else first)
        self.preemptions = 0
        # (time, event, busy, capacity) for the invariant tests; None on the fast path.
        self.trace: list[tuple[float, str, int, float]] | None = [] if trace else None
        if spec.schedule and len(spec.schedule) > 1:
            steps = [(s.from_hour * HOUR, s.capacity) for s in spec.schedule]
            self._start_schedule(steps, spec.period_hours * HOUR)

    # --- jobs ------------------------------------------------------------------------------

    def request(
        self,
        item: Any,
        prio: int,
        service: float,
        on_done: Callable[[Any, float], None],
        queue: Level,
    ) -> None:
        """Serve ``item`` for ``service`` seconds, then call ``on_done(item, waited)``."""
        env = self.env
        if self.unlimited:  # a pure delay: no queue, no ticket, one event
            self.busy += 1
            event = simpy.Timeout(env, service, (item, on_done))
            event.callbacks.append(self._delay_done)
            return
        ticket = Ticket(item, prio, service, on_done, queue)
        ticket.arrived = env.now
        if self.busy < self.capacity:
            self._begin(ticket)
        else:
            self._seq += 1
            heapq.heappush(self._waiting, (prio, self._seq, ticket))
            queue.change(ticket.arrived, 1)

    def _delay_done(self, event: simpy.Event) -> None:
        self.busy -= 1
        item, on_done = cast(_Delay, event.value)
        on_done(item, 0.0)

    def _begin(self, ticket: Ticket) -> None:
        now = self.env.now
        self.busy += 1
        self.busy_level.change(now, 1)
        ticket.active = True
        ticket.started = True
        ticket.end = now + ticket.remaining
        if self.preempt:
            self._in_service[ticket] = None
        if self.trace is not None:
            self.trace.append((now, "start", self.busy, self.capacity))
        event = simpy.Timeout(self.env, ticket.remaining, ticket)
        event.callbacks.append(self._finished)

    def _finished(self, event: simpy.Event) -> None:
        ticket = cast(Ticket, event.value)
        if not ticket.active:  # pre-empted: this completion is stale
            return
        now = self.env.now
        ticket.active = False
        self.busy -= 1
        self.busy_level.change(now, -1)
        if self.preempt:
            del self._in_service[ticket]
        if self.trace is not None:
            self.trace.append((now, "end", self.busy, self.capacity))
        if self._waiting:
            self._start_waiting()
        ticket.on_done(ticket.item, ticket.waited)

    def _start_waiting(self) -> None:
        waiting = self._waiting
        now = self.env.now
        while waiting and self.busy < self.capacity:
            ticket = heapq.heappop(waiting)[2]
            ticket.queue.change(now, -1)
            if not ticket.started:  # a resumption after pre-emption keeps its first wait
                ticket.waited = now - ticket.arrived
            self._begin(ticket)

    def waiting(self) -> int:
        return len(self._waiting)

    # --- shifts ----------------------------------------------------------------------------

    def set_capacity(self, capacity: int) -> None:
        now = self.env.now
        self.capacity = capacity
        self.capacity_level.set(now, capacity)
        if self.preempt:
            while self.busy > capacity:
                self._preempt_one()
        if self.trace is not None:
            self.trace.append((now, "capacity", self.busy, capacity))
        self._start_waiting()

    def _preempt_one(self) -> None:
        now = self.env.now
        # The least urgent job, and among those the one that started last, gives way.
        victim = max(self._in_service, key=lambda t: (t.prio, t.end - t.remaining))
        del self._in_service[victim]
        victim.active = False
        victim.remaining = victim.end - now
        self.busy -= 1
        self.busy_level.change(now, -1)
        self.preemptions += 1
        # Negative sequence numbers put resumed jobs ahead of new ones of the same priority.
        self._preempt_seq -= 1
        heapq.heappush(self._waiting, (victim.prio, self._preempt_seq, victim))
        victim.queue.change(now, 1)

    def _start_schedule(self, steps: list[tuple[float, int]], period: float) -> None:
        env = self.env

        def shifts() -> Any:
            cycle = 0.0
            index = 1  # step 0's capacity is the initial one
            while True:
                at, capacity = steps[index]
                yield env.timeout(cycle + at - env.now)
                self.set_capacity(capacity)
                index += 1
                if index == len(steps):
                    index = 0
                    cycle += period

        env.process(shifts())
