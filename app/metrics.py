"""Prometheus metrics: every metric object of the service, defined once, here.

Later code (the submission flow, the clearance engine) only imports and increments these. They
live in their own registry, not the global default, so that an embedding application or a test
that builds several apps sees exactly danchuang's series. The service runs one process (SQLite
allows one writer), so prometheus-client's multiprocess mode is
not needed.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

HTTP_REQUESTS = Counter(
    "danchuang_http_requests_total",
    "HTTP requests answered, by route template (not raw path, to bound the label set).",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "danchuang_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
SUBMISSIONS = Counter(
    "danchuang_submissions_total",
    "Documents submitted, by CEB message and outcome (accepted / rejected / refused).",
    ["message", "outcome"],
    registry=REGISTRY,
)
FINDINGS = Counter(
    "danchuang_findings_total",
    "Validation findings reported, by rule id and severity.",
    ["rule", "severity"],
    registry=REGISTRY,
)
RECEIPTS = Counter(
    "danchuang_receipts_total",
    "Receipts issued, by receipt message and returnStatus.",
    ["message", "status"],
    registry=REGISTRY,
)
WRITE_RETRIES = Counter(
    "danchuang_write_retries_total",
    "Write transactions taken again, by reason: resend (a guid stored before), race (a unique "
    "key a concurrent write took first), deadlock (one PostgreSQL broke).",
    ["reason"],
    registry=REGISTRY,
)
QUEUE_LENGTH = Gauge(
    "danchuang_queue_length",
    "Items waiting, by queue (webhook_outbox; the clearance engine adds its own).",
    ["queue"],
    registry=REGISTRY,
)
CLOCK_LAG = Gauge(
    "danchuang_clock_lag_seconds",
    "How far the live virtual clock runs behind its target (wall time x speed), in seconds.",
    registry=REGISTRY,
)
WEBHOOK_DELIVERIES = Counter(
    "danchuang_webhook_attempts_total",
    "Webhook delivery attempts, by outcome (delivered / failed).",
    ["outcome"],
    registry=REGISTRY,
)


_HTTP_SERIES: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def http_series(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    """The ``HTTP_REQUESTS`` and ``HTTP_LATENCY`` series of one (method, route, status), looked
    up once: ``labels(...)`` checks and joins its label values on every call. The key set stays
    small because ``route`` is a template (``RequestLogMiddleware``)."""
    key = (method, route, status)
    series = _HTTP_SERIES.get(key)
    if series is None:
        series = (
            HTTP_REQUESTS.labels(method=method, route=route, status=str(status)),
            HTTP_LATENCY.labels(method=method, route=route),
        )
        _HTTP_SERIES[key] = series
    return series


def exposition() -> bytes:
    """The registry in Prometheus' text format."""
    return generate_latest(REGISTRY)
