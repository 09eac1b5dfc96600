"""benchmarks/write_floor.py builds what it measures faithfully and runs end to end, briefly, on
SQLite and (when configured) PostgreSQL. Its numbers are never asserted: the machines are
shared (docs/performance.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from postgres_support import postgres_server
from script_support import load_script, run_script

from declarations import BY_ROOT, Kind

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "write_floor.py"


def test_each_chunk_is_four_messages_of_one_record_per_set() -> None:
    floor = load_script(SCRIPT, "write_floor_benchmark")
    sets = floor.shared_sets(5, seed=2)
    work = floor.messages(sets, 2)  # chunks of 2, 2 and 1 sets
    assert [kind for kind, _ in work] == [
        Kind.ORDER,
        Kind.PAYMENT,
        Kind.WAYBILL,
        Kind.INVENTORY,
    ] * 3
    sizes = []
    for _, data in work:
        root = etree.fromstring(data)
        record = BY_ROOT[etree.QName(root).localname].record
        sizes.append(len(root.findall(f"{{{etree.QName(root).namespace}}}{record}")))
    assert sizes == [2] * 4 + [2] * 4 + [1] * 4
    # Every set keeps its own parties' codes: one sender per kind for all of them.
    assert len({s.deal.seller.code for s in sets}) == 1


def _run(*more: str) -> str:
    return run_script(SCRIPT, "--sets", "6", "--batch", "3", *more)


@pytest.mark.slow
def test_a_short_run_prints_each_cost_and_the_ratio() -> None:
    out = _run()
    for line in (
        "validation, each record alone",
        "validation, whole messages",
        "intake",
        "bare write",
        "floor: least validation + bare write",
        "intake / floor",
    ):
        assert line in out
    assert "SQLite" in out


@pytest.mark.slow
def test_a_short_run_on_postgresql() -> None:
    out = _run("--postgres", postgres_server())
    assert "PostgreSQL" in out and "bare write" in out
    # On PostgreSQL the driver's rows go in both ways; the raw floor takes the cheaper.
    assert "bare write, DB-API" in out and "bare write, COPY" in out
    assert "raw floor: schema only + driver write" in out
