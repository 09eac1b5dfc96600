"""benchmarks/engine_floor.py runs end to end, briefly, on SQLite and (when configured)
PostgreSQL: the engine clears every declaration, and the rows its floor writes through the
driver are the rows the engine wrote (the script stops with an error otherwise). Its numbers
are never asserted: the machines are shared (docs/performance.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from postgres_support import postgres_server
from script_support import run_script

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "engine_floor.py"


def _run(*more: str) -> str:
    return run_script(SCRIPT, "--declarations", "8", "--tick", "3", *more, timeout=600)


def _each_part_printed(out: str) -> None:
    for line in (
        "1. the engine as it is",
        "rows inserted into receipts",
        "signed messages",
        "(a) the model alone",
        "(b) the signatures",
        "(c) the rows through the driver",
        "engine raw floor (a)+(b)+(c)",
        "a set's raw floor",
    ):
        assert line in out
    # Every row the engine updated was found again when its UPDATEs were replayed.
    updated = re.search(r"([\d.]+) rows updated \(([\d.]+) changed\)", out)
    assert updated is not None
    named, changed = updated.groups()
    assert float(named) > 0 and named == changed


@pytest.mark.slow
def test_a_short_run_on_sqlite() -> None:
    out = _run()
    assert "SQLite" in out
    _each_part_printed(out)


@pytest.mark.slow
def test_a_short_run_on_postgresql() -> None:
    out = _run("--postgres", postgres_server())
    assert "PostgreSQL" in out
    _each_part_printed(out)
    # The rows go in row by row and set-oriented (which must change the same rows).
    assert "set-oriented (COPY, UPDATE over arrays)" in out
