"""The delivery worker: claim due outbox rows, POST them, record the outcome, repeat.

It runs as a plain thread (inside ``serve``, or alone in ``danchuang worker``) because the rest
of the persistence layer is synchronous; the HTTP calls happen outside any transaction so a
slow receiver never holds the SQLite write lock.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime

import structlog

from app import metrics
from app.db.engine import Database
from app.settings import Settings
from app.webhooks import outbox
from app.webhooks.posting import Poster
from app.webhooks.signing import (
    ATTEMPT_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)
from app.webhooks.targets import private_address

log = structlog.get_logger("danchuang.webhooks")
RECORD_EVERY_S = 1.0  # the longest a delivery's outcome waits to be recorded (run_once)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def posts_of(jobs: Sequence[outbox.Job]) -> list[list[outbox.Job]]:
    """Claimed deliveries as the POSTs that carry them, in claim order: a delivery alone, or
    with the others claimed for the same webhook when it takes several, up to its
    ``receipts_per_post``."""
    posts: list[list[outbox.Job]] = []
    filling: dict[int, list[outbox.Job]] = {}  # by webhook: its latest POST with room left
    for job in jobs:
        post = filling.get(job.webhook_id)
        if post is None or len(post) >= job.receipts_per_post:
            post = filling[job.webhook_id] = []
            posts.append(post)
        post.append(job)
    return posts


class DeliveryWorker:
    def __init__(
        self,
        database: Database,
        *,
        policy: outbox.BackoffPolicy,
        lease_s: float = 60.0,
        batch_size: int = 50,
        concurrency: int = 8,
        poll_interval_s: float = 1.0,
        timeout_s: float = 10.0,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = _utcnow,
        private_targets: bool = True,
    ) -> None:
        self.database = database
        # False: refuse receivers whose host resolves to a non-public address (targets.py)
        self.private_targets = private_targets
        self.policy = policy
        self.lease_s = lease_s
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.rng = rng or random.Random()
        self.clock = clock
        self._poster = Poster(timeout_s=timeout_s, connections=concurrency)
        # Posts a claimed batch's deliveries side by side (the poster is thread-safe): one
        # thread waiting on each receiver in turn delivered 1 / latency a second at most.
        self._posting = ThreadPoolExecutor(concurrency, thread_name_prefix="danchuang-webhook")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, database: Database, settings: Settings) -> DeliveryWorker:
        return cls(
            database,
            policy=outbox.BackoffPolicy(
                base_s=settings.webhook_backoff_base_s,
                cap_s=settings.webhook_backoff_cap_s,
                max_attempts=settings.webhook_max_attempts,
            ),
            lease_s=settings.webhook_lease_s,
            batch_size=settings.webhook_batch_size,
            concurrency=settings.webhook_concurrency,
            poll_interval_s=settings.webhook_poll_interval_s,
            timeout_s=settings.webhook_timeout_s,
            private_targets=settings.webhooks_reach_private,
        )

    def run_once(self, now: datetime | None = None) -> int:
        """Deliver what is due at ``now``; the number of attempts made."""
        claimed_at = now or self.clock()
        with self.database.write() as session:
            jobs = outbox.claim_due(
                session, now=claimed_at, lease_s=self.lease_s, limit=self.batch_size
            )
        # Outcomes are recorded together, at least once a second: one write transaction per
        # delivery waited, under load, behind every submission's (SQLite has one writer), and
        # deliveries stalled. A crash before recording leaves the claimed rows to come due
        # again when their lease ends: delivered at least once, as always.
        done: list[tuple[list[outbox.Job], str | None]] = []  # each POST, and its error
        recorded = time.monotonic()
        posting = {self._posting.submit(self._post, post): post for post in posts_of(jobs)}
        for future in as_completed(posting):
            done.append((posting[future], future.result()))
            if time.monotonic() - recorded >= RECORD_EVERY_S:
                self._record(done, now)
                done, recorded = [], time.monotonic()
        self._record(done, now)
        return len(jobs)

    def _post(self, post: list[outbox.Job]) -> str | None:
        """POST deliveries to their webhook (one, or several to a webhook that takes several:
        ``posts_of``); the error, None when the receiver took them."""
        first = post[0]
        if first.receipts_per_post == 1:
            body = first.body
            headers = {IDEMPOTENCY_HEADER: str(first.receipt_id)}
        else:  # each receipt's id, in its element, is its idempotency key
            body = outbox.batch_body(job.body for job in post)
            headers = {}
        headers[SIGNATURE_HEADER] = signature_header(first.secret, body)
        headers[ATTEMPT_HEADER] = str(max(job.attempt for job in post))
        # Checked again at each delivery: the host's addresses may have changed since the
        # webhook was registered.
        address = None if self.private_targets else private_address(first.url)
        if address is not None:
            return f"refused: the host resolves to {address}, which is not a public address"
        return self._poster.post(first.url, body, headers)

    def _record(
        self, done: list[tuple[list[outbox.Job], str | None]], now: datetime | None
    ) -> None:
        """The outcomes of the POSTs ``done`` in one write transaction, then their metrics and
        a log line a POST."""
        if not done:
            return
        finished_at = now or self.clock()
        delivered = [job.delivery_id for post, error in done if error is None for job in post]
        failed = [(job, error) for post, error in done if error is not None for job in post]
        with self.database.write() as session:
            outbox.mark_delivered(session, delivered, now=finished_at)
            for job, reason in failed:
                outbox.mark_failed(session, job.delivery_id, reason, now=finished_at,
                                   policy=self.policy, rng=self.rng)  # fmt: skip
        metrics.WEBHOOK_DELIVERIES.labels(outcome="delivered").inc(len(delivered))
        metrics.WEBHOOK_DELIVERIES.labels(outcome="failed").inc(len(failed))
        for post, error in done:
            outcome = "delivered" if error is None else "failed"
            if post[0].receipts_per_post == 1:  # as its body: one receipt, or a batch's list
                [job] = post
                log.info("webhook.attempt", delivery_id=job.delivery_id,
                         receipt_id=job.receipt_id, attempt=job.attempt, outcome=outcome,
                         error=error)  # fmt: skip
            else:
                log.info("webhook.attempt", delivery_ids=[job.delivery_id for job in post],
                         receipt_ids=[job.receipt_id for job in post],
                         attempts=[job.attempt for job in post], outcome=outcome,
                         error=error)  # fmt: skip

    # -- the loop ---------------------------------------------------------------------------

    def run_forever(self) -> None:
        """Poll until ``stop()``; a failing round is logged and retried, never fatal."""
        while not self._stop.is_set():
            try:
                busy = self.run_once() >= self.batch_size
            except Exception:
                log.exception("webhook.round_failed")
                busy = False
            if not busy:
                self._stop.wait(self.poll_interval_s)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.run_forever, name="danchuang-webhooks", daemon=True
        )
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the loop to end after the current round (safe from a signal handler)."""
        self._stop.set()

    def stop(self, timeout: float = 10.0) -> None:
        """End the loop, wait for its thread, and release the HTTP connections."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._posting.shutdown(wait=True)
        self._poster.close()
