"""Where does the clearance engine's time per declaration go?

    .venv/bin/python benchmarks/engine_profile.py [--declarations N] [--postgres URL]
        [--template FILE] [--shared-parties N] [--profile] [--webhooks] [--top K] [--seed S]

It fills a database (SQLite in a temporary folder, or a fresh schema of ``--postgres``) with
N clearance-ready declarations through the real intake (``benchmarks/engine.py``'s ``fill``:
the ingest benchmark's mix of 9610 and 1210 imports, 9610 and 9710 exports, each document by
its sender; ``--shared-parties N``: in chunks of N sets of one flow that share their parties,
as the ingest benchmark's batched runs send them), then runs one ``ClearanceEngine`` in this
process on the ``instant`` clock until every declaration is final, as ``danchuang serve``
runs it beside the API. It prints declarations/s and this process's CPU milliseconds a
declaration (with SQLite that is all the work; with PostgreSQL the server's CPU is printed
beside it).

``--profile`` runs the engine under cProfile and prints ms a declaration by part (taking,
modelling, recording receipts, playing the site and the carrier, the lease, commits, ...) and
the top of the profile. The profiler slows Python down about twofold: compare rates of runs
without it. ``--webhooks`` gives every party an active webhook first, so that each receipt
also queues its outbox rows. ``--template FILE`` (SQLite) keeps the filled database in FILE and
starts later runs from a copy of it: the same declarations, without filling again (a run
asking for other parties than the template's is refused).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import func, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from app import states  # noqa: E402
from app.db import migrate  # noqa: E402
from app.db.engine import Database  # noqa: E402
from app.db.models import Declaration, Enterprise, Webhook  # noqa: E402
from app.db.scratch import scratch_schema  # noqa: E402
from app.engine import ClearanceEngine, EngineSettings  # noqa: E402
from benchmarks.engine import PARKED, fill, postgres_cpu_seconds, unpark  # noqa: E402
from benchmarks.ingest import build_sets  # noqa: E402
from benchmarks.ingest_load import chunked_sets  # noqa: E402
from declarations.samples import SampleSet  # noqa: E402

# The parts of a declaration's time: (label, depth, file ending, function). A part's time is
# its function's cumulative time (everything it calls); a deeper part is "of which".
PARTS: list[tuple[str, int, str, str]] = [
    ("taking (store.take_ready)", 0, "app/engine/store.py", "take_ready"),
    ("modelling: outcome + submit (_inject)", 0, "app/engine/engine.py", "_inject"),
    ("modelling: SimPy run (_advance)", 0, "app/engine/engine.py", "_advance"),
    ("recording (_flush)", 0, "app/engine/engine.py", "_flush"),
    ("lease renewal (lease.hold)", 1, "app/engine/lease.py", "hold"),
    ("set locks (lock_declarations)", 1, "app/services/set_locks.py", "lock_declarations"),
    ("receipts + outbox (record_receipts)", 1, "app/receipts.py", "record_receipts"),
    ("site entry/arrival (stand_ins.enter_site)", 1, "app/services/stand_ins.py", "enter_site"),
    ("master waybills + departures (Departures.send)", 1, "app/engine/plays.py", "send"),
    ("tax bills (tax_bills.issue_all)", 1, "app/services/tax_bills.py", "issue_all"),
    ("quota back (sets.give_back)", 1, "app/services/sets.py", "give_back"),
    ("after release (_after_release)", 0, "app/engine/engine.py", "_after_release"),
    ("deliveries (plays.deliver_due)", 1, "app/engine/plays.py", "deliver_due"),
    ("tax payments (tax_bills.sum_due)", 1, "app/services/tax_bills.py", "sum_due"),
    ("idle check (_ready_waiting)", 0, "app/engine/engine.py", "_ready_waiting"),
    ("across parts: intake of danchuang's messages", -1, "app/services/submission.py",
     "take_played"),
    ("across parts: their checks (declarations.check)", -1, "declarations/pipeline.py", "check"),
    ("across parts: sets and enterprises read ahead", -1, "app/services/stand_ins.py",
     "read_ahead"),
    ("across parts: commits (Session.commit)", -1, "sqlalchemy/orm/session.py", "commit"),
    ("across parts: SQL execution (cursor.execute)", -1, "sqlalchemy/engine/default.py",
     "do_execute"),
    ("across parts: SQL execution (executemany)", -1, "sqlalchemy/engine/default.py",
     "do_executemany"),
]  # fmt: skip


def _cumulative(stats: pstats.Stats, ending: str, name: str) -> float:
    """Seconds spent in (and under) every function ``name`` of a file ending ``ending``."""
    table = stats.stats  # type: ignore[attr-defined]
    return sum(
        float(row[3])
        for (filename, _line, function), row in table.items()
        if function == name and filename.endswith(ending)
    )


def print_parts(stats: pstats.Stats, declarations: int) -> None:
    """Ms a declaration by part (under the profiler), and the share of the engine's run. The
    profiler's clock is the wall's: with PostgreSQL a part's time includes its waits for the
    server."""
    total_s = _cumulative(stats, "app/engine/engine.py", "run_until_idle")
    print(f"  by part, under the profiler, wall time (total {total_s * 1000 / declarations:.2f} "
          "ms a declaration):")  # fmt: skip
    for label, depth, ending, name in PARTS:
        seconds = _cumulative(stats, ending, name)
        if seconds == 0:
            continue
        indent = "      " if depth == 1 else "    "
        print(f"{indent}{label:<48} {seconds * 1000 / declarations:7.2f} ms "
              f"{seconds / total_s:6.1%}")  # fmt: skip


@contextmanager
def sqlite_database(
    template: Path | None, sets: int, seed: int, shared: int
) -> Iterator[tuple[str, int]]:
    """A filled SQLite database (a copy of ``template`` when it exists) and its parked count."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "engine.db"
        url = f"sqlite:///{path}"
        if template is not None and template.exists():
            made = _parties_file(template)
            made_with = made.read_text() if made.exists() else _parties(0)  # older templates
            if made_with != _parties(shared):
                raise SystemExit(f"{template} holds sets with {made_with}, not {_parties(shared)}")
            shutil.copy(template, path)
            database = Database.from_url(url)
            with database.read() as session:
                parked = session.scalar(
                    select(func.count(Declaration.id)).where(Declaration.state == PARKED)
                )
            database.dispose()
            yield url, int(parked or 0)
            return
        parked = fill_database(url, sets, seed, shared)
        if template is not None:
            shutil.copy(path, template)
            _parties_file(template).write_text(_parties(shared))
        yield url, parked


def _parties(shared: int) -> str:
    return f"parties shared in chunks of {shared}" if shared else "parties of their own"


def _parties_file(template: Path) -> Path:
    """Beside a template: whose parties its sets have (``--shared-parties``)."""
    return template.with_name(template.name + ".parties")


def add_database_options(parser: argparse.ArgumentParser) -> None:
    """The options that say which filled database a run clears (``filled_database``)."""
    parser.add_argument("--declarations", type=int, default=500, help="sets to clear (500)")
    parser.add_argument("--postgres", help="a PostgreSQL server (a new schema); else SQLite")
    parser.add_argument("--template", type=Path, help="SQLite: keep / reuse the filled file")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--shared-parties",
        type=int,
        default=0,
        metavar="N",
        help="sets in chunks of N sharing their parties (0: each set its own)",
    )


@contextmanager
def filled_database(args: argparse.Namespace, prefix: str) -> Iterator[tuple[str, int]]:
    """The database ``add_database_options`` named, filled, and its parked count: a new schema
    (named from ``prefix``) of ``--postgres``, else SQLite (``--template``)."""
    count, seed, shared = args.declarations, args.seed, args.shared_parties
    if args.postgres:
        with scratch_schema(args.postgres, prefix) as url:
            yield url, fill_database(url, count, seed, shared)
    else:
        with sqlite_database(args.template, count, seed, shared) as found:
            yield found


def sets_to_fill(count: int, seed: int, shared: int = 0) -> list[SampleSet]:
    """``count`` sets of the ingest benchmark's mix: each with its own parties, or (``shared``)
    in chunks of ``shared`` sets of one flow sharing their parties (``chunked_sets``)."""
    if not shared:
        return build_sets(count, seed)
    return [s for chunk in chunked_sets(count, shared, seed) for s in chunk]


def fill_database(url: str, count: int, seed: int, shared: int = 0) -> int:
    """Migrate ``url``, fill it with ``count`` sets (``sets_to_fill``) through the intake, park
    them; how many."""
    database = Database.from_url(url)
    migrate.upgrade(database.engine)
    started = time.perf_counter()
    parked = fill(database, sets_to_fill(count, seed, shared))
    database.dispose()
    print(f"  {parked} declarations filled in {time.perf_counter() - started:.0f} s", flush=True)
    return parked


def add_webhooks(database: Database) -> int:
    """An active webhook (every receipt) for every enterprise: each receipt queues outbox rows."""
    with database.write() as session:
        ids = list(session.scalars(select(Enterprise.id)))
        session.add_all(
            Webhook(enterprise_id=ident, url="http://127.0.0.1:9/hook", secret="s" * 32, events=[])
            for ident in ids
        )
    return len(ids)


def clear(url: str, parked: int, args: argparse.Namespace) -> None:
    """Hand the parked declarations to clearance and run one engine until they are final."""
    database = Database.from_url(url)
    if args.webhooks:
        print(f"  {add_webhooks(database)} webhooks registered", flush=True)
    unpark(database)
    engine = ClearanceEngine(
        database, clock_speed="instant", config=EngineSettings(batch_size=args.batch_size)
    )
    profiler = cProfile.Profile() if args.profile else None
    server = postgres_cpu_seconds() if args.postgres else 0.0
    cpu, wall = time.process_time(), time.perf_counter()
    with profiler if profiler is not None else nullcontext():
        engine.run_until_idle(max_ticks=100_000)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    server = postgres_cpu_seconds() - server if args.postgres else 0.0
    with database.read() as session:
        final = session.scalar(
            select(func.count(Declaration.id)).where(Declaration.state.in_(states.FINAL_STATES))
        )
    engine.stop()
    database.dispose()
    if final != parked:
        raise SystemExit(f"only {final} of {parked} declarations are final")
    extra = f", PostgreSQL {server * 1000 / parked:.2f} ms" if args.postgres else ""
    note = " (under the profiler)" if profiler is not None else ""
    print(f"  {parked} declarations in {wall:.1f} s: {parked / wall:,.0f} declarations/s{note}; "
          f"CPU a declaration: engine process {cpu * 1000 / parked:.2f} ms{extra}; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    if profiler is not None:
        stats = pstats.Stats(profiler)
        print_parts(stats, parked)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_options(parser)
    parser.add_argument("--profile", action="store_true", help="run under cProfile")
    parser.add_argument("--webhooks", action="store_true", help="an active webhook per party")
    parser.add_argument("--batch-size", type=int, default=500, help="DANCHUANG_ENGINE_BATCH_SIZE")
    parser.add_argument("--top", type=int, default=25, help="profile lines to print")
    args = parser.parse_args()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    parties = _parties(args.shared_parties)
    print(f"engine profile: {args.declarations} sets ({parties}), {backend}, instant clock, "
          f"one engine in-process, {os.cpu_count()} CPUs", flush=True)  # fmt: skip
    with filled_database(args, "bench_engine_") as (url, parked):
        clear(url, parked, args)


if __name__ == "__main__":
    main()
