"""The wheel ships the dashboard's templates and static files (no build step at install)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from app.dashboard import templating

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # builds a wheel
def test_the_wheel_carries_templates_and_static_files(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path)]
    subprocess.run([*command, str(REPO)], check=True)
    (wheel,) = tmp_path.glob("danchuang-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("templates", "static"):
        for path in (templating.HERE / folder).iterdir():
            assert f"app/dashboard/{folder}/{path.name}" in names
