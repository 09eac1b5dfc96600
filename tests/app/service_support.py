"""Names the service tests share (a plain module: test modules must not import conftest, whose
module name is the same in every test folder)."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import event, select

from app.db.engine import Database
from app.db.models import Declaration, DocumentRow, Webhook
from app.receipts import record_receipt
from app.webhooks import outbox
from app.webhooks.worker import DeliveryWorker

SECRET = "whsec-test-0123456789abcdefghijklmnop"
# A moment after every row the tests create (rows are due from their creation time): a day
# after the module is imported, because a full run may reach these tests many minutes later.
T0 = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


@dataclass(frozen=True)
class Party:
    id: int
    code: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


PartyFactory = Callable[..., Party]


@contextmanager
def statements_run(database: Database) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements run on the database meanwhile, each with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", record)


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


@dataclass(frozen=True)
class Post:
    """One request a ``Receiver`` took: its path, its headers (names in lower case) and its
    body as sent (the bytes a webhook signature covers)."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on loopback that records every webhook delivery posted to it and answers
    from a script: the statuses in ``statuses`` first, then 200."""

    base: str
    posts: list[Post] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.base}/hook"

    @property
    def received(self) -> list[tuple[str, str, dict[str, object]]]:
        """Each delivery so far as (path, Idempotency-Key, JSON body)."""
        return [
            (post.path, post.headers.get("idempotency-key", ""), json.loads(post.body))
            for post in self.posts
        ]


@contextmanager
def recording_receiver() -> Iterator[Receiver]:
    receiver = Receiver(base="")
    lock = threading.Lock()

    def answer(request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in request.headers.items()}
        with lock:
            receiver.posts.append(Post(request.path, headers, body))
            status = receiver.statuses.pop(0) if receiver.statuses else 200
        request.send_response(status)
        request.send_header("Content-Length", "0")
        request.end_headers()

    with loopback_server(answer) as base:
        receiver.base = base
        yield receiver


def subscribe(
    db: Database,
    party: Party,
    url: str,
    events: list[str] | None = None,
    *,
    receipts_per_post: int = 1,
) -> int:
    """Register a webhook for ``party`` straight in the database (signed with ``SECRET``)."""
    with db.write() as session:
        hook = Webhook(
            enterprise_id=party.id, url=url, secret=SECRET, events=events or [],
            receipts_per_post=receipts_per_post,
        )  # fmt: skip
        session.add(hook)
        session.flush()
        return hook.id


def add_receipt(db: Database, party: Party, code: str = "CEB622", status: int = 800) -> int:
    """A declaration whose order ``party`` sent, and one receipt for it."""
    with db.write() as session:
        n = session.scalar(select(Declaration.id).order_by(Declaration.id.desc()).limit(1)) or 0
        declaration = Declaration(
            direction="import", order_no=f"O{n + 1}", ebp_code=party.code, regime="9610"
        )
        session.add(declaration)
        session.flush()
        session.add(
            DocumentRow(
                guid=f"G{n + 1}", message_code="CEB311", direction="import", raw_xml=b"<x/>",
                sender_id=party.id, declaration_id=declaration.id,
            )
        )  # fmt: skip
        session.flush()
        receipt = record_receipt(
            session,
            message_code=code,
            return_status=status,
            return_info="放行",
            declaration_id=declaration.id,
        )
        return receipt.id


def push_everything(database: Database) -> None:
    """Run the webhook delivery worker until nothing is due (real HTTP to the receivers)."""
    policy = outbox.BackoffPolicy(base_s=1, cap_s=2, max_attempts=3)
    worker = DeliveryWorker(database, policy=policy, timeout_s=5, rng=random.Random(1))
    try:
        while worker.run_once():
            pass
    finally:
        worker.stop()
