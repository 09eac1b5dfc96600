"""``danchuang simulate``: summary table, JSON file, clear errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli

SITE = Path(__file__).parent / "data" / "small-site.yaml"
REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_simulate_prints_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    result = runner.invoke(
        cli,
        ["simulate", str(SITE), "--replications", "2", "--seed", "3", "--horizon", "12",
         "--workers", "1", "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "small-site: 2 replications, seed 3" in result.stdout
    assert "throughput_per_hour" in result.stdout
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["scenario"] == "small-site" and document["replications"] == 2
    assert document["series"]["times_h"][-1] == 12.0


def test_bad_scenario_exits_2_with_file_line_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SITE.read_text(encoding="utf-8").replace("size: 6", "size: 0"))
    result = runner.invoke(cli, ["simulate", str(bad)])
    assert result.exit_code == 2
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if "size: 0" in text)
    assert f"{bad}:{line}: lock_pools.huahu.size:" in result.stderr
    assert "Traceback" not in result.output


def test_missing_scenario_exits_2() -> None:
    result = runner.invoke(cli, ["simulate", "no-such-site"])
    assert result.exit_code == 2
    assert "no scenario file 'no-such-site'" in result.stderr


def test_a_near_miss_suggests_the_shipped_scenario_and_lists_them() -> None:
    for typed, meant in (("ezhou", "ezhou-huahu"), ("alashnkou", "alashankou")):
        result = runner.invoke(cli, ["simulate", typed])
        assert result.exit_code == 2
        assert f"no scenario file {typed!r}" in result.stderr
        assert f"Did you mean {meant!r}?" in result.stderr
        assert "huzhou-export-park" in result.stderr and "yueyang-chenglingji" in result.stderr


def test_simulate_says_what_it_wrote(tmp_path: Path) -> None:
    out, report = tmp_path / "result.json", tmp_path / "report.html"
    result = runner.invoke(
        cli,
        ["simulate", str(SITE), "--replications", "2", "--horizon", "8", "--workers", "1",
         "--json", str(out), "--report", str(report)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stdout.splitlines()
    assert f"wrote {report}" in result.stdout.splitlines()
    assert out.is_file() and report.is_file()


def test_schema_option_prints_json_schema() -> None:
    result = runner.invoke(cli, ["simulate", "--schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "danchuang clearance scenario"


@pytest.mark.slow
def test_real_process_with_two_workers(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "danchuang"), "simulate", str(SITE),
         "-n", "2", "-w", "2", "--horizon", "6", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert json.loads(out.read_text())["conservation_ok"] is True
