"""Names the service tests share (a plain module: test modules must not import conftest, whose
module name is the same in every test folder)."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app.db.engine import Database
from app.webhooks import outbox
from app.webhooks.worker import DeliveryWorker


@dataclass(frozen=True)
class Party:
    id: int
    code: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


PartyFactory = Callable[..., Party]


def run_together(
    work: Sequence[Callable[[], object]], timeout_s: float = 60
) -> list[BaseException]:
    """Run each callable on its own thread, all released at once by a barrier; wait for them
    and return what they raised (the caller asserts it is nothing)."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(work))

    def run(job: Callable[[], object]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # collected for the caller's assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout_s)
    return errors


@contextmanager
def loopback_server(answer: Callable[[BaseHTTPRequestHandler], None]) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 (a free port) whose POSTs ``answer`` handles; yields
    its base URL (``http://127.0.0.1:PORT``) and stops it afterwards."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            answer(self)

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Receiver:
    """An HTTP server on loopback that records every webhook delivery: (path,
    Idempotency-Key, JSON body)."""

    base: str
    received: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.base}/hook"


@contextmanager
def recording_receiver() -> Iterator[Receiver]:
    records: list[tuple[str, str, dict[str, object]]] = []
    lock = threading.Lock()

    def answer(request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length", "0")))
        with lock:
            records.append(
                (request.path, request.headers.get("Idempotency-Key", ""), json.loads(body))
            )
        request.send_response(204)
        request.end_headers()

    with loopback_server(answer) as base:
        yield Receiver(base, records)


def push_everything(database: Database) -> None:
    """Run the webhook delivery worker until nothing is due (real HTTP to the receivers)."""
    policy = outbox.BackoffPolicy(base_s=1, cap_s=2, max_attempts=3)
    worker = DeliveryWorker(database, policy=policy, timeout_s=5, rng=random.Random(1))
    try:
        while worker.run_once():
            pass
    finally:
        worker.stop()
