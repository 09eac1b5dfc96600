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

from simulation.arrivals import ArrivalPlan, until
from simulation.scenario import Scenario, trace_plans


@dataclass(frozen=True)
class RunPlan:
    """What every replication of a run starts from (see the module docstring)."""

    scenario: Scenario
    traces: Mapping[str, ArrivalPlan]


def plan_run(scenario: Scenario, horizon_hours: float | None = None) -> RunPlan:
    """The plan of a run of ``scenario``, with ``horizon_hours`` instead of its own horizon
    if given. The trace files are those ``load_scenario`` read and kept (``trace_plans``); a
    scenario built otherwise, or a variant naming another file, has them read here."""
    read = trace_plans(scenario)
    horizon = scenario.horizon_hours if horizon_hours is None else horizon_hours
    as_run = scenario.model_copy(update={"horizon_hours": horizon})
    as_run._traces = {}  # the plan carries its arrivals: the whole files need not travel too
    return RunPlan(as_run, {name: until(plan, horizon) for name, plan in read.items()})
