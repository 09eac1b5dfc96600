"""How many declaration sets per second does the running service ingest over HTTP?

    .venv/bin/python benchmarks/ingest.py [--sets N] [--concurrency C]
                                          [--url http://127.0.0.1:8000 --admin-key KEY]
                                          [--postgres postgresql+psycopg://...] [--profile]

A bounded load generator (httpx async; a fixed number of sets, at most C in flight; it stops by
itself): each set is four POSTs to ``/api/v1/documents`` by the four parties that send them in
reality — the seller's order, the payment company's payment (or receipt of payment), the
carrier's waybill, then the declarant's 清单 — one after the other, as a platform's integration
would. It prints sustained sets/s, p50/p99 latency of one POST, and the ratio to the
in-process validation rate (``declarations.validate_set`` on the same sets, one core), which is
the ceiling for work the service must do anyway.

Without ``--url`` it starts ``danchuang serve`` itself on a free loopback port with a fresh
SQLite file (and, with ``--postgres URL``, a second run on PostgreSQL in a fresh schema), with
the clearance engine and webhook delivery running as in production. Parties are registered and
keyed through the admin API before the clock starts. ``--profile`` also runs the same
submissions in-process (``app.services.submission.submit_document`` on SQLite, no HTTP) under
cProfile and prints where the time goes.

Measured numbers wander with the machine's load; compare the ratio, which is measured in the
same run. The goal stated for the service is 1,400 sets/s with p99 < 100 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from declarations.messages import BY_ROOT, Direction, Kind, Regime  # noqa: E402
from declarations.pipeline import validate_set  # noqa: E402
from declarations.samples import SampleSet, generate_sets, to_bytes  # noqa: E402

ADMIN_KEY = "ingest-benchmark-admin-key-0123456789abcdef"
GOAL_SETS_PER_S = 1400.0
GOAL_P99_MS = 100.0
MIX = [(Regime.DIRECT, Direction.IMPORT), (Regime.BONDED, Direction.IMPORT),
       (Regime.DIRECT, Direction.EXPORT), (Regime.B2B_DIRECT, Direction.EXPORT)]  # fmt: skip
ROLE_OF = {Kind.ORDER: "ebc", Kind.PAYMENT: "pay", Kind.WAYBILL: "logistics",
           Kind.INVENTORY: "agent"}  # fmt: skip


@dataclass(frozen=True)
class Submission:
    """One set as the load generator sends it: (party code, XML) in sending order."""

    documents: list[tuple[str, bytes]]


def build_sets(count: int, seed: int) -> list[SampleSet]:
    per_flow = -(-count // len(MIX))
    sets = [s for regime, d in MIX for s in generate_sets(regime, d, seed=seed, count=per_flow)]
    return sets[:count]


def senders(sample: SampleSet) -> dict[Kind, str]:
    """The code of the party that sends each kind of document of the set."""
    deal = sample.deal
    return {Kind.ORDER: deal.seller.code, Kind.PAYMENT: deal.payer_company.code,
            Kind.WAYBILL: deal.carrier.code, Kind.INVENTORY: deal.agent.code}  # fmt: skip


def as_submission(sample: SampleSet) -> Submission:
    sender = senders(sample)
    return Submission(
        [
            (sender[BY_ROOT[root.tag.split("}")[1]].kind], to_bytes(root))
            for root in sample.documents.values()
        ]
    )


def parties(sets: list[SampleSet]) -> dict[str, str]:
    """Party code -> role, for every party of the sets."""
    found: dict[str, str] = {}
    for sample in sets:
        for kind, code in senders(sample).items():
            found.setdefault(code, ROLE_OF[kind])
    return found


# --- the server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def spawned_server(database_url: str, workdir: Path, *, engine: bool = True) -> Iterator[str]:
    """``danchuang serve`` on a free loopback port; yields its base URL; stopped at the end."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANCHUANG_")}
    env |= {"DANCHUANG_DATABASE_URL": database_url, "DANCHUANG_ADMIN_KEY": ADMIN_KEY,
            "DANCHUANG_LOG_LEVEL": "WARNING", "DANCHUANG_LOG_FORMAT": "json"}  # fmt: skip
    log = (workdir / "server.log").open("wb")
    danchuang = Path(sys.executable).with_name("danchuang")
    process = subprocess.Popen(
        [str(danchuang), "serve", "--port", str(port), *([] if engine else ["--no-engine"])],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; see {workdir / 'server.log'}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema on the given PostgreSQL server, dropped afterwards."""
    from sqlalchemy import create_engine, text  # noqa: PLC0415
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# --- the load ---------------------------------------------------------------------------------


async def register(base: str, admin_key: str, codes: dict[str, str]) -> dict[str, str]:
    """Register every party (409 = already there) and issue it a key; code -> key."""
    admin = {"Authorization": f"Bearer {admin_key}"}
    keys: dict[str, str] = {}
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one(code: str, role: str) -> None:
            async with limit:
                body = {"code": code, "name": f"Benchmark {code}", "roles": [role]}
                answer = await client.post("/api/v1/enterprises", json=body, headers=admin)
                if answer.status_code not in (201, 409):
                    raise SystemExit(f"cannot register {code}: {answer.text}")
                key = await client.post(f"/api/v1/enterprises/{code}/keys", headers=admin)
                key.raise_for_status()
                keys[code] = key.json()["key"]

        await asyncio.gather(*(one(code, role) for code, role in codes.items()))
    return keys


@dataclass
class LoadResult:
    sets: int
    seconds: float
    latencies_ms: list[float]
    failures: dict[int, tuple[int, str]]  # HTTP status -> (count, first answer's body)

    @property
    def sets_per_s(self) -> float:
        return self.sets / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def drive(
    base: str, keys: dict[str, str], submissions: list[Submission], concurrency: int
) -> LoadResult:
    """Send every set, at most ``concurrency`` sets in flight; stops when all are sent."""
    latencies: list[float] = []
    failures: dict[int, tuple[int, str]] = {}
    queue: asyncio.Queue[Submission] = asyncio.Queue()
    for submission in submissions:
        queue.put_nowait(submission)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                submission = queue.get_nowait()
                for code, xml in submission.documents:
                    headers = {"Authorization": f"Bearer {keys[code]}",
                               "Content-Type": "application/xml"}  # fmt: skip
                    started = time.perf_counter()
                    answer = await client.post("/api/v1/documents", content=xml, headers=headers)
                    latencies.append((time.perf_counter() - started) * 1000)
                    if answer.status_code != 201:
                        count, first = failures.get(answer.status_code, (0, answer.text[:300]))
                        failures[answer.status_code] = (count + 1, first)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return LoadResult(len(submissions), elapsed, latencies, failures)


def validation_rate(sets: list[SampleSet]) -> float:
    """In-process ``validate_set`` on the same sets: sets per CPU second (one core)."""
    payloads = [[to_bytes(r) for r in s.documents.values()] for s in sets]
    started = time.process_time()
    for documents in payloads:
        validate_set(documents)
    return len(payloads) / (time.process_time() - started)


def run_against(base: str, admin_key: str, sets: list[SampleSet], concurrency: int) -> LoadResult:
    keys = asyncio.run(register(base, admin_key, parties(sets)))
    return asyncio.run(drive(base, keys, [as_submission(s) for s in sets], concurrency))


def report(name: str, result: LoadResult, validation: float) -> None:
    p50, p99 = result.percentile(0.50), result.percentile(0.99)
    print(
        f"{name:<11} {result.sets:>6} sets in {result.seconds:6.2f}s  "
        f"{result.sets_per_s:8.1f} sets/s  p50 {p50:6.1f} ms  p99 {p99:7.1f} ms  "
        f"failures {sum(n for n, _ in result.failures.values())}  "
        f"ratio to validate_set {result.sets_per_s / validation:.3f}"
    )
    for status, (count, body) in sorted(result.failures.items()):
        print(f"{'':<11} HTTP {status} x{count}, e.g. {body}")
    print(
        f"{'':<11} goal {GOAL_SETS_PER_S:.0f} sets/s with p99 < {GOAL_P99_MS:.0f} ms: "
        f"{result.sets_per_s / GOAL_SETS_PER_S:.1%} of the rate, p99 "
        f"{'met' if p99 < GOAL_P99_MS else 'missed'}"
    )


# --- where the time goes -----------------------------------------------------------------------


def profile_in_process(sets: list[SampleSet], top: int = 25) -> None:
    """The route's own work (``submission.submit_document``) on SQLite, without HTTP."""
    from app import accounts  # noqa: PLC0415
    from app.accounts import Principal  # noqa: PLC0415
    from app.db import migrate  # noqa: PLC0415
    from app.db.engine import Database  # noqa: PLC0415
    from app.db.models import Role  # noqa: PLC0415
    from app.services import submission  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        database = Database.from_url(f"sqlite:///{folder}/profile.db")
        migrate.upgrade(database.engine)
        principals: dict[str, Principal] = {}
        with database.write() as session:
            for code, role in parties(sets).items():
                row = accounts.create_enterprise(session, code=code, name=code, roles=[Role(role)])
                session.flush()
                principals[code] = Principal.of(row)
        work = [as_submission(s) for s in sets]
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for item in work:
            for code, xml in item.documents:
                submission.submit_document(database, principals[code], xml, regime=None)
        profiler.disable()
        elapsed = time.perf_counter() - started
        database.dispose()
    print(f"\nin-process submit_document, SQLite, profiled: {len(work) / elapsed:.1f} sets/s")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(15)  # the leaves: driver, ORM, lxml, ...
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", type=int, default=400, help="sets to send (default 400)")
    parser.add_argument("--concurrency", type=int, default=16, help="sets in flight (16)")
    parser.add_argument("--url", help="a running server (else one is started per backend)")
    parser.add_argument("--admin-key", default=ADMIN_KEY, help="its DANCHUANG_ADMIN_KEY")
    parser.add_argument("--postgres", help="also run on this PostgreSQL server (a new schema)")
    parser.add_argument("--seed", type=int, default=None, help="sample seed (default: random)")
    parser.add_argument("--profile", action="store_true", help="profile the in-process path")
    parser.add_argument(
        "--no-engine", action="store_true", help="serve the API only (no engine, no webhooks)"
    )
    args = parser.parse_args()
    if args.sets < 1 or args.concurrency < 1:
        parser.error("--sets and --concurrency must be at least 1")

    # A fresh seed per run: the same orderNo twice would be an idempotent resend, not new work.
    seed = args.seed if args.seed is not None else int(time.time())
    sets = build_sets(args.sets, seed)
    validation = validation_rate(sets)
    print(f"validate_set in-process: {validation:8.1f} sets/s (one core, CPU time)")
    engine = "API only" if args.no_engine else "with the clearance engine and webhooks"
    print(f"load: {args.sets} sets x 4 POSTs, {args.concurrency} sets in flight, {engine}\n")

    if args.url:
        report("server", run_against(args.url, args.admin_key, sets, args.concurrency), validation)
    else:
        with tempfile.TemporaryDirectory(prefix="danchuang-ingest-") as folder:
            workdir = Path(folder)
            sqlite = f"sqlite:///{workdir / 'ingest.db'}"
            with spawned_server(sqlite, workdir, engine=not args.no_engine) as base:
                result = run_against(base, ADMIN_KEY, sets, args.concurrency)
            report("sqlite", result, validation)
            if args.postgres:
                pg_sets = build_sets(args.sets, seed + 1)
                with (
                    postgres_schema(args.postgres) as url,
                    spawned_server(url, workdir, engine=not args.no_engine) as base,
                ):
                    result = run_against(base, ADMIN_KEY, pg_sets, args.concurrency)
                report("postgresql", result, validation)
    if args.profile:
        profile_in_process(build_sets(min(args.sets, 200), seed + 2))


if __name__ == "__main__":
    main()
