"""A throwaway PostgreSQL schema per test (a plain module: test modules must not import conftest).

Each test gets its own schema on the server named by DANCHUANG_TEST_POSTGRES_URL, reached
through ``search_path``, and the schema is dropped afterwards, so tests never see each other's
rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("DANCHUANG_TEST_POSTGRES_URL", "")


@contextmanager
def throwaway_schema() -> Iterator[str]:
    """A database URL whose default schema is new and empty; skips the test without a server."""
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL: set DANCHUANG_TEST_POSTGRES_URL (CI's .ci/run does)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
