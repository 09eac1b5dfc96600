"""Rows written through the database driver with no SQLAlchemy: the raw floors' writes.

``write_floor.py`` and ``engine_floor.py`` measure the least that any implementation pays to
store what danchuang stores. Their rows go through the driver itself (sqlite3 or psycopg), in
one transaction a message (the intake) or a tick (the engine), into the same schema with its
indexes and foreign keys. Two ways are measured on PostgreSQL, and the floor is the cheaper:

- **statements**: an ``INSERT … RETURNING`` a row where its id is needed, ``executemany`` for
  the rest (the server still runs a statement a row);
- **COPY**: the ids drawn from the tables' sequences in one statement, every table's rows
  streamed in one ``COPY … FROM STDIN``, the stored documents looked up and rows updated by
  key in one statement over arrays (``bulk_update``). On 12-07 this cost the intake a third of
  the statements' CPU, client and server together (docs/performance.md, "What this machine
  allows").

SQLite has no COPY; its ``executemany`` is already one prepared statement stepped a row at a
time.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from app import accounts
from app.db.engine import Database
from benchmarks.ingest_server import postgres_cpu_seconds

__all__ = [
    "RECORDS_PER_SET",
    "Found",
    "Row",
    "Statement",
    "adapted",
    "bulk_update",
    "copy_rows",
    "copy_write_cpu",
    "cpu_of",
    "dbapi_write_cpu",
    "driver_transaction",
    "messages_of",
    "new_sender",
    "runs",
]

RECORDS_PER_SET = 4  # order, payment, waybill and 清单 (issue 15)
Row = tuple[Any, ...]
Statement = str | tuple[str, str]  # SQL, or a COPY's table and columns
Found = list[list[tuple[bytes, Any]]]  # each set's records: (bytes, facts JSON), in order
_RECEIPTS = ((1, 1), (2, 2), (3, 120))  # seq and return status of the three an order gets
_DOCUMENT_COLUMNS = ("id, guid, message_code, direction, raw_xml, facts, ebp_code, order_no, "
                     "sender_id, declaration_id, current, return_status, received_at")  # fmt: skip


def cpu_of(work: Callable[[], None], *, postgres: bool = False) -> float:
    """CPU seconds of ``work``: this process's, and with ``postgres`` the server's beside it."""
    server = postgres_cpu_seconds() if postgres else 0.0
    started = time.process_time()
    work()
    mine = time.process_time() - started
    return mine + (postgres_cpu_seconds() - server if postgres else 0.0)


@contextmanager
def driver_transaction(connection: Any, *, sqlite: bool) -> Iterator[Any]:
    """A cursor of the driver's ``connection`` in one transaction, committed at the end (the
    service's SQLite connections autocommit unless one is open: ``app.db.engine``)."""
    cursor = connection.cursor()
    if sqlite:
        cursor.execute("BEGIN IMMEDIATE")
    yield cursor
    connection.commit()
    cursor.close()


def messages_of(found: Found, batch: int) -> Iterator[tuple[int, list[tuple[bytes, Any]]]]:
    """Each message's records (one place of every set in a chunk of ``batch``), with the
    chunk's first set's index."""
    for start in range(0, len(found), batch):
        chunk = found[start : start + batch]
        for place in range(RECORDS_PER_SET):
            yield start, [one_set[place] for one_set in chunk if place < len(one_set)]


def new_sender(database: Database, code: str) -> int:
    """A new enterprise with no role, to send the floors' rows; its id."""
    with database.write() as session:
        sender = accounts.create_enterprise(session, code=code, name=code, roles=[])
        session.flush()
        return sender.id


def dbapi_write_cpu(database: Database, found: Found, batch: int) -> float:
    """CPU seconds of the intake's rows written with statements: a lookup of the stored
    document a record could replace, an ``INSERT … RETURNING`` a declaration and a document
    (for their ids), one ``executemany`` for the receipts; one transaction a message."""
    mark = "?" if database.is_sqlite else "%s"
    now = datetime.now(UTC)
    held = (f"SELECT id FROM documents WHERE message_code = {mark} AND ebp_code = {mark} "
            f"AND order_no = {mark} AND current")  # fmt: skip
    declaration = ("INSERT INTO declarations (direction, ebp_code, order_no, state, created_at, "
                   f"updated_at) VALUES ('import', {mark}, {mark}, 'incomplete', {mark}, {mark}) "
                   "RETURNING id")  # fmt: skip
    document = ("INSERT INTO documents (guid, message_code, direction, raw_xml, facts, ebp_code, "
                "order_no, sender_id, declaration_id, current, return_status, received_at) "
                f"VALUES ({mark}, 'CEB311', 'import', {mark}, {mark}, {mark}, {mark}, {mark}, "
                f"{mark}, TRUE, 2, {mark}) RETURNING id")  # fmt: skip
    receipt = ("INSERT INTO receipts (declaration_id, document_id, seq, message_code, "
               f"return_status, return_info, created_at) VALUES ({mark}, {mark}, {mark}, "
               f"'CEB312', {mark}, 'bare write', {mark})")  # fmt: skip
    sender_id = new_sender(database, "9999999998")
    connection = database.engine.raw_connection()

    def run() -> None:
        for start, records in messages_of(found, batch):
            with driver_transaction(connection, sqlite=database.is_sqlite) as cursor:
                receipts = []
                for data, facts in records:
                    ebp, order = f"D{start}", str(uuid.uuid4())
                    cursor.execute(held, ("CEB311", ebp, order))
                    cursor.fetchall()
                    cursor.execute(declaration, (ebp, order, now, now))
                    made = _returned(cursor)
                    values = (str(uuid.uuid4()), data, json.dumps(facts), ebp, order,
                              sender_id, made, now)  # fmt: skip
                    cursor.execute(document, values)
                    stored = _returned(cursor)
                    receipts += [(made, stored, seq, status, now) for seq, status in _RECEIPTS]
                cursor.executemany(receipt, receipts)

    try:
        return cpu_of(run, postgres=not database.is_sqlite)
    finally:
        connection.close()


def copy_write_cpu(database: Database, found: Found, batch: int) -> float:
    """CPU seconds of the same rows written with COPY (PostgreSQL): the stored documents the
    message's records could replace looked up in one statement over arrays, the declarations'
    and documents' ids drawn from their sequences in one more, then one COPY a table; one
    transaction a message."""
    held = ("SELECT d.id FROM documents d JOIN unnest(%s::text[], %s::text[]) AS k(ebp, ord) "
            "ON d.ebp_code = k.ebp AND d.order_no = k.ord "
            "WHERE d.message_code = 'CEB311' AND d.current")  # fmt: skip
    ids = (
        "SELECT nextval(pg_get_serial_sequence('declarations', 'id')), "
        "nextval(pg_get_serial_sequence('documents', 'id')) FROM generate_series(1, %s)"
    )
    now = datetime.now(UTC)
    sender_id = new_sender(database, "9999999997")
    connection = database.engine.raw_connection()

    def run() -> None:
        for start, records in messages_of(found, batch):
            keys = [(f"C{start}", str(uuid.uuid4())) for _ in records]
            with driver_transaction(connection, sqlite=False) as cursor:
                cursor.execute(held, ([e for e, _ in keys], [o for _, o in keys]))
                cursor.fetchall()
                cursor.execute(ids, (len(records),))
                drawn = cursor.fetchall()
                copy_rows(cursor, "declarations",
                          "id, direction, ebp_code, order_no, state, created_at, updated_at",
                          [(d, "import", e, o, "incomplete", now, now)
                           for (d, _), (e, o) in zip(drawn, keys, strict=True)])  # fmt: skip
                copy_rows(cursor, "documents", _DOCUMENT_COLUMNS,
                          [(doc, str(uuid.uuid4()), "CEB311", "import", data, json.dumps(facts),
                            e, o, sender_id, d, True, 2, now)
                           for (d, doc), (e, o), (data, facts)
                           in zip(drawn, keys, records, strict=True)])  # fmt: skip
                copy_rows(cursor, "receipts", "declaration_id, document_id, seq, message_code, "
                          "return_status, return_info, created_at",
                          [(d, doc, seq, "CEB312", status, "bare write", now)
                           for d, doc in drawn for seq, status in _RECEIPTS])  # fmt: skip

    try:
        return cpu_of(run, postgres=True)
    finally:
        connection.close()


def copy_rows(cursor: Any, table: str, columns: str, rows: Sequence[Sequence[Any]]) -> None:
    """``rows`` (values of ``columns``, a comma-separated list) into ``table`` by one COPY."""
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


_UPDATE = re.compile(r"UPDATE (\w+) SET (.+) WHERE \1\.(\w+) = %\((\w+)\)s::(\w+)")
_SET = re.compile(r"(\w+)=%\((\w+)\)s::([A-Z ]+)")


def bulk_update(statement: str, rows: Sequence[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """An ``executemany`` of a PostgreSQL UPDATE by key, as SQLAlchemy renders it for psycopg
    (``UPDATE t SET a=%(a)s::TYPE, … WHERE t.id = %(id)s::TYPE``), as one statement over arrays,
    a column each, and its parameters. Any other statement is a ``ValueError``."""
    found = _UPDATE.fullmatch(statement)
    settings = _SET.findall(found.group(2)) if found else []
    if found is None or ", ".join(f"{c}=%({p})s::{t}" for c, p, t in settings) != found.group(2):
        raise ValueError(f"not an UPDATE by key: {statement}")
    table, key, key_name, key_type = found.groups()[0], *found.groups()[2:]
    arrays = [*((p, t) for _, p, t in settings), (key_name, key_type)]
    sql = (f"UPDATE {table} SET {', '.join(f'{c} = v.{p}' for c, p, _ in settings)} "
           f"FROM unnest({', '.join(f'%({p})s::{t}[]' for p, t in arrays)}) "
           f"AS v({', '.join(p for p, _ in arrays)}) "
           f"WHERE {table}.{key} = v.{key_name}")  # fmt: skip
    return sql, {p: [row[p] for row in rows] for p, _ in arrays}


def adapted(postgres: bool, rows: list[Row]) -> list[Row]:
    """psycopg reads JSON as dicts and lists; it writes them wrapped."""
    if not postgres:
        return rows
    from psycopg.types.json import Jsonb  # noqa: PLC0415 (PostgreSQL only)

    return [tuple(Jsonb(v) if isinstance(v, dict | list) else v for v in row) for row in rows]


def runs(steps: list[tuple[Statement, list[Row]]]) -> Iterator[tuple[Statement, list[Row]]]:
    """Consecutive steps of one statement as one ``executemany`` (or COPY)."""
    sql: Statement = ""
    rows: list[Row] = []
    for statement, more in steps:
        if statement != sql and rows:
            yield sql, rows
            rows = []
        sql = statement
        rows += more
    if rows:
        yield sql, rows


def _returned(cursor: Any) -> int:
    """The id an ``INSERT … RETURNING id`` gave."""
    row = cursor.fetchone()
    if row is None:
        raise SystemExit("an INSERT … RETURNING returned nothing")
    return int(row[0])
