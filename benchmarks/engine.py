"""How many declarations a second do one and two ``danchuang worker`` processes clear?

    .venv/bin/python benchmarks/engine.py --postgres postgresql+psycopg://... \\
                                          [--declarations N] [--partitions P] [--seed S]

The clearance engine's work is partitioned (``DANCHUANG_ENGINE_PARTITIONS``, docs/deploy.md);
this measures what a second worker process adds. For each run (one worker, then two) it

1. makes a fresh schema on the PostgreSQL server and fills it with N sets through the real
   intake, in this process (``submission.submit_document``, each document by its sender, the
   parties registered first): N clearance-ready declarations, the same N in both runs;
2. parks them (a state no engine takes) and starts the workers (``danchuang worker``,
   ``DANCHUANG_CLOCK_SPEED=instant``: each declaration runs to its end at once, so the rate is
   the engine's own work — taking, modelling, recording receipts — not the virtual clock's);
3. waits until the workers hold all P partitions between them, each its share;
4. hands the declarations back to clearance in one UPDATE and times until every one is final.

It prints declarations/s per run and the ratio of two workers to one. The machine's other load
moves the numbers; the ratio is measured on the same machine, minutes apart. PostgreSQL runs on
the same machine as the workers, so on few cores it competes with them for CPU.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, update

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from app import accounts, states  # noqa: E402
from app.accounts import Principal  # noqa: E402
from app.db import migrate  # noqa: E402
from app.db.engine import Database  # noqa: E402
from app.db.models import Declaration, EngineLease, Role  # noqa: E402
from app.db.scratch import scratch_schema  # noqa: E402
from app.engine.lease import lease_name  # noqa: E402
from app.services import submission  # noqa: E402
from benchmarks.ingest import ROLE_OF as INGEST_ROLES  # noqa: E402
from benchmarks.ingest import build_sets, senders  # noqa: E402
from benchmarks.ingest_server import postgres_cpu_seconds  # noqa: E402
from declarations import BY_ROOT  # noqa: E402
from declarations.samples import SampleSet, to_bytes  # noqa: E402

PARKED = "benchmark_parked"  # not a state of app.states: no engine takes it
# the same sets and senders as the ingest benchmark; its roles as the accounts' Role
ROLE_OF = {kind: Role(role) for kind, role in INGEST_ROLES.items()}


def fill(database: Database, sets: list[SampleSet]) -> int:
    """The sets through the intake, then parked; how many declarations are parked."""
    roles: dict[str, set[Role]] = {}
    for sample in sets:
        for kind, code in senders(sample).items():
            roles.setdefault(code, set()).add(ROLE_OF[kind])
    principals: dict[str, Principal] = {}
    with database.write() as session:
        for code, held in roles.items():
            row = accounts.create_enterprise(session, code=code, name=code, roles=sorted(held))
            session.flush()
            principals[code] = Principal.of(row)
    for sample in sets:
        sender = senders(sample)
        for root in sample.documents.values():
            code = sender[BY_ROOT[root.tag.split("}")[1]].kind]
            submission.submit_document(database, principals[code], to_bytes(root))
    with database.write() as session:
        parked = session.execute(
            update(Declaration)
            .where(Declaration.state == states.CLEARANCE_READY)
            .values(state=PARKED)
            .execution_options(synchronize_session=False)
        )
        return int(parked.rowcount)  # type: ignore[attr-defined]


def start_workers(
    url: str, count: int, partitions: int, workdir: Path
) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANCHUANG_")}
    env |= {"DANCHUANG_DATABASE_URL": url, "DANCHUANG_CLOCK_SPEED": "instant",
            "DANCHUANG_ENGINE_PARTITIONS": str(partitions), "DANCHUANG_LOG_LEVEL": "WARNING",
            "DANCHUANG_LOG_FORMAT": "json"}  # fmt: skip
    danchuang = Path(sys.executable).with_name("danchuang")
    return [
        subprocess.Popen(
            [str(danchuang), "worker"],
            cwd=workdir,
            env=env,
            stdout=(workdir / f"worker-{i}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for i in range(count)
    ]


def wait_for_shares(database: Database, workers: int, partitions: int) -> None:
    """Until the workers hold every partition between them, each its share."""
    names = [lease_name(index, partitions) for index in range(partitions)]
    share = -(-partitions // workers)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with database.read() as session:
            owners = list(
                session.scalars(
                    select(EngineLease.owner).where(
                        EngineLease.name.in_(names), EngineLease.expires_at > datetime.now(UTC)
                    )
                )
            )
        held = {owner: owners.count(owner) for owner in owners}
        everyone = len(owners) == partitions and len(held) == min(workers, partitions)
        if everyone and max(held.values()) <= share:
            return
        time.sleep(0.1)
    raise SystemExit("the workers did not share the partitions within 120 s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def runqueue_seconds(pid: int) -> float:
    """Seconds the process's threads were ready to run but waited for a core (Linux
    schedstat; 0 elsewhere): how much the machine's other load held it back."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def unpark(database: Database) -> None:
    """Hand every parked declaration back to clearance, in one UPDATE."""
    with database.write() as session:
        session.execute(
            update(Declaration)
            .where(Declaration.state == PARKED)
            .values(state=states.CLEARANCE_READY)
            .execution_options(synchronize_session=False)
        )


def clear(url: str, workers: int, partitions: int, parked: int, workdir: Path) -> float:
    """Start the workers, hand the parked declarations to them; declarations/s. Also prints
    the workers' CPU time in the timed part (what they would need of the machine's cores)."""
    database = Database.from_url(url)
    processes = start_workers(url, workers, partitions, workdir)
    try:
        wait_for_shares(database, workers, partitions)
        started = time.perf_counter()
        cpu = [cpu_seconds(p.pid) for p in processes]
        queued = [runqueue_seconds(p.pid) for p in processes]
        server_cpu = postgres_cpu_seconds()
        unpark(database)
        final = Declaration.state.in_(states.FINAL_STATES)
        while True:
            with database.read() as session:
                done = int(session.scalar(select(func.count(Declaration.id)).where(final)) or 0)
            if done >= parked:
                break
            if any(p.poll() is not None for p in processes):
                raise SystemExit(f"a worker exited; see {workdir}")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        used = sum(cpu_seconds(p.pid) - before for p, before in zip(processes, cpu, strict=True))
        server = postgres_cpu_seconds() - server_cpu
        waited = sum(runqueue_seconds(p.pid) - q for p, q in zip(processes, queued, strict=True))
        print(f"  {workers} worker(s): {elapsed:.1f} s; CPU: workers {used:.1f} s "
              f"({used / parked * 1000:.1f} ms a declaration), PostgreSQL {server:.1f} s; "
              f"workers waited {waited:.1f} s for a free core; "
              f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
        database.dispose()
    return parked / elapsed


def run(server: str, workers: int, args: argparse.Namespace, sets: list[SampleSet]) -> float:
    with scratch_schema(server, "bench_engine_") as url, tempfile.TemporaryDirectory() as folder:
        database = Database.from_url(url)
        migrate.upgrade(database.engine)
        t0 = time.perf_counter()
        parked = fill(database, sets)
        database.dispose()
        print(f"  {workers} worker(s): {parked} declarations filled in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
        rate = clear(url, workers, args.partitions, parked, Path(folder))
        print(f"  {workers} worker(s): {rate:,.0f} declarations/s", flush=True)
        return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", required=True, help="a PostgreSQL server (a new schema)")
    parser.add_argument("--declarations", type=int, default=2000, help="sets to clear (2000)")
    parser.add_argument("--partitions", type=int, default=4, help="DANCHUANG_ENGINE_PARTITIONS")
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    sets = build_sets(args.declarations, args.seed)
    print(f"engine benchmark: {len(sets)} sets, {args.partitions} partitions, instant clock, "
          f"{os.cpu_count()} CPUs", flush=True)  # fmt: skip
    one = run(args.postgres, 1, args, sets)
    two = run(args.postgres, 2, args, sets)
    print(f"1 worker: {one:,.0f}/s   2 workers: {two:,.0f}/s   ratio {two / one:.2f}")


if __name__ == "__main__":
    main()
