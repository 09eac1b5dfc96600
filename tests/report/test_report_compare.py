"""``compare``: a real difference is marked, identical runs are not; the CLI and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.report.compare import CompareError, compare, load_runs, render_comparison
from simulation.runner import run
from simulation.scenario import Scenario
from simulation.sweep import apply_overrides

runner = CliRunner()

# X-ray image review slowed to a minute so that one lane is under real load; four lanes are not.
LOADED = {"stages.machine_check.service.mean": 60}


@pytest.fixture(scope="module")
def variants(ezhou: Scenario, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("compare")
    files = {}
    for lanes in (1, 4):
        scenario = apply_overrides(ezhou, {**LOADED, "resources.xray_lanes.capacity": lanes})
        files[f"lanes{lanes}"] = folder / f"lanes{lanes}.json"
        files[f"lanes{lanes}"].write_text(run(scenario, 3, seed=5).to_json(), encoding="utf-8")
    # The same run again: a second file with identical content.
    files["lanes1-again"] = folder / "lanes1-again.json"
    files["lanes1-again"].write_text(files["lanes1"].read_text(encoding="utf-8"))
    return files


def test_more_xray_lanes_is_a_significant_difference(variants: dict[str, Path]) -> None:
    runs = load_runs([variants["lanes1"], variants["lanes4"]])
    rows = {row.kpi: row for row in compare(runs)}
    for kpi in ("resource.xray_lanes.utilisation", "stage.machine_check.sojourn.mean"):
        cell = rows[kpi].cells[1]
        assert cell.significant and cell.method == "welch", kpi
        assert cell.change is not None and cell.change < -0.5  # more than halved
    # Stages the X-ray lanes do not touch stay the same.
    assert not rows["stage.audit.sojourn.mean"].significant
    assert not rows["arrived_after_warmup"].significant  # same seeds, same arrivals


def test_identical_runs_show_no_difference(variants: dict[str, Path]) -> None:
    runs = load_runs([variants["lanes1"], variants["lanes1-again"]])
    rows = compare(runs)
    assert rows and not any(row.significant for row in rows)
    assert {row.cells[1].change for row in rows if row.cells[1].change is not None} == {0.0}


def test_ci_overlap_is_the_fallback_without_replication_values(
    variants: dict[str, Path], tmp_path: Path
) -> None:
    stripped = []
    for name in ("lanes1", "lanes4"):
        document = json.loads(variants[name].read_text(encoding="utf-8"))
        del document["per_replication"]
        stripped.append(tmp_path / f"{name}.json")
        stripped[-1].write_text(json.dumps(document), encoding="utf-8")
    rows = {row.kpi: row for row in compare(load_runs(stripped))}
    cell = rows["resource.xray_lanes.utilisation"].cells[1]
    assert cell.method == "ci" and cell.significant


def test_html_marks_the_significant_rows(variants: dict[str, Path]) -> None:
    runs = load_runs([variants["lanes1"], variants["lanes4"], variants["lanes1-again"]])
    page = lxml.html.fromstring(render_comparison(runs, compare(runs)))
    row = page.xpath('//tr[@data-kpi="resource.xray_lanes.utilisation"]')[0]
    assert row.get("data-significant") == "true" and "significant" in row.get("class")
    flags = [c.get("data-significant") for c in row.xpath("td[@data-significant]")]
    assert flags == ["true", "false"]  # lanes4 differs from lanes1; lanes1-again does not
    expected = json.loads(variants["lanes4"].read_text())["kpis"]["resource.xray_lanes.utilisation"]
    assert float(row.xpath('td[@data-run="1"]')[0].get("data-value")) == expected["mean"]


def test_cli_compare_table_and_html(variants: dict[str, Path], tmp_path: Path) -> None:
    html = tmp_path / "compare.html"
    result = runner.invoke(
        cli, ["compare", str(variants["lanes1"]), str(variants["lanes4"]), "--html", str(html)]
    )
    assert result.exit_code == 0, result.output
    assert "lanes1 (baseline)" in result.stdout
    line = next(x for x in result.stdout.splitlines() if "resource.xray_lanes.utilisati" in x)
    assert "*" in line
    assert html.read_text(encoding="utf-8").count('class="significant"') >= 2


def test_cli_compare_errors_exit_2(variants: dict[str, Path], tmp_path: Path) -> None:
    one = runner.invoke(cli, ["compare", str(variants["lanes1"])])
    assert one.exit_code == 2 and "at least two" in one.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "danchuang-simulate",\n "kpis": [', encoding="utf-8")
    result = runner.invoke(cli, ["compare", str(variants["lanes1"]), str(bad)])
    assert result.exit_code == 2 and f"{bad}:2: not JSON" in result.stderr
    other = tmp_path / "other.json"
    other.write_text('{"format": "danchuang-sweep"}', encoding="utf-8")
    result = runner.invoke(cli, ["compare", str(variants["lanes1"]), str(other)])
    assert result.exit_code == 2 and "not a 'danchuang simulate --json' result" in result.stderr
    missing = runner.invoke(cli, ["compare", str(variants["lanes1"]), str(tmp_path / "none")])
    assert missing.exit_code == 2 and "cannot read the file" in missing.stderr
    with pytest.raises(CompareError):
        load_runs([other])
