"""Webhooks that take several receipts a POST (``receipts_per_post``), against a real HTTP
receiver on loopback: what each POST carries and how it is signed, that each element is the
body its receipt would have had alone, and that a failed POST is retried whole. The worker is
driven a round at a time with an explicit ``now``, as in test_service_webhooks.py."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
import structlog
from service_support import SECRET, T0, PartyFactory, Receiver, add_receipt, subscribe
from sqlalchemy import select
from structlog.testing import capture_logs

from app.db.engine import Database
from app.db.models import Delivery, Role
from app.webhooks import outbox, worker
from app.webhooks.signing import verify
from app.webhooks.worker import DeliveryWorker, posts_of


def _worker(db: Database) -> DeliveryWorker:
    policy = outbox.BackoffPolicy(base_s=10, cap_s=300, max_attempts=5)
    return DeliveryWorker(db, policy=policy, lease_s=60, timeout_s=5, rng=random.Random(3))


def _run(db: Database, *nows: timedelta) -> list[int]:
    worker = _worker(db)
    try:
        return [worker.run_once(now=T0 + at) for at in nows]
    finally:
        worker.stop()


def _job(delivery_id: int, webhook_id: int, per_post: int) -> outbox.Job:
    return outbox.Job(
        delivery_id=delivery_id, receipt_id=delivery_id, attempt=1, webhook_id=webhook_id,
        receipts_per_post=per_post, url="http://127.0.0.1:9/hook", secret=SECRET, body=b"{}",
    )  # fmt: skip


def test_claimed_deliveries_are_grouped_by_webhook_up_to_its_receipts_per_post() -> None:
    jobs = [_job(1, 10, 2), _job(2, 20, 1), _job(3, 10, 2), _job(4, 20, 1), _job(5, 10, 2)]
    assert [[job.delivery_id for job in post] for post in posts_of(jobs)] == [
        [1, 3], [2], [4], [5],
    ]  # fmt: skip
    assert posts_of([]) == []


def test_due_receipts_reach_a_batch_webhook_together_signed_once_a_post(
    database: Database,
    make_party: PartyFactory,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    party = make_party("3301960101", Role.EBP)
    subscribe(database, party, receiver.url, receipts_per_post=3)
    receipt_ids = [add_receipt(database, party) for _ in range(7)]

    with capture_logs() as logs:
        # A logger first used here: the module's may be bound to an earlier test's logging.
        monkeypatch.setattr(worker, "log", structlog.get_logger("danchuang.webhooks"))
        assert _run(database, timedelta(0), timedelta(hours=1)) == [7, 0]
    lines = [line for line in logs if line["event"] == "webhook.attempt"]
    assert sorted(len(line["delivery_ids"]) for line in lines) == [1, 3, 3]  # a line a POST
    assert all(line["outcome"] == "delivered" and line["error"] is None for line in lines)

    # The POSTs are made side by side, so they arrive in any order.
    sizes = sorted(len(json.loads(post.body)["deliveries"]) for post in receiver.posts)
    assert sizes == [1, 3, 3]
    delivered: list[list[int]] = []
    for post in receiver.posts:
        assert verify(SECRET, post.headers["x-danchuang-signature"], post.body)
        assert "idempotency-key" not in post.headers  # each element's receipt id is its key
        assert post.headers["x-danchuang-attempt"] == "1"
        payload = json.loads(post.body)
        assert payload["type"] == "batch"
        assert all(element["type"] == "receipt" for element in payload["deliveries"])
        delivered.append([element["receipt"]["id"] for element in payload["deliveries"]])
    # each once, a POST's in the order they came due
    assert sorted(delivered) == [receipt_ids[:3], receipt_ids[3:6], receipt_ids[6:]]
    with database.read() as session:
        rows = session.scalars(select(Delivery)).all()
    assert len(rows) == 7 and all(row.delivered_at == T0 for row in rows)


def test_each_element_is_the_body_its_receipt_has_alone(
    database: Database, make_party: PartyFactory, receiver: Receiver
) -> None:
    party = make_party("3301960101", Role.EBP)
    subscribe(database, party, f"{receiver.base}/alone")
    subscribe(database, party, f"{receiver.base}/together", receipts_per_post=10)
    for _ in range(4):
        add_receipt(database, party)

    _run(database, timedelta(0))

    alone = [post.body for post in receiver.posts if post.path == "/alone"]
    [together] = [post.body for post in receiver.posts if post.path == "/together"]
    assert len(alone) == 4
    by_receipt = sorted(alone, key=lambda body: json.loads(body)["receipt"]["id"])
    assert together == outbox.batch_body(by_receipt)


def test_a_failed_post_fails_each_of_its_deliveries_and_they_are_sent_again(
    database: Database, make_party: PartyFactory, receiver: Receiver
) -> None:
    party = make_party("3301960101", Role.EBP)
    subscribe(database, party, receiver.url, receipts_per_post=5)
    receipt_ids = {add_receipt(database, party) for _ in range(2)}
    receiver.statuses = [500]

    assert _run(database, timedelta(0)) == [2]
    with database.read() as session:
        rows = session.scalars(select(Delivery)).all()
    assert {(row.delivered_at, row.last_error, row.attempts) for row in rows} == {
        (None, "HTTP 500", 1)
    }

    assert _run(database, timedelta(hours=1)) == [2]
    first, second = (json.loads(post.body) for post in receiver.posts)
    assert first == second
    assert {element["receipt"]["id"] for element in second["deliveries"]} == receipt_ids
    assert [post.headers["x-danchuang-attempt"] for post in receiver.posts] == ["1", "2"]
    with database.read() as session:
        rows = session.scalars(select(Delivery)).all()
    assert all(row.delivered_at is not None and row.last_error is None for row in rows)
