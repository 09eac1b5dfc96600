"""The ingest benchmark's own helpers (the benchmark itself drives a real server: run it by hand,
see docs/live-clearance.md)."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import pytest
from script_support import load_script

from declarations.messages import Direction, Regime

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "ingest.py"


@pytest.fixture(scope="module")
def ingest() -> ModuleType:
    return load_script(SCRIPT, "ingest_benchmark")


def test_every_party_is_registered_with_every_role_it_plays(ingest: ModuleType) -> None:
    # Seed 1's 200 sets hold a carrier that is also a declarant (a 403 before the fix).
    sets = ingest.build_sets(200, seed=1)
    roles = ingest.parties(sets)
    for sample in sets:
        for kind, code in ingest.senders(sample).items():
            assert ingest.ROLE_OF[kind] in roles[code]
    assert any(len(r) > 1 for r in roles.values())
    # The four flows of the mix are all there, four POSTs (or three) a set.
    assert {(s.deal.regime, s.deal.direction) for s in sets} >= {
        (Regime.DIRECT, Direction.IMPORT),
        (Regime.DIRECT, Direction.EXPORT),
    }
    assert all(3 <= len(ingest.as_submission(s).documents) <= 4 for s in sets)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")
def test_cpu_seconds_counts_this_process(ingest: ModuleType) -> None:
    before = ingest.cpu_seconds(os.getpid())
    sum(i * i for i in range(2_000_000))  # burn a little CPU
    after = ingest.cpu_seconds(os.getpid())
    assert before is not None and after is not None and after > before
    assert ingest.cpu_seconds(None) is None
