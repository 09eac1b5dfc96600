"""The delivery outbox: which deliveries are due, and what happened to each attempt.

All the state lives in the ``deliveries`` rows, so a restart loses nothing:

- *claim*: due rows (not delivered, not given up, ``next_attempt_at`` passed, webhook active)
  get ``attempts + 1`` and ``next_attempt_at = now + lease`` in one short write transaction
  (one query and one ``UPDATE`` for the batch).
  The lease is the crash guard: a worker that dies mid-POST leaves its rows to come due again.
  On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several workers claim side by side; SQLite's
  single writer (``BEGIN IMMEDIATE``) serialises claims.
- *delivered*: ``delivered_at`` is set only where it is still empty, so it is set exactly once.
- *failed*: the next attempt is scheduled by ``BackoffPolicy.delay``; after the last allowed
  attempt the row gets ``failed_at`` and is left alone.
"""

from __future__ import annotations

import json
import random
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, func, literal, select, update
from sqlalchemy.orm import Session

from app.db.models import Delivery, Receipt, Webhook
from app.receipts import STORED, AnyReceipt, StoredReceipt, receipt_json
from app.services import history


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Exponential backoff with "equal jitter".

    Attempt n (n = 1 for the first failure) waits ``d = min(cap, base * 2**(n-1))`` scaled by a
    random factor in [0.5, 1.0]: never more than the cap, never less than half the nominal delay,
    and spread out so that receivers coming back from an outage are not hit all at once.
    With the defaults (base 5 s, cap 1 h, 12 attempts) retries span about 2.8 hours.
    """

    base_s: float = 5.0
    cap_s: float = 3600.0
    max_attempts: int = 12

    def nominal_delay(self, failures: int) -> float:
        return min(self.cap_s, self.base_s * 2.0 ** max(failures - 1, 0))

    def delay(self, failures: int, rng: random.Random) -> float:
        return self.nominal_delay(failures) * rng.uniform(0.5, 1.0)


@dataclass(frozen=True, slots=True)
class Job:
    """One claimed attempt, with everything needed to make the HTTP call outside the DB."""

    delivery_id: int
    receipt_id: int
    attempt: int
    webhook_id: int
    receipts_per_post: int  # the webhook's: above 1, it is posted with others (batch_body)
    url: str
    secret: str
    body: bytes


def delivery_body(receipt: AnyReceipt, xml: bytes | None = None) -> bytes:
    """The JSON body; identical on every attempt so that signatures and dedupe are stable.
    ``xml``: the receipt as its CEB receipt message, for a webhook that asked for it."""
    payload: dict[str, Any] = {"type": "receipt", "receipt": receipt_json(receipt)}
    if xml is not None:
        payload["xml"] = xml.decode("utf-8")
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def batch_body(bodies: Iterable[bytes]) -> bytes:
    """The body of a POST carrying several deliveries to a webhook that takes several:
    ``{"type":"batch","deliveries":[...]}``, each element the exact ``delivery_body`` it would
    have been sent alone."""
    return b'{"type":"batch","deliveries":[' + b",".join(bodies) + b"]}"


def _xml(
    session: Session, receipt: AnyReceipt, *, wanted: bool, enterprise_id: int
) -> bytes | None:
    if not wanted:
        return None
    return history.receipt_message(session, receipt, for_enterprise=enterprise_id)


def claim_due(session: Session, *, now: datetime, lease_s: float, limit: int) -> list[Job]:
    """Claim up to ``limit`` due deliveries, the earliest due first: one query, and one
    ``UPDATE`` leasing them all (``_claiming``)."""
    rows = session.execute(_claiming(limit), {"now": now}).all()
    if not rows:
        return []
    # The rows are this transaction's until it ends (locked on PostgreSQL; SQLite has one
    # writer), so each one's attempt is the ``attempts`` just read, plus one.
    until = now + timedelta(seconds=lease_s)
    session.execute(_LEASE, {"ids": [row[0] for row in rows], "until": until})
    jobs = []
    for delivery_id, attempts, webhook_id, per_post, url, secret, xml, owner, *stored in rows:
        receipt = StoredReceipt(*stored)
        body = delivery_body(receipt, _xml(session, receipt, wanted=xml, enterprise_id=owner))
        jobs.append(Job(delivery_id, receipt.id, attempts + 1, webhook_id, per_post, url, secret,
                        body))  # fmt: skip
    return jobs


@cache
def _claiming(limit: int) -> Select[Any]:
    """The claim's query, built once a limit (building it cost more than running it).

    The deliveries are chosen (and locked) by a subquery of their own table, which the due
    index (migration 0015) answers in order up to the limit; only those are joined to their
    webhooks and receipts. With the joins in the same query, PostgreSQL sometimes planned to
    join every due row and sort them all (13–61 ms a claim with some 40,000 waiting)."""
    # Asked row by row as the index is read (PostgreSQL never joins a scalar subquery): as a
    # join, with a webhook a party, the planner sorted the due rows by webhook to merge them.
    active = select(Webhook.active).where(Webhook.id == Delivery.webhook_id).scalar_subquery()
    due = (
        select(Delivery.id, Delivery.attempts, Delivery.webhook_id, Delivery.receipt_id)
        .where(
            Delivery.delivered_at.is_(None),
            Delivery.failed_at.is_(None),
            Delivery.next_attempt_at <= bindparam("now"),
            active.is_(True),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        # Written into the statement: a prepared statement's generic plan takes a LIMIT
        # parameter for a tenth of the table.
        .limit(literal(limit, literal_execute=True))
        .with_for_update(skip_locked=True)
        .subquery()
    )
    return (
        select(
            due.c.id,
            due.c.attempts,
            due.c.webhook_id,
            Webhook.receipts_per_post,
            Webhook.url,
            Webhook.secret,
            Webhook.xml,
            Webhook.enterprise_id,
            *STORED,  # the receipt's values: an ORM object a delivery cost 0.005-0.01 ms
        )
        .select_from(due)
        .join(Webhook, due.c.webhook_id == Webhook.id)
        .join(Receipt, due.c.receipt_id == Receipt.id)
    )


_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_LEASE = (
    update(Delivery)
    .where(Delivery.id.in_(_IDS))
    .values(
        attempts=Delivery.attempts + 1,
        next_attempt_at=bindparam("until", type_=Delivery.__table__.c.next_attempt_at.type),
    )
    .execution_options(synchronize_session=False)  # no Delivery is loaded in the session
)
_DELIVERED = (
    update(Delivery)
    .where(Delivery.id.in_(_IDS), Delivery.delivered_at.is_(None))
    .values(
        delivered_at=bindparam("now", type_=Delivery.__table__.c.delivered_at.type),
        last_error=None,
    )
    .execution_options(synchronize_session=False)
)


def mark_delivered(session: Session, delivery_ids: Collection[int], *, now: datetime) -> int:
    """Record success, in one statement; how many rows were marked now (a row already marked
    stays marked once, with its first time)."""
    if not delivery_ids:
        return 0
    result = session.execute(_DELIVERED, {"ids": list(delivery_ids), "now": now})
    return int(result.rowcount)  # type: ignore[attr-defined]


def mark_failed(
    session: Session,
    delivery_id: int,
    error: str,
    *,
    now: datetime,
    policy: BackoffPolicy,
    rng: random.Random,
) -> Delivery | None:
    """Record a failed attempt and schedule the next one (or give up after the last)."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.delivered_at is not None:
        return delivery
    delivery.last_error = error[:2000]
    if delivery.attempts >= policy.max_attempts:
        delivery.failed_at = now
    else:
        delay = policy.delay(delivery.attempts, rng)
        delivery.next_attempt_at = now + timedelta(seconds=delay)
    session.flush()
    return delivery


def pending_count(session: Session) -> int:
    return session.scalar(_PENDING) or 0


_PENDING = select(func.count(Delivery.id)).where(
    Delivery.delivered_at.is_(None), Delivery.failed_at.is_(None)
)
