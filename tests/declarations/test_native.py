"""The compiled build of the hot modules (declarations/_native.py) is used only while it matches
its sources, and can be switched off; a process never runs code older than its sources."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import declarations.pipeline
from declarations import _native

REPO = Path(__file__).resolve().parents[2]
SUFFIX = str(sysconfig.get_config_var("EXT_SUFFIX"))
PROBE = (
    "import declarations, declarations.pipeline as p, declarations.rules._common as c;"
    "from declarations._native import STATE;"
    "print(p.__file__); print(c.__file__); print(STATE.why)"
)

needs_build = pytest.mark.skipif(
    not _native.build_state().compiled,
    reason="no current compiled build in this checkout (make native builds one)",
)


def probe(root: Path, **env: str) -> tuple[str, str, str]:
    """Which files a fresh process imports from ``root``, and why."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DANCHUANG_")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=root,
        env={**clean, "PYTHONPATH": str(root), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    pipeline, common, why = result.stdout.splitlines()
    return pipeline, common, why


def test_this_process_runs_what_the_state_says() -> None:
    expected = SUFFIX if _native.STATE.compiled else ".py"
    assert declarations.pipeline.__file__ is not None
    assert declarations.pipeline.__file__.endswith(expected), _native.STATE.why


def test_switched_off_runs_the_sources() -> None:
    pipeline, common, why = probe(REPO, DANCHUANG_NATIVE="0")
    assert pipeline.endswith("declarations/pipeline.py")
    assert common.endswith("declarations/rules/_common.py")
    assert why == "DANCHUANG_NATIVE=0: running the sources"


@pytest.fixture
def copy_of_build(tmp_path: Path) -> Path:
    """The package with its build, as a checkout holds them, in a folder of its own."""
    shutil.copytree(
        REPO / "declarations",
        tmp_path / "declarations",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for library in REPO.glob(f"danchuang_native__mypyc{SUFFIX}"):
        shutil.copy2(library, tmp_path / library.name)
    return tmp_path


@needs_build
def test_a_current_build_is_used(copy_of_build: Path) -> None:
    pipeline, common, why = probe(copy_of_build)
    assert pipeline == str(copy_of_build / f"declarations/pipeline{SUFFIX}")
    assert common == str(copy_of_build / f"declarations/rules/_common{SUFFIX}")
    assert why.startswith(f"{len(_native.COMPILED)} modules compiled with mypyc ")


@needs_build
def test_an_edited_source_is_never_shadowed_by_the_build(copy_of_build: Path) -> None:
    edited = copy_of_build / "declarations/rules/_common.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    pipeline, common, why = probe(copy_of_build)
    # every compiled module goes back to its source, not only the edited one: the build's
    # modules call each other directly, so half a build is no build
    assert pipeline == str(copy_of_build / "declarations/pipeline.py")
    assert common == str(edited)
    assert why == "declarations/rules/_common.py changed since the build: running the sources"


@needs_build
def test_a_build_missing_a_module_is_not_used(copy_of_build: Path) -> None:
    (copy_of_build / f"declarations/reconcile{SUFFIX}").unlink()
    pipeline, _, why = probe(copy_of_build)
    assert pipeline.endswith("declarations/pipeline.py")
    assert why == f"declarations/reconcile{SUFFIX} is missing from the build: running the sources"


@needs_build
def test_a_build_whose_library_cannot_be_imported_is_not_used(copy_of_build: Path) -> None:
    manifest = copy_of_build / "declarations/_native.json"
    build = json.loads(manifest.read_text(encoding="utf-8"))
    build["library"] = "no_such_library__mypyc"  # as if it lay where this process cannot look
    manifest.write_text(json.dumps(build), encoding="utf-8")
    pipeline, _, why = probe(copy_of_build)
    assert pipeline.endswith("declarations/pipeline.py")
    assert why == "no_such_library__mypyc is not importable: running the sources"
