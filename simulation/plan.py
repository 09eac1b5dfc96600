"""A run's plan: the scenario as run and the trace flows' arrivals, read once.

    plan = plan_run(scenario, horizon_hours=None)   # ScenarioError for a bad trace file
    plan.scenario      # the scenario with the run's horizon (the one place it is applied)
    plan.traces        # flow name -> ArrivalPlan of each trace flow, cut at that horizon

``simulation.runner.run`` makes the plan once and hands it to every replication (and to the
model: ``ClearanceModel(..., traces=plan.traces)``); ``RunResult.plan`` carries it to the
report, which draws the expected arrivals from it instead of reading the files again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from simulation.arrivals import ArrivalPlan, read_trace, until
from simulation.scenario import Scenario, TraceArrivals


@dataclass(frozen=True)
class RunPlan:
    """What every replication of a run starts from (see the module docstring)."""

    scenario: Scenario
    traces: Mapping[str, ArrivalPlan]


def plan_run(scenario: Scenario, horizon_hours: float | None = None) -> RunPlan:
    """The plan of a run of ``scenario``, with ``horizon_hours`` instead of its own horizon
    if given: the trace files are read here (file I/O), and only here."""
    if horizon_hours is not None:
        scenario = scenario.model_copy(update={"horizon_hours": horizon_hours})
    traces = {
        flow.name: until(
            read_trace(scenario.trace_path(flow.arrivals), flow.arrivals.time_unit),
            scenario.horizon_hours,
        )
        for flow in scenario.flows
        if isinstance(flow.arrivals, TraceArrivals)
    }
    return RunPlan(scenario, traces)
