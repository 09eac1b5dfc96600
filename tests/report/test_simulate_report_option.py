"""``danchuang simulate --report`` writes the HTML report next to the JSON it summarises."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli

SMALL_SITE = Path(__file__).resolve().parents[1] / "simulation/data/small-site.yaml"


def test_simulate_writes_report_and_json(tmp_path: Path) -> None:
    report, result = tmp_path / "run.html", tmp_path / "run.json"
    outcome = CliRunner().invoke(
        cli,
        [
            "simulate", str(SMALL_SITE), "--replications", "2", "--workers", "1",
            "--json", str(result), "--report", str(report),
        ],
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    assert 'data-plot="' in html
    scenario_name = json.loads(result.read_text(encoding="utf-8"))["scenario"]
    assert str(scenario_name) in html


def test_unwritable_report_is_a_usage_error(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(
        cli,
        [
            "simulate", str(SMALL_SITE), "--replications", "2", "--workers", "1",
            "--report", str(tmp_path / "missing-dir" / "run.html"),
        ],
    )  # fmt: skip
    assert outcome.exit_code == 2
    assert "cannot write" in outcome.output
