"""The goods' arrival at the supervised site, which a declaration's release waits for.

An export's goods reach the site (运抵); a 9610 import's goods enter it, which the site
operator records in its entry record (入库明细单 CEB711, CEB spec 202205 §3.15 p. 97). Both are
the milestone ``ARRIVAL`` (``simulation.lifecycle``). A 1210 import has none: its goods are
already in the bonded zone (the scenario refuses ``goods_arrival`` there).

The model knows the arrival in one of three ways:

- a quiet batch run draws its time at lodgement (the flow's ``goods_arrival``) and checks it
  when the risk decision is made: one event, and only when the goods are still on the way;
- an observed run makes the arrival its own event, so that ``ARRIVAL`` is reported when it
  happens;
- a live caller that learns of the arrival itself (a site entry record received) submits the
  declaration with ``goods_external`` and reports it with ``ClearanceModel.goods_arrived``.

A declaration whose goods are not awaited has ``goods_here`` true and ``goods_at`` 0: the
model releases it at once and never calls in here (the hot path).

At a site with a sorting line (``stages.sorting_line``), the goods of its flows pass the line
when they arrive — every parcel, whatever its risk path — and count as here only once they
are off it: their arrival is then an event in every run, and the line's lanes a pool.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import cast

import simpy

from simulation.lifecycle import Milestone
from simulation.runtime import Lodgement, StageRuntime

REPORTED = math.inf
"""``Lodgement.goods_at`` of a declaration whose caller reports the arrival (until it does)."""


class GoodsArrivals:
    """The arrivals the model's declarations wait for (see the module docstring).

    ``release(decl)`` starts the release of a decided declaration whose goods are here;
    ``notify(decl, milestone)`` reports a milestone (observed runs only); ``line``: the
    sorting line, whose statistics count declarations lodged from ``measured_from`` on."""

    def __init__(
        self,
        env: simpy.Environment,
        live: Mapping[int, Lodgement],
        release: Callable[[Lodgement], None],
        notify: Callable[[Lodgement, Milestone], None] | None,
        *,
        line: StageRuntime | None = None,
        measured_from: float = 0.0,
    ) -> None:
        self.env = env
        self.live = live
        self.release = release
        self.notify = notify
        self.line = line
        self.measured_from = measured_from

    def expect(self, decl: Lodgement, *, reported: bool) -> None:
        """At lodgement: the goods of ``decl`` are on their way; their arrival is drawn from
        its flow's ``goods_arrival``, or, when ``reported``, left to the caller."""
        decl.goods_here = False
        if reported:
            decl.goods_at = REPORTED
            return
        sample = decl.flow.goods_arrival
        assert sample is not None
        delay = sample()
        decl.goods_at = self.env.now + delay
        if self.notify is not None or decl.flow.sorted:  # the arrival is an event of its own
            simpy.Timeout(self.env, delay, decl).callbacks.append(self._arrived_event)
        else:  # quiet: only its time is needed, checked at the decision (``wait``)
            decl.goods_here = True

    def wait(self, decl: Lodgement) -> None:
        """At the decision, for goods not yet here: release when they arrive."""
        if decl.goods_here:  # quiet run, drawn time still ahead: wake up then
            delay = decl.goods_at - self.env.now
            simpy.Timeout(self.env, delay, decl).callbacks.append(self._release_event)
        # otherwise the arrival event, or the caller's report, releases it (``_arrived``)

    def reported(self, ident: int) -> None:
        """The caller reports that the goods of declaration ``ident`` arrived now; ignored for
        an unknown or finished declaration, one not submitted with ``goods_external``, and a
        second report."""
        decl = self.live.get(ident)
        if decl is None or decl.goods_at != REPORTED:
            return
        decl.goods_at = self.env.now
        self._arrived(decl)

    def _arrived_event(self, event: simpy.Event) -> None:
        decl = cast(Lodgement, event.value)
        if decl.id in self.live:  # not rejected or detained meanwhile
            self._arrived(decl)

    def _arrived(self, decl: Lodgement) -> None:
        if self.notify is not None:
            self.notify(decl, Milestone.ARRIVAL)
        line = self.line
        if line is not None and decl.flow.sorted:  # onto the sorting line first
            service = (
                line.by_flow.get(decl.flow.name, line.service) if line.by_flow else line.service
            )
            # A belt has no overtaking: first come, first served, whatever the credit class.
            line.pool.request(decl, 0, service(), self._sorted, line.queue)
        else:
            self._here(decl)

    def _sorted(self, decl: Lodgement, waited: float) -> None:
        line = self.line
        assert line is not None
        if decl.lodged >= self.measured_from:
            line.sojourn.append(self.env.now - decl.goods_at)
            line.waits.append(waited)
            line.by_credit_wait[decl.credit].append(waited)
        self._here(decl)

    def _here(self, decl: Lodgement) -> None:
        decl.goods_here = True
        if decl.decided:
            self.release(decl)

    def _release_event(self, event: simpy.Event) -> None:
        self.release(cast(Lodgement, event.value))
