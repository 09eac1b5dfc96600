"""benchmarks/floor_driver.py: an UPDATE by key taken over arrays changes, on a real
PostgreSQL, exactly what the same UPDATE row by row changes; anything else is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from postgres_support import throwaway_schema
from script_support import load_script

from app.db.engine import Database

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "floor_driver.py"
BY_KEY = ("UPDATE bills SET state=%(state)s::VARCHAR, due=%(due)s::TIMESTAMP WITH TIME ZONE "
          "WHERE bills.id = %(bills_id)s::BIGINT")  # fmt: skip


def _table(connection: object, rows: int) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("CREATE TABLE bills (id BIGINT PRIMARY KEY, state VARCHAR, due TIMESTAMPTZ)")
    cursor.executemany(
        "INSERT INTO bills VALUES (%s, 'new', NULL)", [(n,) for n in range(1, rows + 1)]
    )


def test_an_update_by_key_over_arrays_changes_what_row_by_row_changes() -> None:
    driver = load_script(SCRIPT, "floor_driver")
    start = datetime(2026, 12, 7, tzinfo=UTC)
    params = [
        {"state": f"s{n}", "due": start + timedelta(hours=n), "bills_id": n} for n in (1, 3, 4)
    ]
    found = []
    for bulk in (False, True):
        with throwaway_schema() as url:
            database = Database.from_url(url)
            connection = database.engine.raw_connection()
            try:
                _table(connection, 5)
                cursor = connection.cursor()
                if bulk:
                    cursor.execute(*driver.bulk_update(BY_KEY, params))
                else:
                    cursor.executemany(BY_KEY, params)
                cursor.execute("SELECT id, state, due FROM bills ORDER BY id")
                found.append(cursor.fetchall())
            finally:
                connection.close()
                database.dispose()
    assert found[0] == found[1]
    assert [state for _, state, _ in found[1]] == ["s1", "new", "s3", "s4", "new"]


@pytest.mark.parametrize(
    "statement",
    [
        # another condition beside the key: not taken over arrays
        BY_KEY + " AND bills.state = %(state_1)s::VARCHAR",
        "DELETE FROM bills WHERE bills.id = %(bills_id)s::BIGINT",
        "UPDATE bills SET state='x' WHERE bills.id = %(bills_id)s::BIGINT",
    ],
)
def test_anything_but_an_update_by_key_is_refused(statement: str) -> None:
    driver = load_script(SCRIPT, "floor_driver")
    with pytest.raises(ValueError, match="not an UPDATE by key"):
        driver.bulk_update(statement, [])
