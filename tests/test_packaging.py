"""The wheel carries the schemas and scenarios, and the locators find them from an install."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(REPO)],
        check=True,
    )
    (built,) = out.glob("danchuang-*.whl")
    return built


@pytest.mark.slow
def test_wheel_contains_schemas_and_scenarios(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("declarations/_data/xsd/common/") for n in names)
    assert any(n.startswith("declarations/_data/xsd/9610/") for n in names)
    assert any(n.startswith("simulation/_data/scenarios/") and n.endswith(".yaml") for n in names)
    assert "app/cli/__init__.py" in names


@pytest.mark.slow
def test_installed_wheel_finds_its_own_data(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import declarations.paths as d, simulation.paths as s;"
        "print(d.xsd_root()); print(s.scenarios_root())"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANCHUANG_")}
    env["PYTHONPATH"] = str(site)  # the unpacked wheel shadows the editable checkout
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    xsd_dir, scenarios_dir = result.stdout.split()
    assert Path(xsd_dir) == site / "declarations/_data/xsd"
    assert Path(scenarios_dir) == site / "simulation/_data/scenarios"
