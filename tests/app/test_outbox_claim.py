"""The delivery worker's claim reads the outbox's due index in the order it claims and stops
at its limit (migration 0015): with tens of thousands of deliveries waiting, a plan that
joins and sorts every due row cost PostgreSQL 61 ms a claim, most of its CPU under load."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from outbox_support import receipts_and_hooks
from service_support import statements_run
from sqlalchemy import text, update

from app.db.engine import Database
from app.db.models import Delivery
from app.receipts import queue_deliveries
from app.webhooks import outbox

HOOKS, RECEIPTS = 1000, 3  # many webhooks, as single-record sets have (one a party)


def _outbox(database: Database) -> None:
    """3,000 deliveries; a third delivered, a few given up; the rest due."""
    receipts, hooks = receipts_and_hooks(database, receipts=RECEIPTS, hooks=HOOKS)
    with database.write() as session:
        queue_deliveries(session, [(r, h) for r in receipts for h in hooks])
        now = datetime.now(UTC)
        session.execute(update(Delivery).where(Delivery.id % 3 == 0).values(delivered_at=now))
        session.execute(update(Delivery).where(Delivery.id % 97 == 1).values(failed_at=now))
    with database.write() as session:
        session.execute(text("ANALYZE"))


def _claim_statement(database: Database) -> tuple[str, Any]:
    """The SQL and parameters ``outbox.claim_due`` sends for what is due."""
    with statements_run(database) as seen, database.write() as session:
        later = datetime.now(UTC) + timedelta(seconds=1)
        jobs = outbox.claim_due(session, now=later, lease_s=60, limit=50)
        session.rollback()
    assert len(jobs) == 50
    return next(sql for sql in seen if "FROM deliveries" in sql[0])


def test_the_claim_reads_the_pending_rows_in_order_without_sorting(database: Database) -> None:
    _outbox(database)
    statement, parameters = _claim_statement(database)
    with database.engine.connect() as connection:
        if not database.is_sqlite:
            plan = "\n".join(
                row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            )
            assert "Sort" not in plan, plan
        else:
            plan = "\n".join(
                row[-1]
                for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            )
            assert "TEMP B-TREE" not in plan, plan
    assert "ix_deliveries_due" in plan, plan


def test_the_claims_generic_plan_reads_no_more_deliveries_than_it_claims(
    database: Database,
) -> None:
    """psycopg prepares a statement run five times, and PostgreSQL may then keep one generic
    plan for all parameters: one for a LIMIT parameter counts on a tenth of the table and
    read every delivery (a sequential scan) to join the 50 claimed."""
    if database.is_sqlite:
        pytest.skip("SQLite plans every statement for its values")
    _outbox(database)
    statement, parameters = _claim_statement(database)
    names: list[str] = []

    def numbered(match: re.Match[str]) -> str:
        names.append(match.group(1))
        return f"${len(names)}"

    prepared = re.sub(r"%\((\w+)\)s", numbered, statement)
    with database.engine.connect() as connection:
        connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        connection.exec_driver_sql(f"PREPARE claim AS {prepared}")
        values = ", ".join(f"'{parameters[name].isoformat()}'" for name in names)
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql(f"EXPLAIN EXECUTE claim({values})")
        )
    assert "Seq Scan on deliveries" not in plan and "Sort" not in plan, plan


def test_the_claim_takes_the_earliest_pending_deliveries(database: Database) -> None:
    _outbox(database)
    with database.read() as session:
        pending = session.scalars(
            Delivery.__table__.select()
            .with_only_columns(Delivery.id)
            .where(Delivery.delivered_at.is_(None), Delivery.failed_at.is_(None))
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(50)
        ).all()
    with database.write() as session:
        later = datetime.now(UTC) + timedelta(seconds=1)
        jobs = outbox.claim_due(session, now=later, lease_s=60, limit=50)
    assert sorted(job.delivery_id for job in jobs) == sorted(pending)


def test_counting_the_pending_deliveries_reads_the_index_alone_on_sqlite(
    database: Database,
) -> None:
    """``/metrics`` counts the pending deliveries; SQLite reads a partial index alone only
    when it holds the columns of its condition too (migration 0015)."""
    if not database.is_sqlite:
        pytest.skip("PostgreSQL reads a partial index alone without its condition's columns")
    _outbox(database)
    with statements_run(database) as seen, database.read() as session:
        pending = sum(1 for id_ in range(1, HOOKS * RECEIPTS + 1) if id_ % 3 and id_ % 97 != 1)
        assert outbox.pending_count(session) == pending
    count = seen[-1][0]
    with database.engine.connect() as connection:
        plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {count}")]
    assert any("COVERING INDEX ix_deliveries_due" in step for step in plan), plan
