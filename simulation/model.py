"""The clearance model: declarations through audit, review, inspection and release.

    model = ClearanceModel(env, scenario, rng, on_transition=callback)
    model.start()                 # batch: walk the scenario's arrival plans
    handle = model.submit(flow="9610-import", force=Forced(inspection=True))   # live
    env.run(until=...)

No I/O and no clock of its own: the SimPy environment and the numpy generator come from the
caller. Design for speed: a declaration is plain data moving through
callbacks — one ``Timeout`` per service or delay, no generator process per declaration;
random numbers come in numpy blocks; statistics go into typed arrays summarised after the
run; the transition callback is called only when one was given, and a quiet run skips the
events nobody waits for (see ``_released``, ``_lodge``). The states and milestones are listed
in ``simulation.lifecycle``.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, cast

import numpy as np
import simpy

from declarations import ReturnStatus
from simulation.arrivals import ArrivalPlan, arrival_plan
from simulation.distributions import sampler, uniform_sampler
from simulation.durations import HOUR
from simulation.lifecycle import Milestone, OnTransition
from simulation.resources import Pool
from simulation.runtime import (
    CREDITS,
    Declaration,
    FlowRuntime,
    Forced,
    StageRuntime,
    read_traces,
)
from simulation.scenario import CreditClass, Resource, Scenario, StageName
from simulation.transit import CorridorRuntime, LockPoolRuntime

__all__ = ["CREDITS", "HOUR", "ClearanceModel", "Declaration", "Forced", "read_traces"]

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
        on_transition: OnTransition | None = None,
        trace_pools: bool = False,
    ) -> None:
        self.env = env
        self.scenario = scenario
        self.rng = rng
        self.on_transition = on_transition
        self.observed = on_transition is not None
        self.warmup = scenario.warmup_hours * HOUR
        self.pools = {
            name: Pool(env, name, spec, trace=trace_pools)
            for name, spec in scenario.resources.items()
        }
        self.flows = [FlowRuntime(i, f, scenario, rng) for i, f in enumerate(scenario.flows)]
        self.flow_by_name = {f.name: f for f in self.flows}
        self.stages: dict[StageName, StageRuntime] = {}
        for name in StageName:
            spec = getattr(scenario.stages, name.value)
            if spec is None:
                continue
            pool = (
                self.pools[spec.resource]
                if spec.resource is not None
                else Pool(env, f"{name.value} (unlimited)", Resource())
            )
            by_flow = {f: sampler(d, rng) for f, d in spec.service_by_flow.items()}
            self.stages[name] = StageRuntime(name, pool, sampler(spec.service, rng), by_flow)
        self.uniform = uniform_sampler(rng)
        self.priority = [scenario.priority.get(c, 1) for c in CREDITS]
        self.lock_pools = {
            n: LockPoolRuntime(env, n, p.size) for n, p in scenario.lock_pools.items()
        }
        self.corridors = {
            name: CorridorRuntime(self, name, spec, self.lock_pools[spec.lock_pool], rng)
            for name, spec in scenario.corridors.items()
        }
        for flow in self.flows:
            if flow.spec.transit is not None:
                flow.corridor = self.corridors[flow.spec.transit.corridor]
        self.live: dict[int, Declaration] = {}
        self._pending_exits: list[tuple[float, int, Declaration]] = []
        self.next_id = 1
        self.arrived = 0
        self.finished: dict[ReturnStatus, int] = {}
        self.released_total = 0
        self.released_total_at_warmup = 0
        self.released_in_target = 0
        self.target = scenario.target_hours * HOUR
        # "Released within target" counts only declarations lodged early enough to have had
        # the whole target window before the run ends (no censoring); the runner sets it.
        self.target_cutoff = float("inf")
        self.target_eligible = 0
        self._stage_list = list(self.stages.values())
        self._audit = self.stages.get(StageName.AUDIT)
        self._review = self.stages.get(StageName.REVIEW)
        self._machine = self.stages.get(StageName.MACHINE_CHECK)
        self._manual = self.stages.get(StageName.MANUAL_INSPECTION)
        self._release = self.stages.get(StageName.RELEASE)
        if self.warmup > 0:
            env.timeout(self.warmup).callbacks.append(self._end_warmup)

    # --- public ----------------------------------------------------------------------------

    def start(self, traces: Mapping[str, ArrivalPlan] | None = None) -> int:
        """Schedule every flow's arrival plan; returns the number of declarations planned.

        ``traces`` holds the plans of trace flows by flow name (``read_traces`` reads them:
        the model itself does no I/O)."""
        total = 0
        traces = traces or {}
        for flow in self.flows:
            spec = flow.spec.arrivals
            trace = traces.get(flow.name)
            plan = arrival_plan(spec, self.scenario.horizon_hours, self.rng, trace)
            total += plan.total
            self._drive(flow, plan)
        return total

    def submit(
        self,
        flow: str | None = None,
        credit_class: CreditClass | str | None = None,
        *,
        rule_hit: str | None = None,
        force: Forced | None = None,
    ) -> Declaration:
        """Inject one declaration now (live mode) and return its handle (``.id``, ``.status``)."""
        if flow is None:
            runtime = self.flows[0]
        elif flow in self.flow_by_name:
            runtime = self.flow_by_name[flow]
        else:
            raise KeyError(f"unknown flow {flow!r} (known: {sorted(self.flow_by_name)})")
        credit = None if credit_class is None else CREDITS.index(CreditClass(credit_class))
        if credit is not None and runtime.risk[credit] is None:
            raise KeyError(f"flow {runtime.name!r} has no risk profile for {credit_class!r}")
        return self._lodge(runtime, credit, rule_hit, force)

    def in_system_count(self) -> int:
        return len(self.live)

    # --- arrivals --------------------------------------------------------------------------

    def _drive(self, flow: FlowRuntime, plan: ArrivalPlan) -> None:
        times = plan.times.tolist()
        counts = plan.counts.tolist()
        credits = plan.credit
        rules = plan.rule_hit
        env = self.env
        lodge = self._lodge
        n = len(times)
        if n == 0:
            return
        position = 0

        def fire(_event: simpy.Event) -> None:
            nonlocal position
            i = position
            credit = None
            if credits is not None:
                named = credits[i]
                credit = None if named is None else CREDITS.index(named)
            rule = rules[i] if rules is not None else None
            for _ in range(counts[i]):
                lodge(flow, credit, rule, None)
            position = i + 1
            if position < n:
                delay = max(0.0, times[position] - env.now)
                simpy.Timeout(env, delay).callbacks.append(fire)

        # Plan times are absolute; a model started late skips nothing but starts at once.
        simpy.Timeout(env, max(0.0, times[0] - env.now)).callbacks.append(fire)

    # --- the path of one declaration -------------------------------------------------------

    def _emit(
        self,
        decl: Declaration,
        status: ReturnStatus,
        milestone: Milestone,
        info: Mapping[str, Any] = _NO_INFO,
    ) -> None:
        decl.status = status
        if self.on_transition is not None:
            self.on_transition(decl.id, status, milestone, self.env.now, info)

    def _notify(self, decl: Declaration, milestone: Milestone) -> None:
        assert self.on_transition is not None
        self.on_transition(decl.id, decl.status, milestone, self.env.now, _NO_INFO)

    def _lodge(
        self, flow: FlowRuntime, credit: int | None, rule: str | None, force: Forced | None
    ) -> Declaration:
        now = self.env.now
        if credit is None:
            credit = int(flow.credit())
        decl = Declaration(self.next_id, flow, credit, self.priority[credit], now)
        self.next_id += 1
        decl.forced = force
        self.live[decl.id] = decl
        self.arrived += 1
        if now >= self.warmup:
            flow.arrived += 1
            if now <= self.target_cutoff:
                self.target_eligible += 1
        # Risk rules fire at lodgement (the trace or the caller may name one directly).
        if rule is not None:
            decl.inspect = True
            decl.manual = flow.rule_manual.get(rule, True)
        if flow.rules.soonest:
            hit, manual = flow.rules.hits()
            if hit:
                decl.inspect = True
                decl.manual = decl.manual or manual
        if self.on_transition is not None:
            info = {"flow": flow.name, "credit_class": CREDITS[credit].value}
            if rule is not None:
                info["rule_hit"] = rule
            self._emit(decl, _S.DECLARING, _M.LODGEMENT, info)
            self._emit(decl, _S.SENT, _M.TRANSMISSION)
        else:
            decl.status = _S.SENT
        if flow.export and flow.goods_arrival is not None:
            delay = flow.goods_arrival()
            decl.goods_at = now + delay
            if self.on_transition is not None:
                # Observed runs need the arrival (运抵) as its own event; quiet batch runs only
                # need its time, checked when the decision is made (one event fewer).
                decl.goods_here = False
                event = simpy.Timeout(self.env, delay, decl)
                event.callbacks.append(self._goods_arrived)
        if self._audit is not None:
            self._enter(self._audit, decl, self._audit_done)
        else:
            self._accepted(decl)
        return decl

    def _enter(self, stage: StageRuntime, decl: Declaration, done: Any) -> None:
        decl.t_stage = self.env.now
        service = (
            stage.by_flow.get(decl.flow.name, stage.service) if stage.by_flow else stage.service
        )
        stage.pool.request(decl, decl.prio, service(), done, stage.queue)

    def _record(self, stage: StageRuntime, decl: Declaration, waited: float) -> None:
        if decl.lodged >= self.warmup:
            stage.sojourn.append(self.env.now - decl.t_stage)
            stage.waits.append(waited)
            stage.by_credit_wait[decl.credit].append(waited)

    def _audit_done(self, decl: Declaration, waited: float) -> None:
        assert self._audit is not None
        self._record(self._audit, decl, waited)
        self._accepted(decl)

    def _accepted(self, decl: Declaration) -> None:
        profile = decl.flow.risk[decl.credit]
        assert profile is not None  # the schema checks every credit class in the mix
        force = decl.forced
        if force is not None and force.reject_code is not None:
            info = {"code": force.reject_code}
            self._emit(decl, _S.REJECTED, _M.REJECTION, info)
            return self._finish(decl)
        if profile.reject and self.uniform() < profile.reject:
            self._emit(decl, _S.REJECTED, _M.REJECTION)
            return self._finish(decl)
        decl.status = _S.ACCEPTED  # hot path: set the status, notify only when observed
        if self.observed:
            self._notify(decl, _M.ACCEPTANCE)
        review = profile.review > 0 and self.uniform() < profile.review
        if force is not None and force.review is not None:
            review = force.review
        if review and self._review is not None:
            self._emit(decl, _S.MANUAL_REVIEW, _M.MANUAL_REVIEW)
            self._enter(self._review, decl, self._review_done)
            return None
        if not decl.inspect and profile.inspect_direct:
            decl.inspect = self.uniform() < profile.inspect_direct
        self._decided(decl, reviewed=False)
        return None

    def _review_done(self, decl: Declaration, waited: float) -> None:
        assert self._review is not None
        self._record(self._review, decl, waited)
        profile = decl.flow.risk[decl.credit]
        assert profile is not None
        if not decl.inspect and profile.inspect_after_review:
            decl.inspect = self.uniform() < profile.inspect_after_review
        self._decided(decl, reviewed=True)

    def _decided(self, decl: Declaration, reviewed: bool) -> None:
        force = decl.forced
        if force is not None:
            if force.inspection is not None:
                decl.inspect = force.inspection
            if force.detention is not None or force.return_goods:
                decl.inspect = True
        decl.status = _S.DECIDED
        decl.decided_at = self.env.now
        if self.observed:
            self._notify(decl, _M.RISK_DECISION)
        inspect = decl.inspect and (self._machine is not None or self._manual is not None)
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

    def _start_manual(self, decl: Declaration) -> None:
        assert self._manual is not None
        if decl.status != _S.INSPECTION:
            self._emit(decl, _S.INSPECTION, _M.INSPECTION_START)
        self._enter(self._manual, decl, self._manual_done)

    def _machine_done(self, decl: Declaration, waited: float) -> None:
        assert self._machine is not None
        self._record(self._machine, decl, waited)
        profile = decl.flow.risk[decl.credit]
        assert profile is not None
        manual = decl.manual or (
            profile.manual_after_machine > 0 and self.uniform() < profile.manual_after_machine
        )
        force = decl.forced
        if force is not None and force.manual_inspection is not None:
            manual = force.manual_inspection
        if manual and self._manual is not None:
            return self._start_manual(decl)
        return self._inspected(decl)

    def _manual_done(self, decl: Declaration, waited: float) -> None:
        assert self._manual is not None
        self._record(self._manual, decl, waited)
        self._inspected(decl)

    def _inspected(self, decl: Declaration) -> None:
        self._emit(decl, _S.INSPECTION, _M.INSPECTION_END)
        force = decl.forced
        if force is not None and force.detention is not None:
            self._emit(decl, force.detention, _M.DETENTION)
            return self._finish(decl)
        if force is not None and force.return_goods:
            self._emit(decl, _S.RETURNED, _M.RETURN)
            return self._finish(decl)
        profile = decl.flow.risk[decl.credit]
        assert profile is not None
        if profile.detain or profile.return_goods:
            u = self.uniform()
            if u < profile.detain:
                detention = decl.flow.detention[decl.credit]
                assert detention is not None
                codes, pick = detention
                self._emit(decl, codes[int(pick())], _M.DETENTION)
                return self._finish(decl)
            if u < profile.detain + profile.return_goods:
                self._emit(decl, _S.RETURNED, _M.RETURN)
                return self._finish(decl)
        return self._ready_for_release(decl)

    def _goods_arrived(self, event: simpy.Event) -> None:
        decl = cast(Declaration, event.value)
        decl.goods_here = True
        if decl.id not in self.live:  # rejected or detained meanwhile
            return
        self._emit(decl, decl.status, _M.ARRIVAL)
        if decl.decided:
            self._go_release(decl)

    def _ready_for_release(self, decl: Declaration) -> None:
        # Export release waits for the goods' arrival (运抵).
        decl.decided = True
        if not decl.goods_here:  # observed run: _goods_arrived will release it
            return
        wait = decl.goods_at - self.env.now
        if wait > 0:  # quiet run: wake up when the goods arrive
            simpy.Timeout(self.env, wait, decl).callbacks.append(self._go_release_event)
        elif self._release is not None:
            self._enter(self._release, decl, self._release_done)
        else:
            self._released(decl)

    def _go_release_event(self, event: simpy.Event) -> None:
        self._go_release(cast(Declaration, event.value))

    def _go_release(self, decl: Declaration) -> None:
        if self._release is not None:
            self._enter(self._release, decl, self._release_done)
        else:
            self._released(decl)

    def _release_done(self, decl: Declaration, waited: float) -> None:
        assert self._release is not None
        self._record(self._release, decl, waited)
        self._released(decl)

    def _released(self, decl: Declaration) -> None:
        now = self.env.now
        decl.status = _S.RELEASED
        if self.observed:
            self._notify(decl, _M.RELEASE)
        decl.released = now
        self.released_total += 1
        flow = decl.flow
        if decl.lodged >= self.warmup:
            cycle = now - decl.lodged
            flow.cycle.append(cycle)
            flow.to_decision.append(decl.decided_at - decl.lodged)
            flow.decision_to_release.append(now - decl.decided_at)
            if cycle <= self.target and decl.lodged <= self.target_cutoff:
                self.released_in_target += 1
        if flow.corridor is not None and self.uniform() < flow.transit_share:
            flow.corridor.load(decl)
        elif flow.after_release is not None:
            delay = flow.after_release()
            if self.observed:
                event = simpy.Timeout(self.env, delay, decl)
                event.callbacks.append(self._exit_event)
            else:
                # Nothing else in the model waits for an exit, so a quiet run keeps it in a
                # plain heap settled at sampling times and at the end (``settle``) instead of
                # a SimPy event: the event list stays short (hours-long departure delays of
                # thousands of exports would otherwise sit in it).
                heapq.heappush(self._pending_exits, (now + delay, decl.id, decl))
        else:
            self._exit(decl, now)

    def _exit_event(self, event: simpy.Event) -> None:
        self._exit(cast(Declaration, event.value), self.env.now)

    def _exit(self, decl: Declaration, at: float) -> None:
        decl.status = _S.CLOSED
        if self.observed:
            self._notify(decl, _M.EXIT)
        if decl.lodged >= self.warmup:
            decl.flow.end_to_end.append(at - decl.lodged)
        self._finish(decl)

    def settle(self) -> None:
        """Close the quiet run's pending exits that are due by now (see ``_released``)."""
        pending = self._pending_exits
        now = self.env.now
        while pending and pending[0][0] <= now:
            at, _ident, decl = heapq.heappop(pending)
            self._exit(decl, at)

    def _finish(self, decl: Declaration) -> None:
        del self.live[decl.id]
        self.finished[decl.status] = self.finished.get(decl.status, 0) + 1

    # --- hooks for transit -----------------------------------------------------------------

    def emit(
        self,
        decl: Declaration,
        status: ReturnStatus,
        milestone: Milestone,
        info: Mapping[str, Any] = _NO_INFO,
    ) -> None:
        self._emit(decl, status, milestone, info)

    def exit(self, decl: Declaration) -> None:
        self._exit(decl, self.env.now)

    # --- warm-up ---------------------------------------------------------------------------

    def _end_warmup(self, _event: simpy.Event) -> None:
        now = self.env.now
        for pool in self.pools.values():
            pool.busy_level.reset(now)
            pool.capacity_level.reset(now)
        for stage in self._stage_list:
            stage.queue.reset(now)
            stage.pool.busy_level.reset(now)
        for locks in self.lock_pools.values():
            locks.reset(now)
        self.released_total_at_warmup = self.released_total
