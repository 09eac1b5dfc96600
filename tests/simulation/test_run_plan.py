"""A run's plan: the horizon applied once, the trace files read once and shared by every
replication and by the report; the model built with everything it needs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import simpy

from app.report import render_report
from app.report.arrivals import expected_arrivals
from simulation.model import ClearanceModel
from simulation.plan import plan_run
from simulation.runner import run, run_counting, run_replication
from simulation.scenario import Scenario, load_scenario
from simulation.sweep import build_grid, parse_vary, run_sweep

SITE = """\
name: traced
horizon_hours: 4
resources:
  server: {capacity: 2}
stages:
  audit: {resource: server, service: {dist: exponential, mean: 1, unit: min}}
flows:
  - name: parcels
    channel: express
    arrivals: {kind: trace, file: trace.csv, time_unit: min}
risk:
  general: {review: 0.2}
"""


def _traced(folder: Path) -> Scenario:
    # 30 epochs a quarter of an hour apart (0 .. 7.25 h): those from 4 h on are past the
    # horizon; two declarations each.
    rows = "".join(f"{15 * i},2\n" for i in range(30))
    (folder / "trace.csv").write_text("time,count\n" + rows)
    (folder / "site.yaml").write_text(SITE)
    return load_scenario(folder / "site.yaml")


def test_the_plan_holds_the_traces_cut_at_the_run_horizon(tmp_path: Path) -> None:
    scenario = _traced(tmp_path)
    plan = plan_run(scenario, horizon_hours=2.0)
    assert plan.scenario.horizon_hours == 2.0 and scenario.horizon_hours == 4
    assert plan.traces["parcels"].total == 2 * 8  # epochs at 0, 15, ..., 105 min
    assert plan_run(scenario).traces["parcels"].total == 2 * 16


def test_replications_and_the_report_use_the_plan_not_the_files(tmp_path: Path) -> None:
    scenario = _traced(tmp_path)
    result = run(scenario, 2, seed=3, horizon_hours=2.0)
    (tmp_path / "trace.csv").unlink()  # nothing after the plan may read it again
    assert all(r.arrived == 16 for r in result.replications)
    assert result.plan is not None
    again = run_replication(result.plan, np.random.SeedSequence(3).spawn(2)[0])
    assert again.kpis == result.replications[0].kpis
    page = render_report(result, scenario)
    assert 'data-plot="throughput"' in page
    edges, expected = expected_arrivals(result.plan)
    assert list(edges) == [0.0, 1.0, 2.0] and list(expected) == [8.0, 8.0]


def test_a_plan_has_its_horizon(tmp_path: Path) -> None:
    plan = plan_run(_traced(tmp_path))
    with pytest.raises(ValueError, match="has its horizon"):
        run_replication(plan, 1, horizon_hours=1.0)


def test_the_model_takes_its_traces_and_target_cutoff_when_built(tmp_path: Path) -> None:
    plan = plan_run(_traced(tmp_path))
    env = simpy.Environment()
    model = ClearanceModel(
        env, plan.scenario, np.random.default_rng(1), traces=plan.traces, target_cutoff=3600.0
    )
    assert model.start() == 32
    env.run(until=5 * 3600.0)
    # Only declarations lodged by the cutoff count: epochs 0, 15, ..., 60 min, two each.
    assert model.target_eligible == 10


def test_the_event_count_is_the_events_simpy_processed(tmp_path: Path) -> None:
    """``events`` counts the events processed before the stop (the test reads SimPy's private
    counter and queue as the oracle; the runner does not), and stopping this way runs the same
    events as SimPy's ``run(until=...)``."""
    plan = plan_run(_traced(tmp_path))
    env = simpy.Environment()
    stop = env.timeout(6 * 3600.0)
    model = ClearanceModel(env, plan.scenario, np.random.default_rng(1), traces=plan.traces)
    model.start()
    events = run_counting(env, stop)
    assert events >= 16 + 32  # an event per epoch and per audit at least
    assert events == next(env._eid) - 1 - len(env._queue)  # scheduled, less the stop, less pending
    same = simpy.Environment()
    twin = ClearanceModel(same, plan.scenario, np.random.default_rng(1), traces=plan.traces)
    twin.start()
    same.run(until=6 * 3600.0)
    assert (same.now, twin.released_total, twin.arrived) == (
        env.now,
        model.released_total,
        model.arrived,
    )


def test_a_sweep_plans_each_point_once_and_reports_on_the_plan(tmp_path: Path) -> None:
    scenario = _traced(tmp_path)
    points = build_grid(scenario, [parse_vary("resources.server.capacity=1,2")])
    results = run_sweep(points, 2, seed=5)
    assert [r.result.plan is not None for r in results] == [True, True]
    (tmp_path / "trace.csv").unlink()  # the reports read the plans, not the files
    for point_result in results:
        assert point_result.result.plan is not None
        assert point_result.result.plan.traces["parcels"].total == 2 * 16
        assert 'data-plot="throughput"' in render_report(point_result.result, scenario)


def test_a_loaded_scenario_reads_each_trace_file_once(tmp_path: Path) -> None:
    """Loading checks the trace files and keeps what it read: the run, a run with another
    horizon and every sweep point plan from it, without the files."""
    scenario = _traced(tmp_path)
    (tmp_path / "trace.csv").unlink()
    assert run(scenario, 1, seed=3, horizon_hours=2.0).replications[0].arrived == 16
    grid = build_grid(scenario, [parse_vary("resources.server.capacity=1,3")])
    results = run_sweep(grid, 1, seed=1)
    assert [r.result.replications[0].arrived for r in results] == [32, 32]
