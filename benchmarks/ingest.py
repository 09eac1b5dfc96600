"""How many declaration sets per second does the running service ingest over HTTP?

    .venv/bin/python benchmarks/ingest.py [--sets N] [--batch 1,100] [--batch-sets M]
                                          [--concurrency C] [--postgres URL] [--workers 1,2]
                                          [--minutes M] [--url URL --admin-key KEY]
                                          [--threads T] [--no-engine] [--profile]
                                          [--receipts-per-post P] [--rounds R]

A bounded load generator (its own HTTP/1.1 client over asyncio streams, ``raw_http.py``,
about 0.2 ms of CPU a request; it stops by itself) sends declaration sets, each of four
documents by the four parties that send them in reality — the seller's order, the payment
company's payment, the carrier's waybill, then the declarant's 清单 — in one of two ways
(``--batch``, both by default):

- **batch 1**, one-record messages: N sets (``--sets``) of the four flows of ``MIX``, every set
  its own parties, each set four POSTs one after the other, at most C sets in flight;
- **batch N** (N > 1), batched messages: M sets (``--batch-sets``) in chunks of N sets that
  share their parties; for each chunk each party sends one message holding the chunk's N
  records of its kind (orders, then payments, waybills, 清单), at most C chunks in flight. A
  set counts when its last record is answered (its chunk's 清单 message).

For each it prints sustained sets/s, p50/p99 per message (per HTTP request), the server's CPU per
set, per record and per request (from /proc, its worker processes included), the engine's clock lag
(``danchuang_clock_lag_seconds`` sampled from ``/metrics`` every 0.5 s: max and last), how many
declarations were not final when the load ended and how long until all were, webhook deliveries per
second to a receiver on loopback in this process (every party has a webhook for every receipt,
taking up to ``--receipts-per-post`` a POST), and the RSS of the server's processes (start, max,
end). Beforehand, the **HTTP floor** on the same server, while the engine is idle: as many of the
cheapest authenticated requests (``GET /api/v1/enterprises/me``) as the one-record load sends, and
a bare FastAPI route served the same way (``benchmarks/http_floor.py``). Every figure with a target
in issue 15 is shown against it as a ratio (figure / bound) measured in the same run, and a summary
table closes the run with MET / NOT MET.

Without ``--url`` it starts ``danchuang serve`` itself on a free loopback port with a fresh
SQLite file (and, with ``--postgres URL``, on PostgreSQL in a fresh schema for each
``--workers`` count, e.g. ``--workers 1,2``: it then prints two processes against one in sets
per server CPU-second until every declaration is final and the outbox empty, else over the
loads; N processes share the engine's work in N partitions, ``DANCHUANG_ENGINE_PARTITIONS``;
``--rounds R`` runs the counts in turn R times and pools the ratio over the rounds).
``--minutes M`` is a soak: on the first backend it keeps sending rounds of new sets (fresh
seeds: guids never repeat) for M minutes and prints the server's RSS per minute and whether it
grew. ``--profile`` also runs the submissions in-process (``benchmarks/ingest_profile.py``).

Measured numbers wander with the machine's load; compare the ratios, which are measured in the
same run. See docs/live-clearance.md ("Ingest performance").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from app.api.schemas_webhooks import MAX_RECEIPTS_PER_POST  # noqa: E402
from benchmarks.ingest_load import (  # noqa: E402
    ROLE_OF,
    LoadResult,
    Submission,
    _headers,
    _measured,
    _Tally,
    as_submission,
    build_chunks,
    build_sets,
    drive,
    drive_chunks,
    parties,
    register,
    senders,
    single_round,
    subscribe,
    validation_rate,
)
from benchmarks.ingest_log import log_size, retried_writes, server_log  # noqa: E402
from benchmarks.ingest_report import (  # noqa: E402
    PAD,
    Load,
    Measured,
    Options,
    report_floor,
    report_load,
    report_scaling,
    report_soak,
    report_watched,
    whole_cost,
)
from benchmarks.ingest_server import (  # noqa: E402
    ADMIN_KEY,
    Server,
    _free_port,
    cpu_seconds,
    rss_bytes,
    settle,
    spawned_server,
)
from benchmarks.ingest_targets import Summary  # noqa: E402
from benchmarks.ingest_watch import Declarations, Receiver, Sampler, drain  # noqa: E402

# What other scripts (benchmarks/http_floor.py, benchmarks/engine.py) take from here.
__all__ = ["ADMIN_KEY", "ROLE_OF", "LoadResult", "Server", "Submission", "_Tally", "_free_port",
           "_headers", "_measured", "as_submission", "build_sets", "cpu_seconds", "parties",
           "register", "rss_bytes", "senders", "spawned_server"]  # fmt: skip


class Keys:
    """The parties registered on a server so far, each with its key and its webhook."""

    def __init__(self, server: Server, admin_key: str, receiver: Receiver | None) -> None:
        self.server, self.admin_key, self.receiver = server, admin_key, receiver
        self.keys: dict[str, str] = {}
        self.roles: dict[str, set[str]] = {}
        self.refused: str | None = None  # why webhooks could not be registered

    def fit(self, codes: dict[str, list[str]]) -> bool:
        """Whether parties of these roles can send: none registered before without one of
        them (a later round's random company code may be an earlier one's in another role,
        and roles are given at registration only)."""
        return all(set(roles) <= self.roles.get(code, set(roles)) for code, roles in codes.items())

    def ensure(self, codes: dict[str, list[str]]) -> dict[str, str]:
        new = {code: roles for code, roles in codes.items() if code not in self.keys}
        for code, roles in new.items():
            self.roles[code] = set(roles)
        if new:
            issued = asyncio.run(register(self.server.base, self.admin_key, new))
            self.keys |= issued
            if self.receiver is not None and self.refused is None:
                self.refused = asyncio.run(subscribe(self.server.base, issued, self.receiver))
        return self.keys


def send_round(
    keys: Keys, server: Server, load: Load, opts: Options, started: Callable[[], float]
) -> float:
    """One round of ``load``'s sets, built now with the round's own seed, its parties
    registered, then sent (added to ``load``); when the sending began, as ``started`` (called
    just before) says."""
    if load.batch == 1:
        drawn = single_round(opts.sets, opts.seed, load.rounds)
        sets = [sample for sample in drawn if keys.fit(parties([sample]))]
        load.skipped += len(drawn) - len(sets)
        submissions = [as_submission(s) for s in sets]
        key = keys.ensure(parties(sets))
        began = started()
        load.add(asyncio.run(drive(server, key, submissions, opts.concurrency)))
        return began
    per_round = -(-opts.batch_sets // load.batch)
    made = build_chunks(opts.batch_sets, load.batch, opts.seed, start=load.rounds * per_round)
    chunks = [chunk for chunk in made if keys.fit(chunk.parties)]
    load.skipped += sum(chunk.sets for chunk in made) - sum(chunk.sets for chunk in chunks)
    codes: dict[str, set[str]] = {}
    for chunk in chunks:
        for code, roles in chunk.parties.items():
            codes.setdefault(code, set()).update(roles)
    key = keys.ensure({code: sorted(roles) for code, roles in codes.items()})
    began = started()
    load.add(asyncio.run(drive_chunks(server, key, chunks, opts.concurrency)))
    return began


@dataclass(frozen=True)
class Bench:
    """What every server's run shares: the admin key, the webhook receiver, the bare FastAPI
    server the floor is compared with, and the summary the figures go to."""

    admin_key: str
    receiver: Receiver | None
    bare: Server | None
    summary: Summary


def run_server(
    name: str, server: Server, database_url: str | None, opts: Options, bench: Bench, *, soak: bool
) -> list[Measured]:
    """The floor, then each load (a soak: rounds of each in turn for ``opts.minutes``), each
    followed by its drain; reports each."""
    from benchmarks.http_floor import BARE_PATH, FLOOR_PATH, drive_get  # noqa: PLC0415

    receiver, bare, summary = bench.receiver, bench.bare, bench.summary
    keys = Keys(server, bench.admin_key, receiver)
    floor_keys = list(keys.ensure(parties(build_sets(16, opts.seed))).values())
    requests, quiet = 4 * opts.sets, settle(server)
    floor = asyncio.run(drive_get(server, FLOOR_PATH, floor_keys, requests, opts.concurrency))
    plain = (
        asyncio.run(drive_get(bare, BARE_PATH, [], requests, opts.concurrency)) if bare else None
    )
    report_floor(name, floor, plain, summary, quiet)
    declarations = Declarations(database_url) if database_url else None
    sampler = Sampler(server, receiver).start()
    measured = []
    try:
        loads = [Load(n) for n in opts.batches]
        if soak:
            started = time.monotonic()
            deadline = started + 60 * (opts.minutes or 0)
            while time.monotonic() < deadline:
                for load in loads:
                    send_round(keys, server, load, opts, sampler.mark)
            watched = drain(sampler, declarations, started, sampler.mark(), opts.drain_s)
            measured = [Measured(load, watched) for load in loads]
        else:
            for load in loads:
                logged = log_size(server.log)
                started = send_round(keys, server, load, opts, sampler.mark)
                watched = drain(sampler, declarations, started, sampler.mark(), opts.drain_s)
                retried = retried_writes(server.log, logged) if server.log else None
                whole = whole_cost(load.result, watched)
                measured.append(Measured(load, watched, whole, retried))
                report_load(name, measured[-1], opts, summary)
    finally:
        sampler.stop()
        if declarations is not None:
            declarations.close()
    if soak and measured:
        for item in measured:
            report_load(name, item, opts, summary, watched=False)
        print(f"  over the whole soak, every load ({opts.minutes:g} min):")
        report_watched(f"{name}, soak", max(opts.batches), measured[0].watched, opts, summary)
        report_soak(name, measured[0].watched, summary)
    if keys.refused:
        print(f"{PAD}webhooks not registered: {keys.refused}")
    return measured


@contextmanager
def receiving(enabled: bool, per_post: int) -> Iterator[Receiver | None]:
    if not enabled:
        yield None
        return
    with Receiver(per_post).running() as receiver:
        yield receiver


def _counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--sets", type=int, default=400, help="one-record sets a run (default 400)")
    add("--batch", default="1,100", help="records per message, comma-separated (default 1,100)")
    add("--batch-sets", type=int, default=4000, help="batched sets a run (default 4000)")
    add("--concurrency", type=int, default=16,
        help="in flight (16): sets with one-record messages, chunks (N sets, one message per "
             "party) with batched messages")  # fmt: skip
    add("--url", help="a running server (else one is started per backend)")
    add("--admin-key", default=ADMIN_KEY, help="its DANCHUANG_ADMIN_KEY")
    add("--postgres", help="also run on this PostgreSQL server (a new schema each run)")
    add("--workers", default="1", help="server processes on PostgreSQL, e.g. 1,2 (default 1)")
    add(
        "--rounds",
        type=int,
        default=1,
        help="PostgreSQL: run the --workers counts in turn this many times (a ratio pooled)",
    )
    add("--postgres-only", action="store_true", help="skip the SQLite run (with --postgres)")
    add("--minutes", type=float, help="soak: keep sending for this long on the first backend")
    add(
        "--drain-timeout",
        type=float,
        default=120.0,
        help="after a load, wait this long at most for every declaration to be final (120 s)",
    )
    add("--clock-speed", help="the server's DANCHUANG_CLOCK_SPEED (default: the service's)")
    add("--seed", type=int, default=None, help="sample seed (default: random)")
    add("--threads", type=int, help="the server's threadpool (serve's default)")
    add("--no-engine", action="store_true", help="serve the API only (no engine, no webhooks)")
    add("--receipts-per-post", type=int, default=1, help="each webhook's (1 to 100; default 1)")
    add("--profile", action="store_true", help="profile the in-process path")
    args = parser.parse_args()
    batches = _checked(parser, args)

    # A fresh seed per run: the same orderNo twice would be an idempotent resend, not new work.
    seed = args.seed if args.seed is not None else int(time.time())
    opts = Options(args.sets, args.batch_sets, batches, args.concurrency, seed, args.minutes,
                   args.drain_timeout)  # fmt: skip
    validation = validation_rate(build_sets(min(args.sets, 200), seed))
    print(f"validate_set in-process: {validation:8.1f} sets/s (one core, CPU time)")
    engine = "API only" if args.no_engine else "with the clearance engine and webhooks"
    print(f"batches {batches}, concurrency {args.concurrency}, {engine}, seed {seed}")
    settings = {"DANCHUANG_CLOCK_SPEED": args.clock_speed} if args.clock_speed else {}
    summary = Summary()
    soak = args.minutes is not None
    with receiving(not args.no_engine, args.receipts_per_post) as receiver:
        if args.url:
            bench = Bench(args.admin_key, receiver, None, summary)
            run_server("server", Server(args.url, None), None, opts, bench, soak=soak)
        else:
            run_spawned(args, opts, settings, receiver, summary, soak=soak)
    print("\nsummary (ratio: figure / bound)\n" + summary.table())
    if args.profile:
        from benchmarks.ingest_profile import profile_in_process  # noqa: PLC0415

        profile_in_process(build_sets(min(args.sets, 400), seed + 2))


def _checked(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[int]:
    """The arguments checked (a clear usage error, else nothing); the batch sizes."""
    batches, workers = _counts(args.batch), _counts(args.workers)
    if args.sets < 1 or args.batch_sets < 1 or args.concurrency < 1:
        parser.error("--sets, --batch-sets and --concurrency must be at least 1")
    if not batches or not all(1 <= n <= 100 for n in batches):
        parser.error("--batch takes record counts from 1 to 100, e.g. 1,100")
    if not workers or min(workers) < 1:
        parser.error("--workers takes process counts, e.g. 1,2")
    if args.rounds < 1:
        parser.error("--rounds takes a count of rounds, 1 or more")
    if not 1 <= args.receipts_per_post <= MAX_RECEIPTS_PER_POST:
        parser.error(f"--receipts-per-post takes 1 to {MAX_RECEIPTS_PER_POST}")
    if args.postgres_only and not args.postgres:
        parser.error("--postgres-only needs --postgres URL")
    return batches


def run_spawned(
    args: argparse.Namespace,
    opts: Options,
    settings: dict[str, str],
    receiver: Receiver | None,
    summary: Summary,
    *,
    soak: bool,
) -> None:
    """Each backend on a server of its own: SQLite, then PostgreSQL for each process count. A
    run that fails prints the end of the servers' log (their folder goes with the run)."""
    from app.db.scratch import scratch_schema  # noqa: PLC0415
    from benchmarks.http_floor import bare_server  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="danchuang-ingest-") as folder:
        workdir = Path(folder)

        def serve(url: str, workers: int = 1) -> AbstractContextManager[Server]:
            # Several processes share the engine's work as a deployment does: a partition each
            # (docs/deploy.md, "How workers share the partitions"); one alone has it all.
            shared = {"DANCHUANG_ENGINE_PARTITIONS": str(workers)} if workers > 1 else {}
            return spawned_server(url, workdir, engine=not args.no_engine, workers=workers,
                                  threads=args.threads, settings=shared | settings)  # fmt: skip

        def watched(url: str) -> str | None:
            """The database whose declarations a drain waits for: none without the engine,
            which alone makes them final."""
            return None if args.no_engine else url

        with bare_server(workdir) as bare, server_log(workdir / "server.log"):
            bench = Bench(ADMIN_KEY, receiver, bare, summary)
            if not args.postgres_only:
                url = f"sqlite:///{workdir / 'ingest.db'}"
                with serve(url) as server:
                    run_server("sqlite", server, watched(url), opts, bench, soak=soak)
                soak = False
            if not args.postgres:
                return
            counts, rounds = _counts(args.workers), []
            for r in range(args.rounds):  # the counts in turn, each round on new seeds
                runs: dict[int, list[Measured]] = {}
                for n, count in enumerate(counts):
                    run_opts = replace(opts, seed=opts.seed + 1 + n + r * len(counts))
                    with ExitStack() as stack:
                        url = stack.enter_context(scratch_schema(args.postgres, "bench_"))
                        server = stack.enter_context(serve(url, count))
                        name = f"postgresql, {count} process{'es' if count > 1 else ''}"
                        name += f" ({count} engine partitions)" if count > 1 else ""
                        name += f", round {r + 1}" if args.rounds > 1 else ""
                        runs[count] = run_server(name, server, watched(url), run_opts, bench,
                                                 soak=soak)  # fmt: skip
                    soak = False
                rounds.append(runs)
            report_scaling(rounds, summary)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
