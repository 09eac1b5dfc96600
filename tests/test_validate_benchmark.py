"""benchmarks/validate.py runs end to end, briefly, and reports every measure the issue asks
for; its pairing arithmetic is checked on known times. (Its numbers are never asserted: the
machines are shared, see docs/performance.md.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from script_support import load_script

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "validate.py"


def test_paired_ratios_are_medians_of_the_pairs() -> None:
    paired = load_script(SCRIPT, "validate_benchmark").Paired(
        "run", times=[2.0, 4.0, 1.0, 3.0, 2.0], bare_times=[1.0] * 5
    )
    assert paired.ratios == [0.5, 0.25, 1.0, 1 / 3, 0.5]
    assert paired.vs_bare == 0.5
    assert paired.rate == 1.0  # sets/s of the fastest round
    assert paired.microseconds() == pytest.approx(2e6)


@pytest.mark.slow
def test_a_short_run_prints_every_measure(official_dir: Path) -> None:
    short = ["--seconds", "0.3", "--xmlschema-seconds", "0.3", "--sets", "20", "--block", "5"]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *short, "--stages"],
        env={**os.environ, "DANCHUANG_CEB_REFERENCE_DIR": str(official_dir)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for line in (
        "pipeline validate_set",
        "schema layer only",
        "xmlschema (pure Python)",
        "bare lxml parse + XSD",
        "pipeline / bare lxml",
        "pipeline / xmlschema",
        "pipeline sets/s (1 core)",
        "25x of xmlschema is",
        "the schema layer alone runs at",
        "reconciliation+report",
    ):
        assert line in out, line
