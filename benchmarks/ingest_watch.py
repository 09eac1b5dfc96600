"""What the ingest benchmark watches beside the load: webhook deliveries to a loopback receiver,
the server's engine lag (``/metrics``) and resident memory sampled over the run, and the
declarations still not final when the load ends."""

from __future__ import annotations

import json
import re
import statistics
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from benchmarks.ingest_server import CpuReading, Server, read_cpu, rss_bytes

LAG_METRIC = "danchuang_clock_lag_seconds"
OUTBOX_METRIC = 'danchuang_queue_length{queue="webhook_outbox"}'
MB = 1024 * 1024


class _QuietServer(ThreadingHTTPServer):
    """Says nothing when a client closes a kept-alive connection (the delivery worker does
    when it stops or renews its connections); other errors are printed as usual."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Receiver:
    """A webhook receiver on loopback (a thread of this process) that counts the deliveries
    it answers with 204: a POST's, or each of a batch's (``receipts_per_post``, which the
    webhooks registered for it ask for)."""

    def __init__(self, receipts_per_post: int = 1) -> None:
        self.receipts_per_post = receipts_per_post
        self._count = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the delivery worker reuses its connection

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                payload = json.loads(body) if receiver.receipts_per_post > 1 else {}
                with receiver._lock:
                    receiver._count += len(payload.get("deliveries", [body]))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:  # quiet
                pass

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


def metric(text: str, name: str) -> float | None:
    """The value of the sample ``name`` (with its labels, as written) in Prometheus' text
    format, or None when absent."""
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


@dataclass(frozen=True)
class Sample:
    at: float  # time.monotonic()
    rss: int | None  # bytes, the server's process tree
    lag: float | None  # seconds (danchuang_clock_lag_seconds of the process that answered)
    outbox: float | None  # webhook deliveries waiting
    delivered: int  # webhook deliveries received so far


@dataclass
class Sampler:
    """Samples the server every ``interval`` seconds in a thread, from ``start`` to ``stop``."""

    server: Server
    receiver: Receiver | None
    interval: float = 0.5
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self, client: httpx.Client) -> Sample:
        lag = outbox = None
        try:
            text = client.get(f"{self.server.base}/metrics").text
            lag, outbox = metric(text, LAG_METRIC), metric(text, OUTBOX_METRIC)
        except httpx.HTTPError:
            pass  # a busy server's missed sample
        delivered = self.receiver.count if self.receiver is not None else 0
        taken = Sample(time.monotonic(), rss_bytes(self.server.pid), lag, outbox, delivered)
        self.samples.append(taken)
        return taken

    def mark(self) -> float:
        """A sample now, from the calling thread (a load's first and last, however short the
        load); its time."""
        with httpx.Client(timeout=10) as client:
            return self.sample(client).at

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                self.sample(client)
                self._stop.wait(self.interval)

    def start(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(15)

    def between(self, start: float, end: float) -> list[Sample]:
        return [s for s in list(self.samples) if start <= s.at <= end]


@dataclass(frozen=True)
class Backlog:
    """The declarations when the load ended, and how the engine worked them off after it."""

    at_end: dict[str, int]  # state -> declarations, when the load ended
    taken_s: float | None  # until none waited at clearance_ready (None: not within the timeout)
    final_s: float | None  # until every one was final (None: not within the timeout)
    left: dict[str, int]  # the states not final when the drain stopped
    outbox_left: float | None  # webhook deliveries waiting when it stopped (None: not read)
    quiescent_s: float | None  # until all were final and the outbox empty (None: the timeout)
    cpu: CpuReading  # the CPU readings when the drain stopped (the sets' whole cost so far)

    @property
    def unfinished(self) -> int:
        return _unfinished(self.at_end)

    @property
    def ready(self) -> int:
        return self.at_end.get(_READY, 0)


@dataclass(frozen=True)
class Watched:
    """What was seen over one load (from its start to its end) and its drain."""

    samples: list[Sample]  # during the load
    drained: list[Sample]  # after it, until every declaration was final (or the timeout)
    seconds: float  # the load's wall time
    backlog: Backlog | None  # None: the database was not read (--url)

    def lags(self) -> list[float]:
        return [s.lag for s in self.samples if s.lag is not None]

    def deliveries(self) -> int:
        return _delivered(self.samples)

    def drain_deliveries(self) -> tuple[int, float]:
        """Deliveries after the load, and over how many seconds."""
        after = self.samples[-1:] + self.drained
        return _delivered(after), (after[-1].at - after[0].at if len(after) > 1 else 0.0)

    def rss(self) -> list[int]:
        return [s.rss for s in self.samples + self.drained if s.rss is not None]


def _delivered(samples: Sequence[Sample]) -> int:
    return samples[-1].delivered - samples[0].delivered if len(samples) > 1 else 0


def per_minute(samples: Sequence[Sample]) -> list[float]:
    """The median RSS (bytes) of each minute from the first sample on; a last minute that
    holds less than half a minute of samples is left out (a soak's last round overruns)."""
    if not samples:
        return []
    start = samples[0].at
    minutes: dict[int, list[int]] = {}
    for s in samples:
        if s.rss is not None:
            minutes.setdefault(int((s.at - start) // 60), []).append(s.rss)
    last = int((samples[-1].at - start) // 60)
    if last and samples[-1].at - start - 60 * last < 30:
        minutes.pop(last, None)
    return [statistics.median(minutes[m]) for m in sorted(minutes)]


# Memory growth a soak may show before it is called out: what a warm cache or a pool's last
# connections take, not a leak.
GROWTH_TOLERANCE_MB = 5.0
GROWTH_TOLERANCE = 0.02


def warmed_up(minutes: int) -> int:
    """The minute (from 0) a soak of ``minutes`` is judged from: the first half warms up. The
    service's caches fill as its database grows (SQLite's page cache, up to 2 MB for each of
    its pooled connections): RSS rose for the first 8 to 14 minutes of 15- and 25-minute
    soaks, then the 25-minute soak's stayed within 0.4 MB for its last 11 minutes
    (docs/performance.md, "Memory"). Two minutes: judged from the first."""
    return minutes // 2 if minutes >= 3 else 0


def growth(medians: Sequence[float]) -> tuple[float, float, bool] | None:
    """RSS growth from the median of the minute the soak is judged from (``warmed_up``) to the
    last minute's: (MB, fraction, beyond the tolerance)."""
    if len(medians) < 2:
        return None
    base = medians[warmed_up(len(medians))]
    grown = medians[-1] - base
    fraction = grown / base if base else 0.0
    beyond = grown / MB > GROWTH_TOLERANCE_MB and fraction > GROWTH_TOLERANCE
    return grown / MB, fraction, beyond


_READY = "clearance_ready"  # app.states.CLEARANCE_READY: complete, waiting for the engine


def _unfinished(states: dict[str, int]) -> int:
    from app.states import FINAL_STATES  # noqa: PLC0415

    return sum(n for state, n in states.items() if state not in FINAL_STATES)


class Declarations:
    """Reads the server's database: its declarations by state (``app.states``)."""

    def __init__(self, database_url: str) -> None:
        from app.db.engine import Database  # noqa: PLC0415

        self.database = Database.from_url(database_url)

    def states(self) -> dict[str, int]:
        """State -> how many declarations are in it."""
        from sqlalchemy import func, select  # noqa: PLC0415

        from app.db.models import Declaration  # noqa: PLC0415

        with self.database.read() as session:
            rows = session.execute(
                select(Declaration.state, func.count()).group_by(Declaration.state)
            ).all()
        return {str(state): int(count) for state, count in rows}

    def close(self) -> None:
        self.database.dispose()


def drain(
    sampler: Sampler,
    declarations: Declarations | None,
    load_start: float,
    load_end: float,
    timeout_s: float,
) -> Watched:
    """After a load: wait (up to ``timeout_s``) until every declaration is final and the webhook
    outbox is empty (``/metrics`` counts the whole database's undelivered, unfailed deliveries,
    app/webhooks/outbox.py ``pending_count``: every process's), sampling on; when none waits
    for the engine any more, when all are final, when all is quiet, and the CPU readings then."""
    during = sampler.between(load_start, load_end)
    if declarations is None:
        return Watched(during, [], load_end - load_start, None)
    at_end = now = declarations.states()
    taken = 0.0 if not now.get(_READY) else None
    final = 0.0 if not _unfinished(now) else None
    waited = 0.0
    with httpx.Client(timeout=10) as client:
        outbox = sampler.sample(client).outbox
        while (_unfinished(now) or outbox != 0) and waited < timeout_s:
            time.sleep(0.5)
            now, outbox = declarations.states(), sampler.sample(client).outbox
            waited = time.monotonic() - load_end
            if taken is None and not now.get(_READY):
                taken = waited
            if final is None and not _unfinished(now):
                final = waited
    cpu = read_cpu(sampler.server)
    left = {state: n for state, n in now.items() if _unfinished({state: n})}
    quiet = waited if not left and outbox == 0 else None
    drained = sampler.between(load_end, time.monotonic())
    backlog = Backlog(at_end, taken, final, left, outbox, quiet, cpu)
    return Watched(during, drained, load_end - load_start, backlog)
