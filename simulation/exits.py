"""How a released declaration leaves the model: after its flow's departure (离境, an export) or
closing delay (an import), or at the end of its e-lock transit, whose corridor calls
``transit_started`` and ``transit_ended`` (``simulation.transit``)."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from typing import Any, cast

import simpy

from declarations import ReturnStatus
from simulation.lifecycle import Milestone
from simulation.runtime import Lodgement

Exit = Callable[[Lodgement, float], None]
"""``exit(decl, at)``: the declaration closed (899) at time ``at``."""
Emit = Callable[[Lodgement, ReturnStatus, Milestone, Mapping[str, Any]], None]
"""``emit(decl, status, milestone, info)``: a transition, reported when observed."""


class Exits:
    """The exits still to come after release, and the e-lock corridors' two ports."""

    def __init__(self, env: simpy.Environment, exit_: Exit, emit: Emit, *, observed: bool) -> None:
        self.env = env
        self.exit = exit_
        self.emit = emit
        self.observed = observed
        self.pending: list[tuple[float, int, Lodgement]] = []

    def after(self, decl: Lodgement, delay: float) -> None:
        """``decl`` exits ``delay`` seconds from now."""
        if self.observed:
            simpy.Timeout(self.env, delay, decl).callbacks.append(self._exit_event)
        else:
            # Nothing else in the model waits for an exit, so a quiet run keeps it in a plain
            # heap settled at sampling times and at the end (``settle``) instead of a SimPy
            # event: the event list stays short (hours-long departure delays of thousands of
            # exports would otherwise sit in it).
            heapq.heappush(self.pending, (self.env.now + delay, decl.id, decl))

    def settle(self) -> None:
        """Close the quiet run's pending exits that are due by now (see ``after``)."""
        pending = self.pending
        now = self.env.now
        while pending and pending[0][0] <= now:
            at, _ident, decl = heapq.heappop(pending)
            self.exit(decl, at)

    def _exit_event(self, event: simpy.Event) -> None:
        self.exit(cast(Lodgement, event.value), self.env.now)

    # --- e-lock transit (the corridors call these) ----------------------------------------

    def transit_started(self, cargo: list[Lodgement], info: Mapping[str, Any]) -> None:
        for decl in cargo:
            self.emit(decl, ReturnStatus.RELEASED, Milestone.TRANSIT_START, info)

    def transit_ended(self, cargo: list[Lodgement], info: Mapping[str, Any]) -> None:
        now = self.env.now
        for decl in cargo:
            self.emit(decl, ReturnStatus.RELEASED, Milestone.TRANSIT_END, info)
            self.exit(decl, now)
