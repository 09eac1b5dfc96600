"""What a webhook delivery costs the process that delivers it.

    .venv/bin/python benchmarks/webhooks.py [--deliveries N] [--receivers K] [--per-post P]
        [--concurrency C] [--postgres URL] [--profile]

Every receipt is queued to the active webhooks of every party of its set, about 60 deliveries a set
(docs/performance.md "Webhooks multiply the receipts"), and on SQLite the delivery worker shares
the API process's core with the intake and the clearance engine. This fills an outbox (SQLite file,
or with ``--postgres`` a new schema of that server): ``K`` enterprises with a webhook each, every
one on its own loopback receiver, and ``N / K`` receipts each queued to all of them (each webhook
taking up to ``P`` receipts a POST, 1 by default); starts the receivers in another process (an
asyncio HTTP/1.1 server answering 200 with keep-alive, so that their CPU is not counted); runs
``DeliveryWorker.run_once`` (batches of 50, C posts side by side: 8 by default) until nothing is
due; checks every delivery was recorded delivered; and prints this process's CPU ms a delivery,
split by the CPU time of the threads inside each part (claim: the query and lease; body: its JSON;
sign: the HMAC header; HTTP: the rest of a post; record: the outcomes' transaction; rest: the
round's own loop, futures and threads). On PostgreSQL it also prints the ``postgres`` processes'
CPU (run on a quiet machine).
``--profile`` adds the functions that cost most, profiled in every thread (slower: the totals
are then inflated).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import logging
import math
import multiprocessing
import os
import pstats
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app import accounts  # noqa: E402
from app.api.schemas_webhooks import MAX_RECEIPTS_PER_POST  # noqa: E402
from app.db.engine import Database  # noqa: E402
from app.db.models import Declaration, Delivery, Receipt, Role, Webhook  # noqa: E402
from app.logging import configure_logging  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.webhooks import outbox, worker  # noqa: E402
from benchmarks.ingest_server import postgres_cpu_seconds  # noqa: E402
from benchmarks.write_floor import scratch_database  # noqa: E402

RECEIPTS_A_DECLARATION = 15  # about 15 receipts a set (docs/performance.md)
SECRET = "whsec-benchmark-0123456789abcdefghij"
_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

# --- the receivers (another process) -------------------------------------------------------


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer each request of a keep-alive connection 200 once its body has arrived."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            writer.write(_ANSWER)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def _serve(count: int, ports: Connection) -> None:
    async def main() -> None:
        servers = [await asyncio.start_server(_answer, "127.0.0.1", 0) for _ in range(count)]
        ports.send([server.sockets[0].getsockname()[1] for server in servers])
        await asyncio.Event().wait()  # until the benchmark terminates this process

    asyncio.run(main())


@contextmanager
def receivers(count: int) -> Iterator[list[str]]:
    """``count`` receiver URLs on loopback, served by a process of their own."""
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(count, theirs), daemon=True)
    process.start()
    try:
        if not mine.poll(60):
            raise SystemExit("the receivers did not start")
        yield [f"http://127.0.0.1:{port}/hooks/customs" for port in mine.recv()]
    finally:
        process.terminate()
        process.join(10)


# --- the outbox ----------------------------------------------------------------------------


def fill(database: Database, urls: list[str], deliveries: int, per_post: int = 1) -> int:
    """An enterprise and its webhook per URL, and receipts queued to every webhook (rows
    written directly, as ``app.receipts`` writes them); the number of deliveries queued."""
    receipts = math.ceil(deliveries / len(urls))
    declarations = math.ceil(receipts / RECEIPTS_A_DECLARATION)
    with database.write() as session:
        hooks = []
        for n, url in enumerate(urls):
            code = f"33019{n:05d}"
            owner = accounts.create_enterprise(session, code=code, name=code, roles=[Role.EBP])
            session.flush()
            hook = Webhook(
                enterprise_id=owner.id, url=url, secret=SECRET, events=[],
                receipts_per_post=per_post,
            )  # fmt: skip
            session.add(hook)
            session.flush()
            hooks.append(hook.id)
        made = session.scalars(
            insert(Declaration).returning(Declaration.id, sort_by_parameter_order=True),
            [
                {"direction": "import", "order_no": f"O{n}", "ebp_code": "3301900000"}
                for n in range(declarations)
            ],
        ).all()
        rows = [
            {
                "declaration_id": made[n // RECEIPTS_A_DECLARATION],
                "message_code": "CEB622",
                "return_status": 800,
                "return_info": "[Code:1800;Desc:放行]",
                "seq": n % RECEIPTS_A_DECLARATION + 1,
            }
            for n in range(receipts)
        ]
        ids = session.scalars(
            insert(Receipt).returning(Receipt.id, sort_by_parameter_order=True), rows
        ).all()
        session.execute(
            insert(Delivery), [{"receipt_id": r, "webhook_id": h} for r in ids for h in hooks]
        )
    return len(ids) * len(hooks)


def delivered(database: Database) -> int:
    with database.read() as session:
        query = select(func.count(Delivery.id)).where(Delivery.delivered_at.is_not(None))
        return int(session.scalar(query) or 0)


# --- measuring -----------------------------------------------------------------------------


@contextmanager
def production_logs() -> Iterator[None]:
    """The service's logging as in production (a JSON line an event), the lines to /dev/null."""
    configure_logging(Settings(_env_file=None, log_format="json"))  # type: ignore[call-arg]
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    with Path(os.devnull).open("w") as sink:
        handler.setStream(sink)
        try:
            yield
        finally:
            handler.setStream(sys.stderr)


@dataclass
class Parts:
    """CPU seconds spent inside named functions, by the threads that ran them."""

    seconds: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.thread_time() - started
                with self.lock:
                    self.seconds[name] = self.seconds.get(name, 0.0) + spent

        return run


@dataclass
class Profiles:
    """A profiler per thread (of its CPU time), each enabled only inside the functions it wraps."""

    made: list[cProfile.Profile] = field(default_factory=list)
    local: threading.local = field(default_factory=threading.local)

    def profiled(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            profile = getattr(self.local, "profile", None)
            if profile is None:
                profile = self.local.profile = cProfile.Profile(time.thread_time)
                self.made.append(profile)  # list.append is atomic
            profile.enable()
            try:
                return function(*args, **kwargs)
            finally:
                profile.disable()

        return run

    def print(self, top: int = 25) -> None:
        stats = pstats.Stats(*self.made) if self.made else None
        if stats is not None:
            stats.sort_stats("tottime").print_stats(top)


# Where each part is timed: (owner, attribute, part). A part timed inside another (the body in
# the claim, the signature in a post) is subtracted from it when printed.
_PARTS: list[tuple[Any, str, str]] = [
    (outbox, "claim_due", "claim"),
    (outbox, "delivery_body", "body"),
    (worker.DeliveryWorker, "_post", "post"),
    (worker, "signature_header", "sign"),
    (worker.DeliveryWorker, "_record", "record"),
    (worker.log, "info", "log"),
]


@contextmanager
def patched(wrap: Callable[[str, Callable[..., Any]], Callable[..., Any]]) -> Iterator[None]:
    """Each of ``_PARTS`` replaced by ``wrap(part, original)``, and put back afterwards."""
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in _PARTS]
    for (owner, name, part), (_, _, original) in zip(_PARTS, originals, strict=True):
        setattr(owner, name, wrap(part, original))
    try:
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


@dataclass(frozen=True)
class Run:
    deliveries: int
    cpu_s: float  # this process's
    server_s: float  # the postgres processes' (0 on SQLite)
    wall_s: float


def deliver_all(
    database: Database, parts: Parts, profiles: Profiles | None, *, postgres: bool, concurrency: int
) -> Run:
    """Run the worker until nothing is due, timing the deliveries after its first round (which
    opens the connections), and their ``parts``."""
    policy = outbox.BackoffPolicy(base_s=1, cap_s=2, max_attempts=3)
    delivering = worker.DeliveryWorker(database, policy=policy, concurrency=concurrency)
    run_once = profiles.profiled(delivering.run_once) if profiles else delivering.run_once
    try:
        delivering.run_once()
        parts.seconds.clear()
        made, cpu, wall = 0, time.process_time(), time.perf_counter()
        server = postgres_cpu_seconds() if postgres else 0.0
        while attempts := run_once():
            made += attempts
        server = postgres_cpu_seconds() - server if postgres else 0.0
        return Run(made, time.process_time() - cpu, server, time.perf_counter() - wall)
    finally:
        delivering.stop()


def print_run(run: Run, spent: dict[str, float], profiled: bool) -> None:
    shares = {
        "claim (query, lease)": spent["claim"] - spent["body"],
        "body (JSON)": spent["body"],
        "sign (HMAC)": spent["sign"],
        "HTTP (the rest of a post)": spent["post"] - spent["sign"],
        "record (its transaction)": spent["record"] - spent["log"],
        "log (a JSON line a POST)": spent["log"],
    }
    shares["rest (the round, futures, threads)"] = run.cpu_s - sum(shares.values())
    made = run.deliveries
    note = " (profiled: inflated)" if profiled else ""
    print(f"  {made} deliveries timed in {run.wall_s:.2f} s wall: {made / run.wall_s:.0f}/s")
    print(f"  CPU ms a delivery, this process: {1000 * run.cpu_s / made:.3f}{note}")
    for name, seconds in shares.items():
        print(f"    {name:<36}{1000 * seconds / made:.3f}")
    if run.server_s:
        print(f"  CPU ms a delivery, the postgres processes: {1000 * run.server_s / made:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--receivers", type=int, default=4, help="webhooks, one receiver each")
    parser.add_argument(
        "--per-post", type=int, default=1, help="each webhook's receipts_per_post (default 1)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="posts side by side (the worker's; default 8)"
    )
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server (a new schema)")
    parser.add_argument("--profile", action="store_true", help="also profile every thread")
    args = parser.parse_args()
    if not 1 <= args.per_post <= MAX_RECEIPTS_PER_POST:
        parser.error(f"--per-post takes 1 to {MAX_RECEIPTS_PER_POST}")
    if args.concurrency < 1:
        parser.error("--concurrency takes 1 or more")

    parts = Parts()
    profiles = Profiles() if args.profile else None

    def wrap(part: str, function: Callable[..., Any]) -> Callable[..., Any]:
        timed = parts.timed(part, function)
        return profiles.profiled(timed) if profiles and part == "post" else timed

    backend = "PostgreSQL" if args.postgres else "SQLite"
    with (
        receivers(args.receivers) as urls,
        scratch_database(args.postgres) as database,
        production_logs(),
    ):
        queued = fill(database, urls, args.deliveries, args.per_post)
        print(
            f"webhooks: {queued} deliveries to {len(urls)} receivers on {backend}, "
            f"up to {args.per_post} a POST, {args.concurrency} side by side",
            flush=True,
        )
        with patched(wrap):
            run = deliver_all(database, parts, profiles, postgres=bool(args.postgres),
                              concurrency=args.concurrency)  # fmt: skip
        if delivered(database) != queued:
            raise SystemExit(f"only {delivered(database)} of {queued} deliveries were delivered")
    print_run(run, parts.seconds, profiled=profiles is not None)
    if profiles:
        profiles.print()


if __name__ == "__main__":
    main()
