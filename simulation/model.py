"""The clearance model: declarations through audit, review, inspection and release.

    model = ClearanceModel(env, scenario, rng, traces=plan.traces, target_cutoff=...)
    model.start()                 # batch: walk the scenario's arrival plans
    handle = model.submit(flow="9610-import", force=Forced(inspection=True))   # live
    waiting = model.submit(flow="9610-import", goods_external=True)   # live: release waits
    model.goods_arrived(waiting.id)   # ... until the caller reports the goods (CEB711)
    env.run(until=...)

The model is built with everything it needs and does no I/O: the SimPy environment, the numpy
generator and the trace flows' arrivals (``simulation.plan.RunPlan``) come from the caller.
Design for speed: a declaration is plain data (``Lodgement``) moving through callbacks — one
``Timeout`` per service or delay, no generator process per declaration; its path through the
risk channel is drawn once, when it is lodged (``simulation.routing``), from uniforms taken
from numpy in blocks; statistics go into typed arrays summarised after the run; the transition
callback is called only when one was given, and a quiet run skips the events nobody waits for
(see ``simulation.goods``, ``simulation.exits``). The states and milestones are listed in
``simulation.lifecycle``; the goods' arrival that release waits for is ``simulation.goods``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial
from types import MappingProxyType
from typing import Any

import numpy as np
import simpy

from declarations import ReturnStatus
from simulation.arrivals import ArrivalPlan, arrival_plan, walk
from simulation.distributions import uniform_sampler
from simulation.durations import HOUR
from simulation.exits import Exits
from simulation.goods import GoodsArrivals
from simulation.lifecycle import Milestone, OnTransition
from simulation.routing import Forced
from simulation.runtime import CREDIT_INDEX, CREDITS, FlowRuntime, Lodgement, StageRuntime
from simulation.scenario import CreditClass, Scenario, StageName
from simulation.site import Site

__all__ = ["CREDITS", "HOUR", "ClearanceModel", "Forced", "Lodgement"]

_NO_INFO: Mapping[str, Any] = MappingProxyType({})
_S = ReturnStatus
_M = Milestone


class ClearanceModel:
    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        rng: np.random.Generator,
        *,
        traces: Mapping[str, ArrivalPlan] | None = None,
        target_cutoff: float = math.inf,
        on_transition: OnTransition | None = None,
        trace_pools: bool = False,
        keep_samples: bool = True,
    ) -> None:
        """``traces``: the arrivals of the trace flows by flow name (``RunPlan.traces``), cut
        at the horizon. ``target_cutoff``: "released within target" counts only declarations
        lodged by then, which have had the whole target window before the run ends (no
        censoring; the runner passes the end minus the target; live mode: no cutoff).
        ``keep_samples=False``: none of the statistics that keep samples of every declaration
        or truck (waits, cycle and transit times); live mode: nothing reads them, and its
        model runs as long as the service."""
        self.env = env
        self.scenario = scenario
        self.rng = rng
        self.traces: Mapping[str, ArrivalPlan] = traces or {}
        self.on_transition = on_transition
        self.observed = on_transition is not None
        self.warmup = scenario.warmup_hours * HOUR
        # Samples are kept of the declarations lodged from then on (trucks: dispatched).
        self.sampled_from = self.warmup if keep_samples else math.inf
        review_stage = scenario.stages.review is not None
        self.flows = [
            FlowRuntime(i, f, scenario, rng, review_stage=review_stage)
            for i, f in enumerate(scenario.flows)
        ]
        self.flow_by_name = {f.name: f for f in self.flows}
        self.site = Site[Lodgement](env, scenario, rng, trace_pools=trace_pools)
        self.exits = Exits(env, self._exit, self._emit, observed=self.observed)
        routing = rng.spawn(1)[0]  # the risk paths (simulation.routing)
        for flow in self.flows:
            flow.route_with(routing)
        self.site.add_corridors(
            scenario,
            rng,
            measured_from=self.sampled_from,
            departed=self.exits.transit_started,
            arrived=self.exits.transit_ended,
        )
        self.uniform = uniform_sampler(rng)  # transit shares
        self.pools, self.stages = self.site.pools, self.site.stages
        self.lock_pools, self.corridors = self.site.lock_pools, self.site.corridors
        self.priority = [scenario.priority.get(c, 1) for c in CREDITS]
        for flow in self.flows:
            if flow.spec.transit is not None:
                flow.corridor = self.corridors[flow.spec.transit.corridor]
        self.live: dict[int, Lodgement] = {}
        self.next_id = 1
        self.arrived = 0
        self.finished: dict[ReturnStatus, int] = {}
        self.released_total = 0
        self.released_total_at_warmup = 0
        self.released_in_target = 0
        self.target = scenario.target_hours * HOUR
        self.target_cutoff = target_cutoff
        self.target_eligible = 0
        self._audit = self.stages.get(StageName.AUDIT)
        self._review = self.stages.get(StageName.REVIEW)
        self._machine = self.stages.get(StageName.MACHINE_CHECK)
        self._manual = self.stages.get(StageName.MANUAL_INSPECTION)
        self._release = self.stages.get(StageName.RELEASE)
        notify = self._notify if self.observed else None
        line = self.stages.get(StageName.SORTING_LINE)  # the goods pass it (simulation.goods)
        self.goods = GoodsArrivals(
            env, self.live, self._go_release, notify, line=line, measured_from=self.sampled_from
        )
        if not keep_samples:
            for locks in self.lock_pools.values():
                locks.since = math.inf  # nor the trucks' waits for a lock
        elif self.warmup > 0:  # the statistics start again when the warm-up ends
            env.timeout(self.warmup).callbacks.append(self._end_warmup)

    # --- public ----------------------------------------------------------------------------

    def start(self) -> int:
        """Schedule every flow's arrival plan; returns the number of declarations planned."""
        total = 0
        for flow in self.flows:
            spec = flow.spec.arrivals
            plan = arrival_plan(
                spec, self.scenario.horizon_hours, self.rng, self.traces.get(flow.name)
            )
            total += plan.total
            walk(self.env, plan, partial(self._lodge, flow))
        return total

    def submit(
        self,
        flow: str | None = None,
        credit_class: CreditClass | str | None = None,
        *,
        rule_hit: str | None = None,
        force: Forced | None = None,
        goods_external: bool = False,
    ) -> Lodgement:
        """Inject one declaration now (live mode) and return its handle (``.id``, ``.status``).

        ``goods_external``: its release waits for the goods until the caller reports their
        arrival (``goods_arrived``) instead of drawing it from the flow's ``goods_arrival``;
        only for a flow whose goods arrive (``Flow.goods_arrive``: not a 1210 import)."""
        if flow is None:
            runtime = self.flows[0]
        elif flow in self.flow_by_name:
            runtime = self.flow_by_name[flow]
        else:
            raise KeyError(f"unknown flow {flow!r} (known: {sorted(self.flow_by_name)})")
        credit = None if credit_class is None else CreditClass(credit_class)
        if credit is not None and runtime.risk[CREDIT_INDEX[credit]] is None:
            raise KeyError(f"flow {runtime.name!r} has no risk profile for {credit_class!r}")
        if goods_external and not runtime.spec.goods_arrive:
            raise ValueError(
                f"flow {runtime.name!r} is a 1210 bonded import: its goods are already in the "
                "zone, there is no arrival to wait for (goods_external)"
            )
        return self._lodge(runtime, credit, rule_hit, force, goods_external)

    def goods_arrived(self, decl_id: int) -> None:
        """The goods of declaration ``decl_id`` (submitted with ``goods_external``) have
        arrived at the site now: its release may proceed once the risk decision is made.
        Idempotent; an unknown or finished declaration, or one not waiting for a report, is
        ignored. An observed model reports the ``ARRIVAL`` milestone."""
        self.goods.reported(decl_id)

    def in_system_count(self) -> int:
        return len(self.live)

    # --- the path of one declaration -------------------------------------------------------

    def _emit(
        self,
        decl: Lodgement,
        status: ReturnStatus,
        milestone: Milestone,
        info: Mapping[str, Any] = _NO_INFO,
    ) -> None:
        decl.status = status
        if self.on_transition is not None:
            self.on_transition(decl.id, status, milestone, self.env.now, info)

    def _notify(self, decl: Lodgement, milestone: Milestone) -> None:
        assert self.on_transition is not None
        self.on_transition(decl.id, decl.status, milestone, self.env.now, _NO_INFO)

    def _lodge(
        self,
        flow: FlowRuntime,
        credit_class: CreditClass | None,
        rule: str | None,
        force: Forced | None = None,
        goods_external: bool = False,
    ) -> Lodgement:
        now = self.env.now
        credit = int(flow.credit()) if credit_class is None else CREDIT_INDEX[credit_class]
        path = (
            flow.path[credit]()
            if rule is None and force is None
            else flow.drawn_path(credit, rule, force)
        )
        decl = Lodgement(self.next_id, flow, credit, self.priority[credit], now, path)
        if force is not None:
            decl.reject_code = force.reject_code
        self.next_id += 1
        self.live[decl.id] = decl
        self.arrived += 1
        if now >= self.warmup:
            flow.arrived += 1
            if now <= self.target_cutoff:
                self.target_eligible += 1
        if self.on_transition is not None:
            info = {"flow": flow.name, "credit_class": CREDITS[credit].value}
            if rule is not None:
                info["rule_hit"] = rule
            self._emit(decl, _S.DECLARING, _M.LODGEMENT, info)
            self._emit(decl, _S.SENT, _M.TRANSMISSION)
        else:
            decl.status = _S.SENT
        if flow.goods_arrival is not None or goods_external:
            self.goods.expect(decl, reported=goods_external)  # release waits for the goods
        if self._audit is not None:
            self._enter(self._audit, decl, self._audit_done)
        else:
            self._accepted(decl)
        return decl

    def _enter(self, stage: StageRuntime, decl: Lodgement, done: Any) -> None:
        decl.t_stage = self.env.now
        service = (
            stage.by_flow.get(decl.flow.name, stage.service) if stage.by_flow else stage.service
        )
        stage.pool.request(decl, decl.prio, service(), done, stage.queue)

    def _record(self, stage: StageRuntime, decl: Lodgement, waited: float) -> None:
        if decl.lodged >= self.sampled_from:
            stage.sojourn.append(self.env.now - decl.t_stage)
            stage.waits.append(waited)
            stage.by_credit_wait[decl.credit].append(waited)

    def _audit_done(self, decl: Lodgement, waited: float) -> None:
        assert self._audit is not None
        self._record(self._audit, decl, waited)
        self._accepted(decl)

    def _accepted(self, decl: Lodgement) -> None:
        path = decl.path
        if path.rejected:
            info = _NO_INFO if decl.reject_code is None else {"code": decl.reject_code}
            self._emit(decl, _S.REJECTED, _M.REJECTION, info)
            return self._finish(decl)
        decl.status = _S.ACCEPTED  # hot path: set the status, notify only when observed
        if self.observed:
            self._notify(decl, _M.ACCEPTANCE)
        if path.review:  # drawn only where the site has a review stage
            assert self._review is not None
            self._emit(decl, _S.MANUAL_REVIEW, _M.MANUAL_REVIEW)
            self._enter(self._review, decl, self._review_done)
            return None
        self._decided(decl, reviewed=False)
        return None

    def _review_done(self, decl: Lodgement, waited: float) -> None:
        assert self._review is not None
        self._record(self._review, decl, waited)
        self._decided(decl, reviewed=True)

    def _decided(self, decl: Lodgement, reviewed: bool) -> None:
        decl.status = _S.DECIDED
        decl.decided_at = self.env.now
        if self.observed:
            self._notify(decl, _M.RISK_DECISION)
        inspect = decl.path.inspect and (self._machine is not None or self._manual is not None)
        if decl.lodged >= self.warmup:
            counts = decl.flow.path_counts[decl.credit]
            counts.decided += 1
            counts.reviewed += reviewed
            counts.inspected += inspect
        if not inspect:
            return self._ready_for_release(decl)
        if self._machine is not None:
            self._emit(decl, _S.INSPECTION, _M.INSPECTION_START)
            self._enter(self._machine, decl, self._machine_done)
        else:
            self._start_manual(decl)
        return None

    def _start_manual(self, decl: Lodgement) -> None:
        assert self._manual is not None
        if decl.status != _S.INSPECTION:
            self._emit(decl, _S.INSPECTION, _M.INSPECTION_START)
        self._enter(self._manual, decl, self._manual_done)

    def _machine_done(self, decl: Lodgement, waited: float) -> None:
        assert self._machine is not None
        self._record(self._machine, decl, waited)
        if decl.path.manual and self._manual is not None:
            return self._start_manual(decl)
        return self._inspected(decl)

    def _manual_done(self, decl: Lodgement, waited: float) -> None:
        assert self._manual is not None
        self._record(self._manual, decl, waited)
        self._inspected(decl)

    def _inspected(self, decl: Lodgement) -> None:
        self._emit(decl, _S.INSPECTION, _M.INSPECTION_END)
        ending = decl.path.ending
        if ending is _S.RELEASED:
            return self._ready_for_release(decl)
        self._emit(decl, ending, _M.RETURN if ending is _S.RETURNED else _M.DETENTION)
        return self._finish(decl)

    def _ready_for_release(self, decl: Lodgement) -> None:
        # Release waits for the goods (simulation.goods): an export's 运抵, a 9610 import's
        # site entry (CEB711). Goods nobody waits for have goods_at 0.
        decl.decided = True
        if not decl.goods_here or decl.goods_at > self.env.now:
            self.goods.wait(decl)
        elif self._release is not None:
            self._enter(self._release, decl, self._release_done)
        else:
            self._released(decl)

    def _go_release(self, decl: Lodgement) -> None:
        if self._release is not None:
            self._enter(self._release, decl, self._release_done)
        else:
            self._released(decl)

    def _release_done(self, decl: Lodgement, waited: float) -> None:
        assert self._release is not None
        self._record(self._release, decl, waited)
        self._released(decl)

    def _released(self, decl: Lodgement) -> None:
        now = self.env.now
        decl.status = _S.RELEASED
        if self.observed:
            self._notify(decl, _M.RELEASE)
        decl.released = now
        self.released_total += 1
        flow = decl.flow
        if decl.lodged >= self.sampled_from:
            cycle = now - decl.lodged
            flow.cycle.append(cycle)
            flow.to_decision.append(decl.decided_at - decl.lodged)
            flow.decision_to_release.append(now - decl.decided_at)
            if cycle <= self.target and decl.lodged <= self.target_cutoff:
                self.released_in_target += 1
        if flow.corridor is not None and self.uniform() < flow.transit_share:
            flow.corridor.load(decl)
        elif flow.after_release is not None:
            self.exits.after(decl, flow.after_release())  # departure (离境) or closing
        else:
            self._exit(decl, now)

    def _exit(self, decl: Lodgement, at: float) -> None:
        decl.status = _S.CLOSED
        if self.observed:
            self._notify(decl, _M.EXIT)
        if decl.lodged >= self.sampled_from:
            decl.flow.end_to_end.append(at - decl.lodged)
        self._finish(decl)

    def settle(self) -> None:
        """Close the quiet run's pending exits that are due by now (``Exits.after``)."""
        self.exits.settle()

    def _finish(self, decl: Lodgement) -> None:
        del self.live[decl.id]
        self.finished[decl.status] = self.finished.get(decl.status, 0) + 1

    # --- warm-up ---------------------------------------------------------------------------

    def _end_warmup(self, _event: simpy.Event) -> None:
        self.site.reset(self.env.now)
        self.released_total_at_warmup = self.released_total
