"""The engine floor: what the clearance engine costs a declaration, and the least its work costs.

    .venv/bin/python benchmarks/engine_floor.py [--declarations N] [--template FILE]
        [--postgres URL] [--tick T] [--intake-floor MS] [--seed S]

Issue 15 asks for 700 sets/s on a 2-core machine that also runs the intake and the load
generator; each set is one declaration the engine clears. ``write_floor.py`` measures the
intake's raw floor; this measures the engine's, in one process and one run, on the same
declarations (``engine_profile.py``'s filled database; ``--template`` reuses one):

1. **the engine as it is**: one ``ClearanceEngine`` on the ``instant`` clock until every
   declaration is final, as ``engine_profile.py`` runs it without the profiler; a listener on
   its database counts the statements it sends (so a little of its CPU is the listener's);
2. **what it wrote**: the rows it inserted per table (counted before and after), its UPDATE
   statements and the rows they name, and the messages it signed (the played site and carrier
   records with a ``ds:Signature``, ``declarations.xmldsig``, RSA-SHA1 by the stand-in signer);
3. **the raw floor**, each part measured: (a) the SimPy model alone (the live scenario, the same
   declarations with the same outcomes, in the engine's batches, run to their end, a list
   append as the transition callback; drawing the outcomes is timed apart, not in the floor);
   (b) the signatures: their number times one ``sign_message`` over the engine's own signed
   messages with the key that signed them, the stand-in signer's RSA-1024 (canonicalisation,
   digest, RSA; the bare RSA signature is shown beside it);
   (c) the rows: the rows the engine inserted, read back and written through the driver
   (sqlite3 / psycopg, ``executemany``, one transaction per ``--tick`` declarations' worth) into
   a fresh migrated database holding the rows the engine found, then the engine's own UPDATE
   statements (single rows by primary key) with the same parameters; on PostgreSQL also
   set-oriented (the rows by COPY, each UPDATE's rows in one statement over arrays), the
   cheaper counted (``floor_driver.py``).

It prints CPU ms a declaration for each (on PostgreSQL with the ``postgres`` processes' CPU:
run it on a quiet machine), the engine against its floor, and the shares of the cores the
floors take at 700 declarations (sets) a second, the intake's (``--intake-floor`` ms a record,
write_floor.py's SQLite raw floor) four times a set beside the engine's. A floor is not a
design: it skips taking and locking the sets, the outcome draws, reading what the messages
say, checking danchuang's own messages at the intake, answering them, the lease, the virtual
clock and recovery. So a target the floors together exceed is beyond this machine for any
implementation that models, signs and stores what this engine does; it says nothing of what
an implementation that stores less would need (docs/performance.md "What this machine allows").
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import simpy
from sqlalchemy import MetaData, event, func, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from app import states  # noqa: E402
from app.db.engine import Database  # noqa: E402
from app.db.models import Declaration  # noqa: E402
from app.engine import ClearanceEngine, EngineSettings  # noqa: E402
from app.engine.store import Pickup  # noqa: E402
from benchmarks.engine import unpark  # noqa: E402
from benchmarks.engine_profile import add_database_options, filled_database  # noqa: E402
from benchmarks.floor_driver import (  # noqa: E402
    RECORDS_PER_SET,
    Row,
    Statement,
    adapted,
    bulk_update,
    copy_rows,
    cpu_of,
    driver_transaction,
    runs,
)
from benchmarks.write_floor import MUST_SETS_PER_S, scratch_database  # noqa: E402
from declarations.sample_signer import stand_in_signer  # noqa: E402
from declarations.xmldsig import sign_message, verify_signature  # noqa: E402
from simulation.model import ClearanceModel  # noqa: E402

SIGNED = b"<ds:Signature"  # as sign_message writes it


class _Taking(ClearanceEngine):
    """The engine as it is, keeping what it put into its model (for the model alone)."""

    taken: list[Pickup]

    def _inject(self, pickup: Pickup) -> None:
        self.taken.append(pickup)
        super()._inject(pickup)


@dataclass
class Writes:
    """The INSERT, UPDATE and DELETE statements sent, and each UPDATE with its parameters."""

    statements: Counter[str] = field(default_factory=Counter)
    updates: list[tuple[str, list[Any]]] = field(default_factory=list)

    def listen(self, _c: Any, _cur: Any, sql: str, params: Any, _x: Any, many: bool) -> None:
        verb = sql.lstrip()[:6].upper()
        if verb in ("INSERT", "UPDATE", "DELETE"):
            self.statements[verb] += 1
            if verb == "UPDATE":
                self.updates.append((sql, list(params) if many else [params]))


@dataclass(frozen=True)
class Table:
    """A table's rows, split into those there before the engine ran and those it inserted."""

    name: str
    columns: list[str]
    old: list[Row]
    new: list[Row]


def _keyed(database: Database) -> Iterator[tuple[str, list[str], list[tuple[Row, Row]]]]:
    """Each table's name, columns and rows as the driver gives them, with their primary keys,
    parents before children (their foreign keys)."""
    metadata = MetaData()
    metadata.reflect(database.engine)
    connection = database.engine.raw_connection()
    try:
        cursor = connection.cursor()
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            keys = [column.name for column in table.primary_key]
            cursor.execute(f"SELECT * FROM {table.name} ORDER BY {', '.join(keys)}")
            rows = [tuple(row) for row in cursor.fetchall()]
            columns = [d[0] for d in cursor.description]
            at = [columns.index(k) for k in keys]
            yield table.name, columns, [(tuple(row[i] for i in at), row) for row in rows]
    finally:
        connection.close()


def snapshot(database: Database) -> dict[str, frozenset[Row]]:
    """Each table's primary keys."""
    return {name: frozenset(k for k, _ in rows) for name, _, rows in _keyed(database)}


def split(database: Database, before: dict[str, frozenset[Row]]) -> list[Table]:
    """Every table's rows, those whose keys were there ``before`` apart from the new."""
    out = []
    for name, columns, rows in _keyed(database):
        old = [row for key, row in rows if key in before[name]]
        if len(old) != len(before[name]):
            raise SystemExit(f"{name}: {len(before[name]) - len(old)} rows deleted")
        out.append(Table(name, columns, old, [row for key, row in rows if key not in before[name]]))
    return out


def engine_cpu(url: str, parked: int, postgres: bool) -> tuple[float, _Taking, Writes]:
    """CPU seconds of one engine clearing the parked declarations (and the server's)."""
    database = Database.from_url(url)
    unpark(database)
    engine = _Taking(database, clock_speed="instant", config=EngineSettings())
    engine.taken = []
    writes = Writes()
    event.listen(database.engine, "before_cursor_execute", writes.listen)

    def run() -> None:
        engine.run_until_idle(max_ticks=100_000)

    seconds = cpu_of(run, postgres=postgres)
    event.remove(database.engine, "before_cursor_execute", writes.listen)
    with database.read() as session:
        final = session.scalar(
            select(func.count(Declaration.id)).where(Declaration.state.in_(states.FINAL_STATES))
        )
    engine.stop()
    if final != parked or len(engine.taken) != parked:
        raise SystemExit(f"{final} of {parked} final, {len(engine.taken)} taken")
    return seconds, engine, writes


def model_cpu(engine: _Taking) -> tuple[float, float, int]:
    """CPU seconds of drawing the outcomes, and of the live model alone clearing the same
    declarations with them in the engine's batches; the transitions it reported."""
    taken = engine.taken
    if any(pickup.awaits_entry for pickup in taken):
        raise SystemExit("a declaration waits for a real site: the floor assumes none do")
    outcomes: list[tuple[str, str, Any]] = []
    drawing = cpu_of(lambda: outcomes.extend(engine.outcome_of(pickup) for pickup in taken))
    env = simpy.Environment()
    seen: list[tuple[int, int, Any, float]] = []
    model = ClearanceModel(
        env,
        engine.live_scenario,
        np.random.default_rng(engine.config.seed),
        on_transition=lambda ident, status, milestone, at, _info: seen.append(
            (ident, status, milestone, at)
        ),
        keep_samples=False,
    )
    if engine.sim_offset > 0:  # as the engine's model: from midnight to now, empty
        env.run(until=engine.sim_offset)
    batch = engine.config.batch_size

    def run() -> None:
        for start in range(0, len(outcomes), batch):
            for flow, credit, forced in outcomes[start : start + batch]:
                model.submit(flow, credit, force=forced)
            while model.live:
                env.step()

    return drawing, cpu_of(run), len(seen)


def signing_cpu(signed: list[bytes], count: int = 200) -> tuple[float, float, int]:
    """CPU seconds of one ``sign_message`` over the engine's signed messages (up to ``count``
    of them, spread), and of one bare RSA signature; the key's size in bits. The key is the
    stand-in signer's, which signs what the engine plays (``app.services.stand_ins``)."""
    key, certificate = stand_in_signer()
    sample = signed[:: max(1, len(signed) // count)]
    if sample and verify_signature(sample[0]).certificate != certificate:
        raise SystemExit("the engine's messages are not signed by the stand-in signer")

    def messages() -> None:
        for data in sample:
            sign_message(data, key, certificate)

    def bare() -> None:  # about the size of a canonical SignedInfo
        for data in sample:
            key.sign(data[:700])

    assert key.rsa_key is not None
    return cpu_of(messages) / len(sample), cpu_of(bare) / len(sample), key.rsa_key.key_size


def _insert(table: Table, postgres: bool) -> str:
    mark = "%s" if postgres else "?"
    marks = ", ".join([mark] * len(table.columns))
    return f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks})"


def rows_cpu(
    postgres: str | None,
    tables: list[Table],
    updates: list[tuple[str, list[Any]]],
    chunks: int,
    *,
    set_oriented: bool = False,
) -> tuple[float, int]:
    """CPU seconds of the engine's rows and UPDATEs through the driver into a fresh database
    holding the rows it found, in ``chunks`` transactions, row by row (``executemany``) or, with
    ``set_oriented`` (PostgreSQL): inserted by COPY, updated by key over arrays; the rows
    the UPDATEs changed."""
    pg = postgres is not None
    steps: list[tuple[Statement, list[Row]]] = [
        ((t.name, ", ".join(t.columns)) if set_oriented else _insert(t, pg), [row])
        for t in tables
        for row in adapted(pg, t.new)
    ]
    steps += [(sql, [params]) for sql, many in updates for params in many]
    changed = 0
    with scratch_database(postgres) as database:
        connection = database.engine.raw_connection()
        # what the engine found (not timed)
        with driver_transaction(connection, sqlite=not pg) as cursor:
            for table in tables:
                cursor.executemany(_insert(table, pg), adapted(pg, table.old))

        def run() -> None:
            nonlocal changed
            size = -(-len(steps) // chunks)
            for start in range(0, len(steps), size):
                with driver_transaction(connection, sqlite=not pg) as cursor:
                    for statement, rows in runs(steps[start : start + size]):
                        if isinstance(statement, tuple):
                            copy_rows(cursor, *statement, rows)
                            continue
                        if set_oriented and statement.startswith("UPDATE "):
                            with suppress(ValueError):  # not by key: taken row by row
                                cursor.execute(*bulk_update(statement, rows))
                                changed += cursor.rowcount
                                continue
                        cursor.executemany(statement, rows)
                        changed += cursor.rowcount if statement.startswith("UPDATE") else 0

        try:
            seconds = cpu_of(run, postgres=pg)
            # every row is there once
            with driver_transaction(connection, sqlite=not pg) as cursor:
                for table in tables:
                    cursor.execute(f"SELECT count(*) FROM {table.name}")
                    if cursor.fetchone()[0] != len(table.old) + len(table.new):
                        raise SystemExit(f"{table.name}: not the rows the engine left")
            return seconds, changed
        finally:
            connection.close()


def measure(url: str, parked: int, args: argparse.Namespace) -> None:
    postgres: str | None = args.postgres
    database = Database.from_url(url)
    before = snapshot(database)
    load = os.getloadavg()
    engine_s, engine, writes = engine_cpu(url, parked, postgres is not None)
    tables = split(database, before)
    database.dispose()
    per = 1000 / parked  # seconds -> ms a declaration
    print(f"  load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} before the engine ran")
    server = " (this process and the PostgreSQL server's)" if postgres else ""
    print(f"1. the engine as it is: {engine_s * per:.2f} ms CPU a declaration{server}")

    print("2. what it wrote, a declaration:")
    for table in tables:
        if table.new:
            count = f"{len(table.new) / parked:6.2f} ({len(table.new)})"
            print(f"     rows inserted into {table.name:<16} {count}")
    documents = next(t for t in tables if t.name == "documents")
    xml, code = documents.columns.index("raw_xml"), documents.columns.index("message_code")
    played = Counter(row[code] for row in documents.new)
    print("       of the documents: " + ", ".join(
        f"{c} {n / parked:.2f}" for c, n in sorted(played.items())))  # fmt: skip
    rows_updated = sum(len(many) for _sql, many in writes.updates)
    print(f"     INSERT statements {writes.statements['INSERT'] / parked:.2f}, UPDATE statements "
          f"{writes.statements['UPDATE'] / parked:.2f} naming {rows_updated / parked:.2f} rows, "
          f"DELETE statements {writes.statements['DELETE'] / parked:.2f}")  # fmt: skip
    signed = [bytes(row[xml]) for row in documents.new if SIGNED in bytes(row[xml])]
    print(f"     signed messages {len(signed) / parked:.2f}")

    drawing_s, model_s, transitions = model_cpu(engine)
    message_s, bare_s, bits = signing_cpu(signed)
    inserted = sum(len(t.new) for t in tables)
    chunks = -(-parked // args.tick)
    rows_s, changed = rows_cpu(postgres, tables, writes.updates, chunks)
    set_s = None
    if postgres:  # set-oriented too; it must change the rows row by row changed
        set_s, again = rows_cpu(postgres, tables, writes.updates, chunks, set_oriented=True)
        if again != changed:
            raise SystemExit(f"set-oriented UPDATEs changed {again} rows, row by row {changed}")
    least_rows_s = rows_s if set_s is None else min(rows_s, set_s)
    a, b, c = model_s * per, len(signed) * message_s * per, least_rows_s * per
    print("3. the raw floor, a declaration:")
    print(f"   (a) the model alone            {a:6.3f} ms ({transitions / parked:.1f} "
          f"transitions; drawing the outcomes apart: {drawing_s * per:.3f} ms)")  # fmt: skip
    print(f"   (b) the signatures             {b:6.3f} ms ({len(signed) / parked:.2f} x "
          f"{message_s * 1000:.3f} ms a sign_message; the bare RSA-{bits} SHA-1 signature "
          f"{bare_s * 1000:.3f} ms)")  # fmt: skip
    print(f"   (c) the rows through the driver {c:6.3f} ms ({inserted / parked:.2f} rows "
          f"inserted, {rows_updated / parked:.2f} rows updated ({changed / parked:.2f} "
          f"changed), {chunks} transactions)")  # fmt: skip
    if set_s is not None:
        print(f"       row by row {rows_s * per:.3f} ms, set-oriented (COPY, UPDATE over arrays) "
              f"{set_s * per:.3f} ms: the cheaper is the floor")  # fmt: skip
    summary(engine_s * per, a + b + c, args.intake_floor)


def summary(engine_ms: float, floor_ms: float, intake_ms: float) -> None:
    """The engine against its floor; the floors' shares of the cores at 700 sets/s."""
    cores = os.cpu_count() or 1
    rate = MUST_SETS_PER_S / 1000  # declarations (sets) a millisecond
    per_set = intake_ms * RECORDS_PER_SET + floor_ms
    print("4. summary:")
    print(f"   engine raw floor (a)+(b)+(c) {floor_ms:.3f} ms a declaration; the engine as it "
          f"is {engine_ms / floor_ms:.1f}x it")  # fmt: skip
    print(
        f"   at {MUST_SETS_PER_S} declarations/s the engine's raw floor takes "
        f"{floor_ms * rate:.2f} of one core; the engine as it is {engine_ms * rate:.2f}"
    )
    print(
        f"   a set's raw floor: intake {intake_ms:.3f} ms x {RECORDS_PER_SET} + engine "
        f"{floor_ms:.3f} = {per_set:.3f} ms; at {MUST_SETS_PER_S} sets/s "
        f"{per_set * rate:.2f} of one core, {per_set * rate / cores:.2f} of {cores}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_database_options(parser)
    parser.add_argument("--tick", type=int, default=100, help="declarations a transaction (c)")
    parser.add_argument(
        "--intake-floor", type=float, default=0.14, help="ms a record (0.14: write_floor, SQLite)"
    )
    args = parser.parse_args()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"engine floor: {args.declarations} sets, {backend}, {os.cpu_count()} CPUs", flush=True)
    with filled_database(args, "engine_floor_") as (url, parked):
        measure(url, parked, args)


if __name__ == "__main__":
    main()
