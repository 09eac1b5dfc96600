"""``danchuang sweep`` through the CLI: output files, the plot page, and exit 2 on bad input."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import lxml.html
import pytest
from typer.testing import CliRunner

from app.cli import cli

runner = CliRunner()


@pytest.fixture(scope="module")
def site_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from test_sweep import SITE as TEXT  # noqa: PLC0415  # tests/ is not a package

    path = tmp_path_factory.mktemp("site") / "sweep-site.yaml"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_sweep_writes_tables_points_and_plots(site_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        cli,
        ["sweep", str(site_file), "--vary", "resources.xray.capacity=1,2",
         "--vary", "lock_pools.yard.size=1,3", "-n", "2", "--seed", "9", "--workers", "1",
         "--out", str(out), "--kpi", "stage.machine_check.wait.mean", "--kpi", "locks.*.wait.mean"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Sweep: mean ± 95 % CI half-width per grid point" in result.stdout
    document = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    assert document["parameters"] == ["resources.xray.capacity", "lock_pools.yard.size"]
    assert [p["values"] for p in document["points"]] == [
        {"resources.xray.capacity": x, "lock_pools.yard.size": y} for x in (1, 2) for y in (1, 3)
    ]
    # Every KPI of every point is in the CSV, with the numbers of the point's own result file.
    with (out / "sweep.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for point in document["points"]:
        full = json.loads((out / point["file"]).read_text(encoding="utf-8"))
        assert full["format"] == "danchuang-simulate" and full["seed"] == 9
        mine = {r["kpi"]: r for r in rows if r["point"] == str(point["index"])}
        assert set(mine) == set(full["kpis"])
        for kpi, estimate in full["kpis"].items():
            written = mine[kpi]["mean"]
            assert (float(written) if written else None) == estimate["mean"]
    # More X-ray lanes, less waiting (same seeds at every point).
    waits = {
        (p["values"]["resources.xray.capacity"], p["values"]["lock_pools.yard.size"]):
            p["kpis"]["stage.machine_check.wait.mean"]["mean"]
        for p in document["points"]
    }  # fmt: skip
    assert waits[2, 1] < waits[1, 1]
    page_text = (out / "sweep.html").read_text(encoding="utf-8")
    page = lxml.html.fromstring(page_text)
    plotted = [f.get("data-plot") for f in page.xpath("//figure[@data-plot]")]
    assert plotted == ["kpi:locks.yard.wait.mean", "kpi:stage.machine_check.wait.mean"]
    assert len(page.xpath('//figure[@data-plot]//*[local-name()="svg"]')) == len(plotted)
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//|<script|@import", page_text)
    assert len(page.xpath('//table[@id="grid"]//tr[@data-point]')) == 4


def test_points_can_be_compared(site_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["sweep", str(site_file), "--vary", "resources.xray.capacity=1,3", "-n", "3",
            "--workers", "1", "--out", str(out), "--kpi", "throughput_per_hour"]  # fmt: skip
    assert runner.invoke(cli, args).exit_code == 0
    result = runner.invoke(
        cli, ["compare", str(out / "points/point-000.json"), str(out / "points/point-001.json")]
    )
    assert result.exit_code == 0, result.output
    assert "point-000 (baseline)" in result.stdout


def test_list_params(site_file: Path) -> None:
    result = runner.invoke(cli, ["sweep", str(site_file), "--list-params"])
    assert result.exit_code == 0
    assert "lock_pools.yard.size" in result.stdout.splitlines()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vary", "locks.pool_size=4,8"], "unknown parameter 'locks.pool_size'"),
        (["--vary", "resources.xray.capacity"], "expected NAME=V1,V2,..."),
        (["--vary", "resources.xray.capacity=-1"], "makes an invalid scenario"),
        ([], "give at least one --vary"),
        (["--vary", "lock_pools.yard.size=2", "--executor", "ray"], "expected 'local' or 'dask://"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    site_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(cli, ["sweep", str(site_file), "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_unknown_path_error_lists_valid_paths(site_file: Path) -> None:
    result = runner.invoke(cli, ["sweep", str(site_file), "--vary", "locks.pool_size=4"])
    assert result.exit_code == 2
    assert "did you mean lock_pools.yard.size" in result.stderr
    assert "valid parameters here:" in result.stderr and "lock_pools.*" in result.stderr


def test_missing_scenario_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["sweep", str(tmp_path / "nope.yaml"), "--vary", "x=1"])
    assert result.exit_code == 2 and "nope.yaml" in result.stderr


def _table_rows(stdout: str) -> list[list[str]]:
    """The body rows of the terminal table, cell by cell."""
    return [
        [cell.strip() for cell in line.strip("│ ").split("│")]
        for line in stdout.splitlines()
        if line.startswith("│")
    ]


def test_the_table_shows_the_kpis_that_differ_between_the_points(
    site_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        cli,
        ["sweep", str(site_file), "--vary", "lock_pools.yard.size=1,6", "-n", "2",
         "--seed", "3", "--workers", "1", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    points = json.loads((out / "sweep.json").read_text(encoding="utf-8"))["points"]
    first, second = (p["kpis"] for p in points)
    # Same seeds at both points: the lock pool changes the lock waits, not the audit.
    assert first["locks.yard.wait.mean"]["mean"] > second["locks.yard.wait.mean"]["mean"]
    assert first["share.review"]["mean"] == second["share.review"]["mean"]
    header = next(line for line in result.stdout.splitlines() if line.startswith("┃"))
    assert "locks.yard.wait.mean" in header
    assert "share.review" not in header and "throughput_per_hour" not in header
    rows = _table_rows(result.stdout)
    assert [row[:2] for row in rows] == [["0", "1"], ["1", "6"]]
    kpi_cells = list(zip(*(row[2:] for row in rows), strict=True))
    assert kpi_cells and all(a != b for a, b in kpi_cells)  # every column tells the points apart
