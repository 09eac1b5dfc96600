"""Shared test fixtures: where the official CEB 202205 reference files are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The official files are never copied into the project. Users may hold their own copy, named by
# DANCHUANG_CEB_REFERENCE_DIR; by default they sit in ../shared beside the checkout (as in CI).
REFERENCE_DIR = Path(
    os.environ.get("DANCHUANG_CEB_REFERENCE_DIR", REPO.parent / "shared/reference/ceb-202205")
)


@pytest.fixture(scope="session")
def official_dir() -> Path:
    """The official 202205 reference folder (xsd/, samples/); skips the test when absent."""
    if not (REFERENCE_DIR / "xsd" / "ceb-import-202205.xsd").is_file():
        pytest.skip(
            f"the official CEB 202205 reference files are not at {REFERENCE_DIR}; "
            "set DANCHUANG_CEB_REFERENCE_DIR to a folder holding xsd/ and samples/"
        )
    return REFERENCE_DIR
