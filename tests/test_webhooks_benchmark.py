"""benchmarks/webhooks.py runs end to end, briefly, on SQLite and (when configured)
PostgreSQL: every queued delivery reaches its loopback receiver and is recorded delivered (the
script stops with an error otherwise), and each part of a delivery's cost is printed. Its
numbers are never asserted: the machines are shared (docs/performance.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from postgres_support import postgres_server
from script_support import run_script

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "webhooks.py"
PARTS = ("claim (query, lease)", "body (JSON)", "sign (HMAC)", "HTTP", "record", "rest")


def _run(*more: str) -> str:
    return run_script(SCRIPT, "--deliveries", "240", "--receivers", "3", *more, timeout=300)


def _each_part_printed(out: str) -> None:
    assert "240 deliveries to 3 receivers" in out
    assert "CPU ms a delivery, this process" in out
    for part in PARTS:
        assert f"\n    {part}" in out


@pytest.mark.slow
def test_a_short_run_on_sqlite() -> None:
    out = _run()
    assert "on SQLite" in out
    _each_part_printed(out)


@pytest.mark.slow
def test_a_short_run_on_postgresql() -> None:
    out = _run("--postgres", postgres_server())
    assert "on PostgreSQL" in out
    _each_part_printed(out)
    assert "the postgres processes" in out


@pytest.mark.slow
def test_the_profile_names_the_functions_that_cost_most() -> None:
    out = _run("--profile")
    _each_part_printed(out)
    assert "Ordered by: internal time" in out
