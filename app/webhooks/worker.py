"""The delivery worker: claim due outbox rows, POST them, record the outcome, repeat.

It runs as a plain thread (inside ``serve``, or alone in ``danchuang worker``) because the rest
of the persistence layer is synchronous; the HTTP calls happen outside any transaction so a
slow receiver never holds the SQLite write lock.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import structlog

from app import metrics
from app.db.engine import Database
from app.settings import Settings
from app.webhooks import outbox
from app.webhooks.signing import (
    ATTEMPT_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)
from app.webhooks.targets import private_address

log = structlog.get_logger("danchuang.webhooks")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DeliveryWorker:
    def __init__(
        self,
        database: Database,
        *,
        policy: outbox.BackoffPolicy,
        lease_s: float = 60.0,
        batch_size: int = 50,
        poll_interval_s: float = 1.0,
        timeout_s: float = 10.0,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
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
        self._client = httpx.Client(
            timeout=timeout_s,
            transport=transport,
            follow_redirects=False,  # a redirect is the receiver's misconfiguration: retry
            headers={"User-Agent": "danchuang-webhooks/1", "Content-Type": "application/json"},
        )
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
        for job in jobs:
            self._attempt(job, now)
        return len(jobs)

    def _attempt(self, job: outbox.Job, now: datetime | None) -> None:
        headers = {
            SIGNATURE_HEADER: signature_header(job.secret, job.body),
            IDEMPOTENCY_HEADER: str(job.receipt_id),
            ATTEMPT_HEADER: str(job.attempt),
        }
        error: str | None = None
        # Checked again at each delivery: the host's addresses may have changed since the
        # webhook was registered.
        address = None if self.private_targets else private_address(job.url)
        if address is not None:
            error = f"refused: the host resolves to {address}, which is not a public address"
        else:
            try:
                response = self._client.post(job.url, content=job.body, headers=headers)
                if not response.is_success:
                    error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
        finished_at = now or self.clock()
        with self.database.write() as session:
            if error is None:
                outbox.mark_delivered(session, job.delivery_id, now=finished_at)
            else:
                outbox.mark_failed(
                    session,
                    job.delivery_id,
                    error,
                    now=finished_at,
                    policy=self.policy,
                    rng=self.rng,
                )
        outcome = "delivered" if error is None else "failed"
        metrics.WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
        log.info(
            "webhook.attempt",
            delivery_id=job.delivery_id,
            receipt_id=job.receipt_id,
            attempt=job.attempt,
            outcome=outcome,
            error=error,
        )

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
        self._client.close()
