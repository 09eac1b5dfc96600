"""A throwaway PostgreSQL schema per test (a plain module: test modules must not import conftest).

Each test gets its own schema on the server named by DANCHUANG_TEST_POSTGRES_URL, reached
through ``search_path``, and the schema is dropped afterwards, so tests never see each other's
rows.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager

import pytest

from app.db.scratch import scratch_schema

POSTGRES_URL = os.environ.get("DANCHUANG_TEST_POSTGRES_URL", "")


def postgres_server() -> str:
    """The test server's URL; skips the test without one."""
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL: set DANCHUANG_TEST_POSTGRES_URL (CI's .ci/run does)")
    return POSTGRES_URL


def throwaway_schema() -> AbstractContextManager[str]:
    """A database URL whose default schema is new and empty; skips the test without a server."""
    return scratch_schema(postgres_server(), "t_")
