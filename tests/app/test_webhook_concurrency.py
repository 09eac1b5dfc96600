"""A claimed batch of deliveries is posted side by side (``DANCHUANG_WEBHOOK_CONCURRENCY``), so
that a slow receiver's latency is waited in parallel, and the outcomes are recorded together."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from service_support import T0, PartyFactory, add_receipt, loopback_server, subscribe
from sqlalchemy import select

from app.db.engine import Database
from app.db.models import Delivery, Role
from app.settings import Settings
from app.webhooks import outbox
from app.webhooks.worker import DeliveryWorker

AT_ONCE = 4


@pytest.fixture
def meeting_receiver() -> Iterator[tuple[str, list[int]]]:
    """A receiver that answers 200 only once ``AT_ONCE`` requests are in flight together (a
    barrier: posted one after the other, each would wait alone and get a 503)."""
    barrier = threading.Barrier(AT_ONCE, timeout=10)
    answered: list[int] = []

    def answer(request: BaseHTTPRequestHandler) -> None:
        request.rfile.read(int(request.headers["Content-Length"]))
        try:
            barrier.wait()
            status = 200
        except threading.BrokenBarrierError:
            status = 503
        answered.append(status)
        request.send_response(status)
        request.send_header("Content-Length", "0")
        request.end_headers()

    with loopback_server(answer) as base:
        yield f"{base}/hooks/customs", answered


def test_a_batch_is_posted_side_by_side_and_recorded_together(
    database: Database, make_party: PartyFactory, meeting_receiver: tuple[str, list[int]]
) -> None:
    url, answered = meeting_receiver
    party = make_party("3301960201", Role.EBP)
    subscribe(database, party, url)
    for _ in range(AT_ONCE):
        add_receipt(database, party)
    policy = outbox.BackoffPolicy(base_s=10, cap_s=300, max_attempts=3)
    worker = DeliveryWorker(database, policy=policy, timeout_s=15, lease_s=60,
                            concurrency=AT_ONCE, rng=random.Random(3))  # fmt: skip
    try:
        assert worker.run_once(now=T0) == AT_ONCE
    finally:
        worker.stop()
    assert answered == [200] * AT_ONCE
    with database.read() as session:
        rows = session.scalars(select(Delivery)).all()
    assert len(rows) == AT_ONCE
    assert {row.delivered_at for row in rows} == {T0}  # one recording for the batch
    assert all(row.attempts == 1 and row.last_error is None for row in rows)


def test_the_concurrency_is_a_setting_with_bounds() -> None:
    assert Settings(admin_key="k" * 32).webhook_concurrency == 8
    with pytest.raises(ValueError, match="webhook_concurrency"):
        Settings(admin_key="k" * 32, webhook_concurrency=0)
