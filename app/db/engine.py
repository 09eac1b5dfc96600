"""Engines and sessions: SQLite in WAL mode for one process, PostgreSQL (psycopg 3) for more.

Why synchronous SQLAlchemy: SQLite has no non-blocking driver (aiosqlite is pysqlite on a
background thread per connection), the routes are short transactions, and FastAPI runs plain
``def`` routes in its threadpool. A sync engine is simpler to read and debug, and just as fast
here; the webhook worker is a plain thread with ``httpx.Client``.

SQLite allows a single writer. A transaction that starts as a reader and then writes cannot wait
for the lock (SQLite fails it at once with "database is locked" to avoid a deadlock), so every
transaction that will write takes the lock up front with ``BEGIN IMMEDIATE`` — that is what
``Database.write()`` does; ``busy_timeout`` then makes concurrent writers queue instead of fail.
Readers use ``Database.read()`` and, thanks to WAL, never block or get blocked by the writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

# Execution option that makes the "begin" hook take SQLite's write lock at once.
BEGIN_IMMEDIATE = "danchuang_sqlite_begin_immediate"


def make_engine(url: str, *, busy_timeout_ms: int = 15_000, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True)

    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        # The connection is handed between the threadpool's threads; pysqlite's own check
        # is for code sharing one connection concurrently, which the pool never does.
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (not pysqlite) say when transactions begin: see the "begin" hook.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; fsync at checkpoints
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(BEGIN_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """One engine and the two kinds of session the service uses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        writer = engine.execution_options(**{BEGIN_IMMEDIATE: True}) if self.is_sqlite else engine
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(writer, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, *, busy_timeout_ms: int = 15_000) -> Database:
        return cls(make_engine(url, busy_timeout_ms=busy_timeout_ms))

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; closed (never committed) at the end. Loaded objects stay
        readable after it closes, so routes can return them."""
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite); commits, or rolls back on error."""
        with self._write() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
