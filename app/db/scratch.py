"""A throwaway PostgreSQL schema: tests and benchmarks run each on a fresh, empty schema of one
server, so that runs never see each other's rows and leave nothing behind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def scratch_schema(server_url: str, prefix: str) -> Iterator[str]:
    """A URL of ``server_url`` whose default schema (``prefix`` + a random suffix) is new and
    empty; the schema is dropped with everything in it afterwards."""
    schema = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
