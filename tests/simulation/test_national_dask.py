"""The national day on an in-process Dask cluster gives exactly what local processes give,
and what one process gives."""

from __future__ import annotations

from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli
from simulation.national import run_national
from simulation.national_file import load_national
from simulation.sweep import dask_executor

distributed = pytest.importorskip("distributed")
TINY = Path(__file__).parent / "data" / "national" / "tiny-nation.yaml"
runner = CliRunner()


def _document(executor: Executor | None) -> dict[str, Any]:
    document = run_national(load_national(TINY), executor=executor).to_json_dict()
    # Wall times are informational: the only thing allowed to differ.
    for replication in document["national"]["per_replication"]:
        del replication["wall_seconds"]
    for site in document["sites"]:
        for replication in site["result"]["per_replication"]:
            del replication["wall_seconds"]
    return document


@pytest.mark.slow  # a process pool and an in-process Dask cluster (a few seconds)
def test_dask_and_local_processes_give_the_same_national_day() -> None:
    with ProcessPoolExecutor(2) as pool:
        local = _document(pool)
    cluster = distributed.LocalCluster(processes=False, n_workers=2, threads_per_worker=1)
    with cluster, dask_executor(cluster.scheduler_address) as pool:
        on_dask = _document(pool)
    assert on_dask == local
    assert _document(None) == local
    assert local["national"]["per_replication"][0]["arrived"] > 0


def test_an_unreachable_scheduler_is_a_usage_error() -> None:
    result = runner.invoke(cli, ["national", str(TINY), "--executor", "dask://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "cannot reach the Dask scheduler" in result.stderr
