"""``danchuang samples``: writes valid sets per regime and direction; clear usage errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from declarations import validate_set

runner = CliRunner()


def written(out: Path) -> dict[str, list[Path]]:
    return {d.name: sorted(d.glob("*.xml")) for d in sorted(out.iterdir()) if d.is_dir()}


@pytest.mark.parametrize(
    ("args", "folder", "files"),
    [
        (["9610"], "9610-import-0001", 4),
        (["9610", "--direction", "export"], "9610-export-0001", 4),
        (["1210", "-d", "import"], "1210-import-0001", 4),
        (["1210", "--direction", "export"], "1210-export-0001", 4),
        (["9710"], "9710-export-0001", 3),
        (["9810", "--direction", "export"], "9810-export-0001", 3),
    ],
)
def test_writes_valid_sets(tmp_path: Path, args: list[str], folder: str, files: int) -> None:
    out = tmp_path / "out"
    result = runner.invoke(cli, ["samples", *args, "--out", str(out), "--count", "2"])
    assert result.exit_code == 0, result.output
    assert "wrote 2" in result.output
    sets = written(out)
    assert sorted(sets)[0] == folder and len(sets) == 2
    for paths in sets.values():
        assert len(paths) == files
        report = validate_set([(p.name, p.read_bytes()) for p in paths])
        assert report.valid and report.findings == []


def test_same_seed_writes_the_same_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        result = runner.invoke(
            cli, ["samples", "1210", "--out", str(tmp_path / name), "--seed", "9"]
        )
        assert result.exit_code == 0
    a, b = written(tmp_path / "a"), written(tmp_path / "b")
    assert [p.read_bytes() for ps in a.values() for p in ps] == [
        p.read_bytes() for ps in b.values() for p in ps
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["9999"], "unknown regime '9999'"),
        (["9710", "--direction", "import"], "9710 has no import direction"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(cli, ["samples", *args, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_out_must_be_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = runner.invoke(cli, ["samples", "9610", "--out", str(target)])
    assert result.exit_code == 2 and "not a folder" in result.output
