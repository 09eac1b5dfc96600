"""Many rows written through the database driver: for the hot path's widest INSERTs.

SQLAlchemy turns every row of an ``executemany`` into bound parameters one column at a time,
calling each column's bind processor (a timestamp becomes SQLite's text, one call a row). For
the webhook outbox, about 44 rows a declaration set, that per-row work cost three times what
the driver spent writing the rows (docs/performance.md, "Where the time goes"). ``insert_many``
hands the driver the rows as they are: the values that vary from row to row must be ones the
driver takes as given (integers, text: their columns have no bind processor, checked), and the
values every row shares (``same``) are processed once, by their columns' own types, so they
are stored exactly as SQLAlchemy would have stored them.

On PostgreSQL the rows go in as one statement over arrays, a column each (``INSERT … SELECT …
FROM unnest(…)``): an ``executemany`` is still a statement a row for the server, and the
arrays cost the server about a quarter and this process a sixth of that (4,400 outbox rows at
a time, 12-06). SQLite's ``executemany`` is already one prepared statement stepped a row at a
time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

__all__ = ["insert_many"]


def insert_many(
    session: Session,
    table: Table,
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    same: Mapping[str, Any],
) -> None:
    """INSERT ``rows`` (values of ``names``, in that order) into ``table``, each row also
    given ``same``, in this session's transaction with one driver ``executemany``."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    shared = tuple(_processed(table, name, value, dialect) for name, value in same.items())
    sql = _statement(table, tuple(names), tuple(same), dialect)
    if dialect.name == "postgresql":
        columns = (list(column) for column in zip(*rows, strict=True))
        connection.exec_driver_sql(sql, (*shared, *columns))
    else:
        connection.exec_driver_sql(sql, [(*row, *shared) for row in rows])


def _processed(table: Table, name: str, value: Any, dialect: Dialect) -> Any:
    process = _processor(table, name, dialect)
    return process(value) if process is not None else value


def _processor(table: Table, name: str, dialect: Dialect) -> Any:
    """What SQLAlchemy calls on a value of the column for this dialect (None: nothing)."""
    return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)


@cache
def _statement(
    table: Table, varying: tuple[str, ...], same: tuple[str, ...], dialect: Dialect
) -> str:
    for name in varying:
        if _processor(table, name, dialect) is not None:
            raise ValueError(f"{table.name}.{name} needs its type's processing: pass it in same")
    columns = ", ".join((*varying, *same))
    if dialect.name == "postgresql":
        arrays = ", ".join(f"%s::{table.c[name].type.compile(dialect)}[]" for name in varying)
        names = ", ".join(f"v{i}" for i in range(len(varying)))
        values = ", ".join((names, *("%s" for _ in same)))
        return (
            f"INSERT INTO {table.name} ({columns}) "
            f"SELECT {values} FROM unnest({arrays}) AS given({names})"
        )
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    return (
        f"INSERT INTO {table.name} ({columns}) "
        f"VALUES ({', '.join(marker for _ in (*varying, *same))})"
    )
