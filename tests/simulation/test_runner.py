"""Replications: conservation, reproducibility across worker counts, the JSON result."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from simulation.runner import run, run_replication
from simulation.scenario import load_scenario

SITE = Path(__file__).parent / "data" / "small-site.yaml"


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    return load_scenario(SITE)


def test_replication_conserves_and_reports(scenario) -> None:  # type: ignore[no-untyped-def]
    result = run_replication(scenario, 3, horizon_hours=24)
    assert result.conservation_ok
    assert result.arrived == sum(result.finished.values()) + result.in_system
    assert result.events > 2 * result.arrived  # SimPy's event counter is exposed
    k = result.kpis
    for key in (
        "throughput_per_hour",
        "released_within_target",
        "cycle_time.all.p95",
        "cycle_time.regime.9610-import.p99",
        "stage.review.sojourn.p90",
        "stage.review.queue.mean",
        "resource.officers.utilisation",
        "locks.huahu.utilisation",
        "locks.huahu.wait.mean",
        "end_to_end.all.mean",
    ):
        assert key in k, key
    assert 0 <= k["released_within_target"] <= 1
    assert k["cycle_time.all.p50"] <= k["cycle_time.all.p90"] <= k["cycle_time.all.p99"]
    # Series on a regular 30-minute grid from 0 to the end of the run.
    assert result.series_times_h[:3] == [0.0, 0.5, 1.0]
    assert result.series_times_h[-1] == 24.0
    assert len(result.series["queue.review"]) == len(result.series_times_h)
    assert max(result.series["locks_in_use.huahu"]) <= 6
    # throughput series integrates to the number of releases
    released = sum(result.series["throughput_per_hour"]) * 0.5
    assert released == pytest.approx(k["throughput_per_hour"] * 20, rel=0.3)


def test_same_seed_same_result_and_different_seed_differs(scenario) -> None:  # type: ignore[no-untyped-def]
    a = run_replication(scenario, 7, horizon_hours=12)
    b = run_replication(scenario, 7, horizon_hours=12)
    c = run_replication(scenario, 8, horizon_hours=12)
    assert json.dumps(a.kpis) == json.dumps(b.kpis)
    assert a.series == b.series and a.finished == b.finished
    assert json.dumps(a.kpis) != json.dumps(c.kpis)


def test_worker_count_does_not_change_results(scenario) -> None:  # type: ignore[no-untyped-def]
    serial = run(scenario, 3, 42, horizon_hours=12)
    with ProcessPoolExecutor(2) as pool:
        parallel = run(scenario, 3, 42, executor=pool, horizon_hours=12)
    # json.dumps: NaN (a KPI without observations) compares equal to itself as text.
    assert json.dumps([r.kpis for r in serial.replications]) == json.dumps(
        [r.kpis for r in parallel.replications]
    )
    assert _without_wall(serial.to_dict()) == _without_wall(parallel.to_dict())


def _without_wall(document: dict[str, Any]) -> str:
    """The whole result as text, minus the wall-clock times (which always differ)."""
    for replication in document["per_replication"]:
        replication.pop("wall_seconds")
    return json.dumps(document)


def test_run_summary_and_json(scenario) -> None:  # type: ignore[no-untyped-def]
    progress: list[int] = []
    result = run(scenario, 3, 5, horizon_hours=12, progress=lambda done, _n: progress.append(done))
    assert progress == [1, 2, 3]
    estimate = result.kpis["cycle_time.all.mean"]
    means = [r.kpis["cycle_time.all.mean"] for r in result.replications]
    assert estimate.n == 3 and estimate.low < estimate.mean < estimate.high
    assert min(means) <= estimate.mean <= max(means)
    document = json.loads(result.to_json())
    assert document["format"] == "danchuang-simulate" and document["version"] == 1
    assert document["replications"] == 3 and document["conservation_ok"] is True
    assert set(document["kpis"]["throughput_per_hour"]) == {
        "mean",
        "half_width",
        "low",
        "high",
        "std",
        "n",
    }
    series = document["series"]
    assert len(series["times_h"]) == len(series["queue.review"]["mean"])
    assert set(series["queue.review"]) == {"mean", "low", "high"}
    assert len(document["per_replication"]) == 3
    assert document["per_replication"][0]["events"] > 0


def test_replications_must_be_positive(scenario) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="at least 1"):
        run(scenario, 0, 1)


TRACE_SITE = """\
name: trace-site
horizon_hours: 2
resources: {lane: {capacity: 1}}
stages:
  audit: {service: {dist: deterministic, value: 1}}
  machine_check: {resource: lane, service: {dist: deterministic, value: 60}}
risk: {general: {}, aeo: {}}
flows:
  - name: replayed
    channel: express
    arrivals: {kind: trace, file: arrivals.csv, time_unit: min}
    rule_hits: [{name: sensitive_goods, probability: 0, manual: false}]
"""


def test_trace_flow_replays_times_counts_and_attributes(tmp_path: Path) -> None:
    (tmp_path / "arrivals.csv").write_text(
        "time,credit_class,rule_hit,count\n0,general,,2\n1,aeo,sensitive_goods,1\n"
        "1,general,sensitive_goods,3\n200,general,,1\n"
    )
    (tmp_path / "site.yaml").write_text(TRACE_SITE)
    scenario = load_scenario(tmp_path / "site.yaml")
    result = run_replication(scenario, 1)
    assert result.arrived == 6  # the row at 200 min is beyond the 2 h horizon
    k = result.kpis
    assert k["share.inspection"] == pytest.approx(4 / 6)  # rule hits named in the trace
    assert k["stage.machine_check.served"] == 4
    # One lane, 60 s each, all four arrive at 61 s: AEO first, then the three general ones.
    assert k["stage.machine_check.wait.aeo.mean"] == 0
    assert k["stage.machine_check.wait.general.mean"] == pytest.approx((60 + 120 + 180) / 3)


def test_drain_lets_the_backlog_finish(scenario) -> None:  # type: ignore[no-untyped-def]
    without = run_replication(scenario, 2, horizon_hours=12)
    drained = run_replication(scenario.model_copy(update={"drain_hours": 24}), 2, horizon_hours=12)
    assert drained.arrived == without.arrived
    assert drained.in_system < without.in_system
    assert drained.conservation_ok and without.conservation_ok
