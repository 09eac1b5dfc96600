"""Webhooks end to end, against a real HTTP receiver on loopback.

The worker is driven one round at a time with an explicit ``now`` so that retries and backoff
are tested without sleeping; the clock never matters, only the schedule stored in the outbox.
The endpoints that register webhooks are tested in test_webhook_api.py.
"""

from __future__ import annotations

import json
import random
import threading
from datetime import timedelta

import httpx
import pytest
from service_support import (
    SECRET,
    T0,
    PartyFactory,
    Receiver,
    add_receipt,
    run_together,
    subscribe,
)
from sqlalchemy import select

from app.db.engine import Database
from app.db.models import Delivery, Role, Webhook
from app.webhooks import outbox
from app.webhooks.signing import signature_header, verify
from app.webhooks.worker import DeliveryWorker


def _worker(db: Database, *, max_attempts: int = 5, seed: int = 7) -> DeliveryWorker:
    policy = outbox.BackoffPolicy(base_s=10, cap_s=300, max_attempts=max_attempts)
    return DeliveryWorker(db, policy=policy, lease_s=60, timeout_s=5, rng=random.Random(seed))


def _delivery(db: Database) -> Delivery:
    with db.read() as session:
        [row] = session.scalars(select(Delivery)).all()
        return row


def test_a_receipt_is_delivered_signed_with_an_idempotency_key(
    database: Database, make_party: PartyFactory, receiver: Receiver
) -> None:
    party = make_party("3301960101", Role.EBP)
    subscribe(database, party, receiver.url)
    receipt_id = add_receipt(database, party)
    worker = _worker(database)
    try:
        assert worker.run_once(now=T0) == 1
        assert worker.run_once(now=T0 + timedelta(hours=1)) == 0  # delivered once, not again
    finally:
        worker.stop()

    [post] = receiver.posts
    headers, body = post.headers, post.body
    assert verify(SECRET, headers["x-danchuang-signature"], body)
    assert not verify("another-secret-0123456789abcdef", headers["x-danchuang-signature"], body)
    assert not verify(SECRET, headers["x-danchuang-signature"], body + b" ")
    assert headers["idempotency-key"] == str(receipt_id)
    assert headers["x-danchuang-attempt"] == "1"
    assert headers["content-type"] == "application/json"
    payload = json.loads(body)
    assert payload["type"] == "receipt"
    assert payload["receipt"]["id"] == receipt_id
    assert payload["receipt"]["return_status"] == 800
    assert payload["receipt"]["return_info"] == "放行"
    delivery = _delivery(database)
    assert delivery.delivered_at == T0 and delivery.attempts == 1 and delivery.last_error is None


def test_a_500_is_retried_on_the_backoff_schedule(
    database: Database, make_party: PartyFactory, receiver: Receiver
) -> None:
    party = make_party("3301960101", Role.EBP)
    subscribe(database, party, receiver.url)
    add_receipt(database, party)
    receiver.statuses = [500, 503]
    worker = _worker(database)
    try:
        assert worker.run_once(now=T0) == 1
        first = _delivery(database)
        assert first.delivered_at is None and first.last_error == "HTTP 500"
        # nominal 10 s after the first failure, jittered into [5 s, 10 s]
        assert T0 + timedelta(seconds=5) <= first.next_attempt_at <= T0 + timedelta(seconds=10)
        assert worker.run_once(now=T0 + timedelta(seconds=4)) == 0  # not due yet

        t1 = first.next_attempt_at
        assert worker.run_once(now=t1) == 1
        second = _delivery(database)
        assert second.last_error == "HTTP 503" and second.attempts == 2
        # nominal 20 s after the second failure: [10 s, 20 s]
        assert t1 + timedelta(seconds=10) <= second.next_attempt_at <= t1 + timedelta(seconds=20)

        assert worker.run_once(now=second.next_attempt_at) == 1
    finally:
        worker.stop()
    assert _delivery(database).delivered_at is not None
    assert [p.headers["x-danchuang-attempt"] for p in receiver.posts] == ["1", "2", "3"]
    assert len({p.headers["idempotency-key"] for p in receiver.posts}) == 1
    assert len({p.body for p in receiver.posts}) == 1  # the same body every time


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    policy = outbox.BackoffPolicy(base_s=5, cap_s=3600, max_attempts=12)
    assert [policy.nominal_delay(n) for n in range(1, 12)] == [
        5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600,
    ]  # fmt: skip
    rng = random.Random(1)
    for n in range(1, 12):
        for _ in range(50):
            delay = policy.delay(n, rng)
            assert 0.5 * policy.nominal_delay(n) <= delay <= policy.nominal_delay(n)
    # Jitter spreads retries: many receivers failing together do not all retry together.
    assert len({round(policy.delay(3, rng), 6) for _ in range(20)}) == 20


def test_gives_up_after_the_last_attempt(
    database: Database, make_party: PartyFactory, receiver: Receiver
) -> None:
    party = make_party("3301960101", Role.EBP)
    subscribe(database, party, receiver.url)
    add_receipt(database, party)
    receiver.statuses = [500] * 10
    worker = _worker(database, max_attempts=3)
    now = T0
    try:
        for _ in range(3):
            assert worker.run_once(now=now) == 1
            now = _delivery(database).next_attempt_at
        assert worker.run_once(now=now + timedelta(days=1)) == 0
    finally:
        worker.stop()
    delivery = _delivery(database)
    assert delivery.failed_at is not None and delivery.delivered_at is None
    assert delivery.attempts == 3 and len(receiver.posts) == 3


def test_an_unreachable_receiver_is_a_retryable_failure(
    database: Database, make_party: PartyFactory
) -> None:
    party = make_party("3301960101", Role.EBP)
    subscribe(database, party, "http://127.0.0.1:9/closed-port")
    add_receipt(database, party)
    worker = _worker(database)
    try:
        assert worker.run_once(now=T0) == 1
    finally:
        worker.stop()
    delivery = _delivery(database)
    assert delivery.last_error and delivery.last_error.startswith("NewConnectionError")
    assert delivery.next_attempt_at > T0 and delivery.failed_at is None


def test_deliveries_survive_a_worker_restart(
    db_url: str, database: Database, make_party: PartyFactory, receiver: Receiver
) -> None:
    party = make_party("3301960101", Role.EBP)
    subscribe(database, party, receiver.url)
    receipt_id = add_receipt(database, party)
    receiver.statuses = [500]
    first = _worker(database)
    first.run_once(now=T0)
    first.stop()
    database.dispose()  # the process ends; only the database remains

    restarted_db = Database.from_url(db_url)
    second = _worker(restarted_db)
    try:
        due = _delivery(restarted_db).next_attempt_at
        assert second.run_once(now=due) == 1
    finally:
        second.stop()
        restarted_db.dispose()
    assert [p.headers["idempotency-key"] for p in receiver.posts] == [str(receipt_id)] * 2
    assert receiver.posts[-1].headers["x-danchuang-attempt"] == "2"


def test_a_crash_after_claiming_redelivers_after_the_lease_with_the_same_key(
    database: Database, make_party: PartyFactory, receiver: Receiver
) -> None:
    party = make_party("3301960101", Role.EBP)
    subscribe(database, party, receiver.url)
    add_receipt(database, party)
    # A worker claims the delivery, POSTs it, and dies before recording the answer.
    with database.write() as session:
        [job] = outbox.claim_due(session, now=T0, lease_s=60, limit=10)
    httpx.post(
        job.url,
        content=job.body,
        headers={"X-Danchuang-Signature": signature_header(job.secret, job.body),
                 "Idempotency-Key": str(job.receipt_id)},
    )  # fmt: skip
    worker = _worker(database)
    try:
        assert worker.run_once(now=T0 + timedelta(seconds=59)) == 0  # still leased
        assert worker.run_once(now=T0 + timedelta(seconds=60)) == 1
    finally:
        worker.stop()
    keys = [p.headers["idempotency-key"] for p in receiver.posts]
    assert len(keys) == 2 and len(set(keys)) == 1  # the receiver can drop the duplicate
    with database.write() as session:  # and "delivered" is recorded only once
        assert not outbox.mark_delivered(session, [job.delivery_id], now=T0 + timedelta(hours=1))
    assert _delivery(database).delivered_at == T0 + timedelta(seconds=60)


def test_only_matching_active_webhooks_of_the_parties_get_deliveries(
    database: Database, make_party: PartyFactory, receiver: Receiver
) -> None:
    platform = make_party("3301960101", Role.EBP)
    stranger = make_party("3301960104", Role.LOGISTICS)
    wants_622 = subscribe(database, platform, receiver.url, events=["CEB622"])
    wants_312 = subscribe(database, platform, receiver.url, events=["CEB312"])
    everything = subscribe(database, platform, receiver.url)
    subscribe(database, stranger, receiver.url)  # not a party to the declaration
    with database.write() as session:
        inactive = Webhook(enterprise_id=platform.id, url=receiver.url, secret=SECRET, active=False)
        session.add(inactive)
    add_receipt(database, platform, code="CEB622")
    with database.read() as session:
        hooks = sorted(session.scalars(select(Delivery.webhook_id)).all())
    assert hooks == sorted([wants_622, everything])
    assert wants_312 not in hooks


@pytest.mark.usefixtures("database")
async def test_the_receipt_feed_pages_with_a_cursor_and_shows_only_your_receipts(
    client: httpx.AsyncClient, database: Database, make_party: PartyFactory
) -> None:
    platform = make_party("3301960101", Role.EBP)
    carrier = make_party("3301960104", Role.LOGISTICS)
    mine = [add_receipt(database, platform, status=s) for s in (2, 120, 800)]
    add_receipt(database, carrier)  # someone else's
    page = await client.get("/api/v1/receipts?limit=2", headers=platform.headers)
    assert page.status_code == 200
    assert [r["id"] for r in page.json()["receipts"]] == mine[:2]
    cursor = page.json()["cursor"]
    page = await client.get(f"/api/v1/receipts?after={cursor}", headers=platform.headers)
    assert [r["return_status"] for r in page.json()["receipts"]] == [800]
    last = page.json()["cursor"]
    page = await client.get(f"/api/v1/receipts?after={last}", headers=platform.headers)
    assert page.json() == {"receipts": [], "cursor": last}
    assert (await client.get("/api/v1/receipts")).status_code == 401


def test_concurrent_workers_never_claim_the_same_delivery(
    database: Database, make_party: PartyFactory
) -> None:
    """Several workers claiming at once (SKIP LOCKED on PostgreSQL, the single writer on
    SQLite) split the due deliveries between them: none is claimed twice."""
    party = make_party("3301960101", Role.EBP)
    subscribe(database, party, "http://127.0.0.1:9/unused")
    for _ in range(40):
        add_receipt(database, party)
    claimed: list[int] = []
    lock = threading.Lock()

    def claim() -> None:
        for _ in range(5):
            with database.write() as session:
                jobs = outbox.claim_due(session, now=T0, lease_s=60, limit=3)
            with lock:
                claimed.extend(job.delivery_id for job in jobs)

    assert run_together([claim] * 4) == []
    assert len(claimed) == 40 and len(set(claimed)) == 40


def test_with_private_targets_refused_nothing_is_sent_to_a_private_address(
    database: Database, make_party: PartyFactory, receiver: Receiver
) -> None:
    """Checked at each delivery, not only at registration: a name may resolve elsewhere later,
    and a webhook may predate the setting."""
    party = make_party("3301960101", Role.EBP)
    subscribe(database, party, receiver.url)
    add_receipt(database, party)
    policy = outbox.BackoffPolicy(base_s=10, cap_s=300, max_attempts=5)
    worker = DeliveryWorker(database, policy=policy, timeout_s=5, private_targets=False)
    try:
        assert worker.run_once(now=T0) == 1
    finally:
        worker.stop()
    assert receiver.posts == []
    delivery = _delivery(database)
    assert delivery.last_error == (
        "refused: the host resolves to 127.0.0.1, which is not a public address"
    )
    assert delivery.delivered_at is None and delivery.next_attempt_at > T0
