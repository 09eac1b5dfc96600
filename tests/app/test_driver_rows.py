"""Rows written through the driver (``app.db.driver_rows``) are stored as SQLAlchemy stores
them, on both backends: the webhook outbox is written that way (``receipts.queue_deliveries``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

import pytest
from outbox_support import receipts_and_hooks
from sqlalchemy import Table, insert, select

from app.db.driver_rows import insert_many
from app.db.engine import Database
from app.db.models import Delivery
from app.receipts import queue_deliveries

DELIVERIES = cast(Table, Delivery.__table__)
COLUMNS = [c for c in DELIVERIES.c if c.name not in ("id", "receipt_id")]


def _receipts_and_hook(database: Database) -> tuple[list[int], int]:
    receipts, hooks = receipts_and_hooks(database, receipts=2, hooks=1)
    return receipts, hooks[0]


def test_a_row_through_the_driver_is_the_row_sqlalchemy_writes(database: Database) -> None:
    (through_driver, through_core), hook = _receipts_and_hook(database)
    now = datetime(2026, 12, 6, 14, 30, 5, 123456, tzinfo=UTC)
    same = {"attempts": 0, "next_attempt_at": now, "delivered_at": None, "failed_at": None,
            "last_error": None, "created_at": now}  # fmt: skip
    with database.write() as session:
        insert_many(session, DELIVERIES, ("receipt_id", "webhook_id"), [(through_driver, hook)],
                    same=same)  # fmt: skip
        session.execute(
            insert(DELIVERIES), [same | {"receipt_id": through_core, "webhook_id": hook}]
        )
    with database.read() as session:
        rows = {r.receipt_id: r for r in session.execute(select(DELIVERIES))}
        # the worker's query for what is due compares the stored timestamps
        due = session.scalars(select(Delivery.receipt_id).where(Delivery.next_attempt_at <= now))
        assert sorted(due) == [through_driver, through_core]
    assert [rows[through_driver]._mapping[c.name] for c in COLUMNS] == [
        rows[through_core]._mapping[c.name] for c in COLUMNS
    ]
    assert rows[through_driver].next_attempt_at == now


def test_queued_deliveries_are_due_and_untried(database: Database) -> None:
    receipts, hook = _receipts_and_hook(database)
    with database.write() as session:
        queue_deliveries(session, [(r, hook) for r in receipts])
        queue_deliveries(session, [])  # nothing to queue: no statement
    with database.read() as session:
        rows = session.scalars(select(Delivery).order_by(Delivery.receipt_id)).all()
    assert [(d.receipt_id, d.webhook_id, d.attempts) for d in rows] == [
        (r, hook, 0) for r in receipts
    ]
    assert all(d.delivered_at is None and d.failed_at is None for d in rows)
    assert all(d.next_attempt_at <= datetime.now(UTC) for d in rows)


def test_a_varying_value_its_type_must_process_is_refused(database: Database) -> None:
    with database.write() as session, pytest.raises(ValueError, match="next_attempt_at"):
        varying = ("receipt_id", "next_attempt_at")
        insert_many(session, DELIVERIES, varying, [(1, datetime.now(UTC))], same={})
