"""A sweep on an in-process Dask cluster gives exactly what the local executor gives."""

from __future__ import annotations

import json
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli
from simulation.paths import find_scenario
from simulation.scenario import load_scenario
from simulation.sweep import (
    GridPoint,
    SweepError,
    apply_overrides,
    build_grid,
    dask_executor,
    parse_vary,
    run_sweep,
)

distributed = pytest.importorskip("distributed")
runner = CliRunner()


def _results(points: list[GridPoint], executor: Executor) -> list[dict[str, Any]]:
    results = run_sweep(points, replications=2, seed=3, executor=executor)
    documents = []
    for r in results:
        document = json.loads(r.result.to_json())
        for replication in document["per_replication"]:
            del replication["wall_seconds"]  # informational: the only thing allowed to differ
        documents.append(document)
    return documents


@pytest.mark.slow  # starts a process pool and an in-process Dask cluster (about 4-6 s)
def test_dask_and_local_processes_agree_exactly() -> None:
    ezhou = apply_overrides(
        load_scenario(find_scenario("ezhou-huahu")), {"horizon_hours": 3, "drain_hours": 0.5}
    )
    points = build_grid(ezhou, [parse_vary("resources.xray_lanes.capacity=1,4")])
    with ProcessPoolExecutor(2) as pool:
        local = _results(points, pool)
    # Threads in this process: scheduler, two workers and the client in one event loop.
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1) as client:
        on_dask = _results(points, client.get_executor(pure=False))
    assert on_dask == local
    assert local[0]["kpis"] != local[1]["kpis"]  # the two points really differ


def test_unreachable_scheduler_is_a_clear_error() -> None:
    expected = r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"
    with pytest.raises(SweepError, match=expected), dask_executor("127.0.0.1:9", timeout_s=0.5):
        pass


@pytest.mark.slow  # an in-process Dask cluster plus two small sweeps (about 5 s)
def test_cli_sweep_on_a_named_scheduler_matches_local(tmp_path: Path) -> None:
    from test_sweep import SITE  # noqa: PLC0415  # tests/ is not a package

    site = tmp_path / "site.yaml"
    site.write_text(SITE, encoding="utf-8")
    args = ["sweep", str(site), "--vary", "lock_pools.yard.size=1,2", "-n", "2", "--seed", "4",
            "--kpi", "locks.*"]  # fmt: skip
    local = runner.invoke(cli, [*args, "--workers", "1", "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.output
    with distributed.LocalCluster(processes=False, n_workers=2, threads_per_worker=1) as cluster:
        address = cluster.scheduler_address  # inproc://…: reachable from this process only
        remote = runner.invoke(
            cli, [*args, "--executor", f"dask://{address}", "--out", str(tmp_path / "dask")]
        )
    assert remote.exit_code == 0, remote.output
    for name in ("sweep.csv", "sweep.json"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
