"""Webhook signatures: how danchuang signs a delivery, and how a receiver checks it.

Every delivery is a ``POST`` with a JSON body and these headers:

``X-Danchuang-Signature: t=<unix seconds>,v1=<hex>``
    ``v1`` is HMAC-SHA256, keyed with the webhook's secret, over the bytes ``f"{t}."`` followed
    by the exact body bytes. Receivers recompute it with the same secret, compare in constant
    time, and refuse a timestamp more than a few minutes old (replay protection).
``Idempotency-Key: <receipt id>``
    The same for every attempt of the same receipt. Delivery is *at least once*: if danchuang
    stops between the receiver's 2xx and recording it, the receipt is sent again after a restart,
    so receivers must drop a key they have already processed.
``X-Danchuang-Attempt: <n>``
    1 for the first try, 2 for the first retry, ...

Any 2xx answer counts as delivered; anything else (or no answer within the timeout) is retried
with exponential backoff (see ``app.webhooks.outbox.BackoffPolicy``).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Danchuang-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
ATTEMPT_HEADER = "X-Danchuang-Attempt"
DEFAULT_TOLERANCE_S = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret, t, body)}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """Receiver side: is ``header`` a fresh, valid signature of ``body`` under ``secret``?"""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - t) > tolerance_s:
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, t, body))
