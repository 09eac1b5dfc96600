"""How many declaration sets per second does the running service ingest over HTTP?

    .venv/bin/python benchmarks/ingest.py [--sets N] [--concurrency C]
                                          [--url http://127.0.0.1:8000 --admin-key KEY]
                                          [--postgres postgresql+psycopg://...] [--workers W]
                                          [--threads T] [--no-engine] [--profile]

A bounded load generator (httpx async; a fixed number of sets, at most C in flight; it stops by
itself): each set is four POSTs to ``/api/v1/documents`` by the four parties that send them in
reality — the seller's order, the payment company's payment (or receipt of payment), the
carrier's waybill, then the declarant's 清单 — one after the other, as a platform's integration
would. It prints sustained sets/s, p50/p99 latency of one POST, the server's CPU time per set
(from /proc, its worker processes included), and the ratio to the in-process validation rate
(``declarations.validate_set`` on the same sets, one core).

The **HTTP floor** is measured in the same run on the same server (before the submissions, while
the engine is idle), with the same load generator and concurrency and as many requests: each
one the cheapest authenticated request a party makes (``GET /api/v1/enterprises/me``: the key
check). It is what the framework, the key check and the load generator allow on this machine
before the service does any work; the report gives its server CPU per GET against the targets
of issue 15 (0.8 ms must, 0.5 ms goal) and as a ratio to a bare FastAPI route served the same
way (``benchmarks/http_floor.py``, which also measures the floor alone) with as many requests
in the same run, what fraction of the floor's requests/s the submissions reach, and how many
sets/s the floor alone would allow (four requests a set).

Without ``--url`` it starts ``danchuang serve`` itself on a free loopback port with a fresh
SQLite file (and, with ``--postgres URL``, a second run on PostgreSQL in a fresh schema, with
``--workers`` uvicorn processes), with the clearance engine and webhook delivery running as in
production. Parties are registered and keyed through the admin API before the clock starts.
``--profile`` also runs the same submissions in-process (``submission.submit_document`` on
SQLite, no HTTP): their rate unprofiled, then under cProfile the CPU per set of each part
(parse, schema, rules, the write transaction and its steps, commit) and the top functions.

There is no ``--bundle`` mode: ``/api/v1/bundles`` takes a set from one caller, who must be
the sender (copCode) of every message in it, while the generated sets, like real ones, have
four senders.

Measured numbers wander with the machine's load; compare the ratios, which are measured in the
same run. The goal stated for the service is 1,400 sets/s with p99 < 100 ms on 2 cores; see
docs/live-clearance.md ("Ingest performance") for what one process reaches and why.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from declarations import (  # noqa: E402
    BY_ROOT,
    Direction,
    Kind,
    Regime,
    validate_set,
)
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


def parties(sets: list[SampleSet]) -> dict[str, list[str]]:
    """Party code -> its roles, for every party of the sets (a generated company may act in
    two roles, e.g. a carrier that is also the declarant)."""
    found: dict[str, set[str]] = {}
    for sample in sets:
        for kind, code in senders(sample).items():
            found.setdefault(code, set()).add(ROLE_OF[kind])
    return {code: sorted(roles) for code, roles in found.items()}


# --- the server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base: str
    pid: int | None  # None: a server we did not start (--url): its CPU time is not read


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process and its live descendants (uvicorn's workers),
    read from Linux's /proc; None elsewhere."""
    if pid is None:
        return None
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parent[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    if pid not in ticks:
        return None
    tree, changed = {pid}, True
    while changed:
        grown = tree | {child for child, up in parent.items() if up in tree}
        changed, tree = grown != tree, grown
    return sum(ticks[p] for p in tree) / os.sysconf("SC_CLK_TCK")


@contextmanager
def spawned_server(
    database_url: str,
    workdir: Path,
    *,
    engine: bool = True,
    workers: int = 1,
    threads: int | None = None,
    serve_options: tuple[str, ...] = (),
) -> Iterator[Server]:
    """``danchuang serve [serve_options]`` on a free loopback port; stopped at the end."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANCHUANG_")}
    env |= {"DANCHUANG_DATABASE_URL": database_url, "DANCHUANG_ADMIN_KEY": ADMIN_KEY,
            "DANCHUANG_LOG_LEVEL": "WARNING", "DANCHUANG_LOG_FORMAT": "json"}  # fmt: skip
    log = (workdir / "server.log").open("wb")
    danchuang = Path(sys.executable).with_name("danchuang")
    options = ["--workers", str(workers)] if workers > 1 else []
    options += ["--threads", str(threads)] if threads else []
    options += serve_options
    process = subprocess.Popen(
        [
            str(danchuang),
            "serve",
            "--port",
            str(port),
            *options,
            *([] if engine else ["--no-engine"]),
        ],
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
        yield Server(base, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


# --- the load ---------------------------------------------------------------------------------


async def register(base: str, admin_key: str, codes: dict[str, list[str]]) -> dict[str, str]:
    """Register every party (409 = already there) and issue it a key; code -> key."""
    admin = {"Authorization": f"Bearer {admin_key}"}
    keys: dict[str, str] = {}
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one(code: str, roles: list[str]) -> None:
            async with limit:
                body = {"code": code, "name": f"Benchmark {code}", "roles": roles}
                answer = await client.post("/api/v1/enterprises", json=body, headers=admin)
                if answer.status_code not in (201, 409):
                    raise SystemExit(f"cannot register {code}: {answer.text}")
                key = await client.post(f"/api/v1/enterprises/{code}/keys", headers=admin)
                key.raise_for_status()
                keys[code] = key.json()["key"]

        await asyncio.gather(*(one(code, roles) for code, roles in codes.items()))
    return keys


@dataclass
class LoadResult:
    sets: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    failures: dict[int, tuple[int, str]]  # HTTP status -> (count, first answer's body)
    server_cpu_s: float | None = None  # the server's CPU seconds during the load
    client_cpu_s: float = 0.0  # the load generator's own CPU seconds meanwhile

    @property
    def sets_per_s(self) -> float:
        return self.sets / self.seconds

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _headers(key: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **more}


@dataclass
class _Tally:
    """Latencies and failures of one load run, filled in by its workers."""

    latencies: list[float] = field(default_factory=list)
    failures: dict[int, tuple[int, str]] = field(default_factory=dict)

    async def timed(self, request: Awaitable[httpx.Response], expected: int) -> None:
        started = time.perf_counter()
        answer = await request
        self.latencies.append((time.perf_counter() - started) * 1000)
        if answer.status_code != expected:
            count, first = self.failures.get(answer.status_code, (0, answer.text[:300]))
            self.failures[answer.status_code] = (count + 1, first)


async def _measured(
    server: Server, tally: _Tally, requests: int, sets: int, workers: list[Awaitable[None]]
) -> LoadResult:
    """Run the workers to the end; the wall time and the CPU seconds of the server (its process
    tree) and of this load generator meanwhile."""
    cpu_before, own_before = cpu_seconds(server.pid), _own_cpu_seconds()
    started = time.perf_counter()
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - started
    cpu_after, own = cpu_seconds(server.pid), _own_cpu_seconds() - own_before
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    return LoadResult(sets, requests, elapsed, tally.latencies, tally.failures, cpu, own)


async def drive(
    server: Server, keys: dict[str, str], submissions: list[Submission], concurrency: int
) -> LoadResult:
    """Send every set, at most ``concurrency`` sets in flight; stops when all are sent."""
    tally = _Tally()
    queue: asyncio.Queue[Submission] = asyncio.Queue()
    for submission in submissions:
        queue.put_nowait(submission)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.base, timeout=60, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                submission = queue.get_nowait()
                for code, xml in submission.documents:
                    headers = _headers(keys[code], **{"Content-Type": "application/xml"})
                    post = client.post("/api/v1/documents", content=xml, headers=headers)
                    await tally.timed(post, 201)

        requests = sum(len(s.documents) for s in submissions)
        workers = [worker() for _ in range(concurrency)]
        return await _measured(server, tally, requests, len(submissions), workers)


def validation_rate(sets: list[SampleSet]) -> float:
    """In-process ``validate_set`` on the same sets: sets per CPU second (one core)."""
    payloads = [[to_bytes(r) for r in s.documents.values()] for s in sets]
    started = time.process_time()
    for documents in payloads:
        validate_set(documents)
    return len(payloads) / (time.process_time() - started)


def run_against(
    server: Server,
    admin_key: str,
    sets: list[SampleSet],
    concurrency: int,
    bare: Server | None = None,
) -> tuple[LoadResult, LoadResult, LoadResult | None]:
    """The HTTP floor, as many requests to the bare FastAPI route of ``bare``
    (benchmarks/http_floor.py), then the submissions, on the same server as the floor."""
    from benchmarks.http_floor import BARE_PATH, FLOOR_PATH, drive_get  # noqa: PLC0415

    keys = asyncio.run(register(server.base, admin_key, parties(sets)))
    submissions = [as_submission(s) for s in sets]
    requests = sum(len(s.documents) for s in submissions)
    # The floor first, while the engine has nothing to clear: after the submissions it would be
    # charged with the engine's work on them.
    floor = asyncio.run(drive_get(server, FLOOR_PATH, list(keys.values()), requests, concurrency))
    plain = None
    if bare is not None:
        plain = asyncio.run(drive_get(bare, BARE_PATH, [], requests, concurrency))
    result = asyncio.run(drive(server, keys, submissions, concurrency))
    return result, floor, plain


def _cpu_ms(cpu_s: float | None, count: int) -> str:
    return f"{cpu_s / count * 1000:.2f} ms" if cpu_s is not None and count else "n/a"


def report(
    name: str,
    result: LoadResult,
    floor: LoadResult,
    bare: LoadResult | None,
    validation: float,
) -> None:
    from benchmarks.http_floor import floor_line  # noqa: PLC0415

    p50, p99 = result.percentile(0.50), result.percentile(0.99)
    print(
        f"{name:<11} {result.sets:>6} sets in {result.seconds:6.2f}s  "
        f"{result.sets_per_s:8.1f} sets/s  p50 {p50:6.1f} ms  p99 {p99:7.1f} ms  "
        f"failures {sum(n for n, _ in result.failures.values())}  "
        f"ratio to validate_set {result.sets_per_s / validation:.3f}"
    )
    for status, (count, body) in sorted(result.failures.items()):
        print(f"{'':<11} HTTP {status} x{count}, e.g. {body}")
    busy = ((result.server_cpu_s or 0.0) + result.client_cpu_s) / result.seconds
    print(
        f"{'':<11} server CPU {_cpu_ms(result.server_cpu_s, result.sets)} per set "
        f"({_cpu_ms(result.server_cpu_s, result.requests)} per POST); load generator "
        f"{_cpu_ms(result.client_cpu_s, result.requests)} per POST; together "
        f"{busy:.2f} of the machine's {os.cpu_count()} cores"
    )
    print(f"{'':<11} {floor_line(floor, bare)}")
    print(
        f"{'':<11} submissions reach {result.requests_per_s / floor.requests_per_s:.1%} of the "
        f"floor's requests/s ({result.requests_per_s:.1f} POSTs/s); the floor alone allows "
        f"{floor.requests_per_s / 4:.0f} sets/s"
    )
    print(
        f"{'':<11} goal {GOAL_SETS_PER_S:.0f} sets/s with p99 < {GOAL_P99_MS:.0f} ms: "
        f"{result.sets_per_s / GOAL_SETS_PER_S:.1%} of the rate, p99 "
        f"{'met' if p99 < GOAL_P99_MS else 'missed'}"
    )


# --- where the time goes -----------------------------------------------------------------------


# The parts of a submission, as (label, module path suffix, function name) of pstats entries;
# their cumulative times are shown per set. Parts nest: the write transaction holds the rest.
PARTS = [
    ("submit_document (all of it)", "app/services/submission.py", "submit_document"),
    ("  parse + identify", "declarations/pipeline.py", "parse_step"),
    ("  identify", "declarations/pipeline.py", "identify_step"),
    ("  schema (XSD)", "declarations/pipeline.py", "schema_step"),
    ("  business rules", "declarations/pipeline.py", "rules_step"),
    ("  write transaction (_take)", "app/services/submission.py", "_take"),
    ("    resend check (guid)", "app/services/submission.py", "_repeat"),
    ("    lifecycle (held document)", "app/services/submission.py", "_lifecycle"),
    ("    set: attach", "app/services/sets.py", "attach"),
    ("    receipts + outbox", "app/receipts.py", "record_receipts"),
    ("    set: advance (reconcile, quota)", "app/services/sets.py", "advance"),
    ("  commit", "sqlalchemy/orm/session.py", "commit"),
]


def profile_in_process(sets: list[SampleSet], top: int = 25) -> None:
    """The route's own work (``submission.submit_document``) on SQLite, without HTTP: its rate
    unprofiled, then under cProfile with the CPU per set of each part."""
    work = [as_submission(s) for s in sets]
    half = len(work) // 2
    rate = _submit_in_process(sets, work[:half], None)
    profiler = cProfile.Profile()
    profiled_rate = _submit_in_process(sets, work[half:], profiler)
    print(
        f"\nin-process submit_document, SQLite, no HTTP: {rate:.1f} sets/s "
        f"({1000 / rate:.2f} ms per set); under cProfile {profiled_rate:.1f} sets/s"
    )
    stats = pstats.Stats(profiler)
    by_name: dict[tuple[str, str], float] = {}
    for (filename, _line, function), entry in stats.stats.items():  # type: ignore[attr-defined]
        for _label, suffix, name in PARTS:
            if function == name and filename.endswith(suffix):
                by_name[(suffix, name)] = by_name.get((suffix, name), 0.0) + entry[3]
    # Scaled to the unprofiled rate: cProfile slows Python code more than C, so read the
    # shares as rough.
    scale = profiled_rate / rate
    print(f"CPU per set by part (profiled times x {scale:.2f}):")
    count = len(work) - half
    for label, suffix, name in PARTS:
        seconds = by_name.get((suffix, name), 0.0) * scale
        print(f"  {label:<38} {seconds / count * 1000:7.2f} ms")
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(15)  # the leaves: driver, ORM, lxml, ...
    print(out.getvalue())


def _submit_in_process(
    sets: list[SampleSet], work: list[Submission], profiler: cProfile.Profile | None
) -> float:
    """Submit ``work`` through a fresh SQLite database; sets per second (wall clock)."""
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
            for code, roles in parties(sets).items():
                row = accounts.create_enterprise(
                    session, code=code, name=code, roles=[Role(r) for r in roles]
                )
                session.flush()
                principals[code] = Principal.of(row)
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        for item in work:
            for code, xml in item.documents:
                submission.submit_document(database, principals[code], xml, regime=None)
        if profiler is not None:
            profiler.disable()
        elapsed = time.perf_counter() - started
        database.dispose()
    return len(work) / elapsed


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
        "--workers", type=int, default=1, help="uvicorn worker processes on PostgreSQL (1)"
    )
    parser.add_argument("--threads", type=int, help="the server's threadpool (serve's default)")
    parser.add_argument(
        "--postgres-only", action="store_true", help="skip the SQLite run (with --postgres)"
    )
    parser.add_argument(
        "--no-engine", action="store_true", help="serve the API only (no engine, no webhooks)"
    )
    args = parser.parse_args()
    if args.sets < 1 or args.concurrency < 1:
        parser.error("--sets and --concurrency must be at least 1")
    if args.postgres_only and not args.postgres:
        parser.error("--postgres-only needs --postgres URL")

    # A fresh seed per run: the same orderNo twice would be an idempotent resend, not new work.
    seed = args.seed if args.seed is not None else int(time.time())
    sets = build_sets(args.sets, seed)
    validation = validation_rate(sets)
    print(f"validate_set in-process: {validation:8.1f} sets/s (one core, CPU time)")
    engine = "API only" if args.no_engine else "with the clearance engine and webhooks"
    print(f"load: {args.sets} sets x 4 POSTs, {args.concurrency} sets in flight, {engine}\n")

    if args.url:
        server = Server(args.url, None)
        result, floor, _ = run_against(server, args.admin_key, sets, args.concurrency)
        report("server", result, floor, None, validation)
    else:
        from benchmarks.http_floor import bare_server  # noqa: PLC0415

        with (
            tempfile.TemporaryDirectory(prefix="danchuang-ingest-") as folder,
            bare_server(Path(folder)) as bare,
        ):
            workdir = Path(folder)
            sqlite = f"sqlite:///{workdir / 'ingest.db'}"
            if not args.postgres_only:
                with spawned_server(
                    sqlite, workdir, engine=not args.no_engine, threads=args.threads
                ) as server:
                    result, floor, plain = run_against(
                        server, ADMIN_KEY, sets, args.concurrency, bare
                    )
                report("sqlite", result, floor, plain, validation)
            if args.postgres:
                from app.db.scratch import scratch_schema  # noqa: PLC0415

                pg_sets = build_sets(args.sets, seed + 1)
                with (
                    scratch_schema(args.postgres, "bench_") as url,
                    spawned_server(
                        url,
                        workdir,
                        engine=not args.no_engine,
                        workers=args.workers,
                        threads=args.threads,
                    ) as server,
                ):
                    result, floor, plain = run_against(
                        server, ADMIN_KEY, pg_sets, args.concurrency, bare
                    )
                name = "postgresql" + (f" ({args.workers} workers)" if args.workers > 1 else "")
                report(name, result, floor, plain, validation)
    if args.profile:
        profile_in_process(build_sets(min(args.sets, 400), seed + 2))


if __name__ == "__main__":
    main()
