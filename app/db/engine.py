"""Engines and sessions: SQLite in WAL mode for one process, PostgreSQL (psycopg 3) for more.

Why synchronous SQLAlchemy: SQLite has no non-blocking driver (aiosqlite is pysqlite on a
background thread per connection), the routes are short transactions, and FastAPI runs plain
``def`` routes in its threadpool. A sync engine is simpler to read and debug, and just as fast
here; the webhook worker is a plain thread posting with urllib3 (``app.webhooks.posting``).

SQLite allows a single writer. A transaction that starts as a reader and then writes cannot wait
for the lock (SQLite fails it at once with "database is locked" to avoid a deadlock), so every
transaction that will write takes the lock up front with ``BEGIN IMMEDIATE`` — that is what
``Database.write()`` does. Readers use ``Database.read()`` and, thanks to WAL, never block or get
blocked by the writer.

Writers of one process queue in ``Database.write()`` on a first-come-first-served lock
(``WriterQueue``) before ``BEGIN IMMEDIATE``: a waiting thread sleeps until the writer before it
hands over. Without it they would all wait in SQLite's busy handler, which polls with growing
sleeps (up to 100 ms), so under load a writer could lose the race again and again (seconds of
tail latency) while the lock sat free between polls. ``busy_timeout`` still applies between
processes (a ``danchuang worker`` beside ``serve``, a CLI command).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

# Execution option that makes the "begin" hook take SQLite's write lock at once.
BEGIN_IMMEDIATE = "danchuang_sqlite_begin_immediate"


# Connections kept open. Every request checks one out at least once, from the threadpool's
# threads (40 by default): with SQLAlchemy's default of 5 (+10 overflow) a busy service opened
# and closed a connection for most requests (on PostgreSQL a new server process each time).
POOL_SIZE = 20
POOL_OVERFLOW = 20


def make_engine(url: str, *, busy_timeout_ms: int = 15_000, echo: bool = False) -> Engine:
    parsed = make_url(url)
    pooling = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True, **pooling)

    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        # The connection is handed between the threadpool's threads; pysqlite's own check
        # is for code sharing one connection concurrently, which the pool never does.
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        **(pooling if database and database != ":memory:" else {}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (not pysqlite) say when transactions begin: see the "begin" hook.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        _enter_wal(cursor, busy_timeout_ms / 1000)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; fsync at checkpoints
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(BEGIN_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _enter_wal(cursor: Any, timeout_s: float) -> None:
    """Switch the database to WAL, waiting for other connections as a write would.

    On a fresh database several processes may open their first connections at once (``serve``
    and ``worker`` both migrate on start). The switch needs the database to itself, and SQLite
    answers "database is locked" at once instead of calling the busy handler, so wait here.
    """
    deadline = time.monotonic() + timeout_s
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


class WriterQueueTimeoutError(TimeoutError):
    """A writer waited longer than the busy timeout for the writers ahead of it."""


def busy(exc: BaseException) -> bool:
    """Whether ``exc`` says the database's writer stayed busy past the busy timeout: this
    process's writers ahead of it (``WriterQueueTimeoutError``), or another process holding
    SQLite's write lock ("database is locked"). Nothing of the transaction was written."""
    if isinstance(exc, WriterQueueTimeoutError):
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


class WriterQueue:
    """A lock handed to waiting threads in the order they came (a plain ``threading.Lock``
    promises no order). Not reentrant: a thread that asks twice is told so."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._owner: int | None = None

    def acquire(self, timeout: float) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                raise RuntimeError("a write transaction inside another one on the same thread")
            if self._owner is None:
                self._owner = me
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if turn.acquire(timeout=timeout if timeout > 0 else -1):
            self._owner = me  # handed over by ``release``
            return
        with self._mutex:
            if turn in self._waiting:  # still waiting: give up the place
                self._waiting.remove(turn)
                raise WriterQueueTimeoutError(
                    f"waited over {timeout:g} s for the database's writer"
                )
        turn.acquire()  # handed over just as the wait ran out: it is ours after all
        self._owner = me

    def release(self) -> None:
        with self._mutex:
            self._owner = None
            if self._waiting:
                self._waiting.popleft().release()  # the next in line holds it from now on
                self._owner = -1  # held, by a thread that has not woken up yet

    @contextmanager
    def turn(self, timeout: float) -> Iterator[None]:
        """Hold the lock for the ``with`` block."""
        self.acquire(timeout)
        try:
            yield
        finally:
            self.release()


class Database:
    """One engine and the two kinds of session the service uses."""

    def __init__(self, engine: Engine, *, busy_timeout_ms: int = 15_000) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        writer = engine.execution_options(**{BEGIN_IMMEDIATE: True}) if self.is_sqlite else engine
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(writer, expire_on_commit=False)
        # SQLite: one writer at a time anyway, so this process's writers queue here, in order.
        self._writers = WriterQueue() if self.is_sqlite else None
        self._busy_timeout_s = busy_timeout_ms / 1000

    @classmethod
    def from_url(cls, url: str, *, busy_timeout_ms: int = 15_000) -> Database:
        return cls(
            make_engine(url, busy_timeout_ms=busy_timeout_ms), busy_timeout_ms=busy_timeout_ms
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; closed (never committed) at the end. Loaded objects stay
        readable after it closes, so routes can return them."""
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite, after this process's writers
        before it); commits, or rolls back on error."""
        turn = self._writers.turn(self._busy_timeout_s) if self._writers else nullcontext()
        with turn, self._write() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


_T = TypeVar("_T")


def transaction_state(session: Session, key: str, make: Callable[[], _T]) -> _T:
    """What the session's current transaction keeps under ``key`` in ``Session.info``: made
    by ``make`` the first time it is asked for, and afresh once a new transaction begins."""
    transaction = session.get_transaction()
    held: tuple[object, _T] | None = session.info.get(key)
    if held is None or held[0] is not transaction:
        held = session.info[key] = (transaction, make())
    return held[1]
