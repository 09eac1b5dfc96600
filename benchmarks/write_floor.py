"""The write floor: what a batched record costs the intake, against the least its rows cost.

    .venv/bin/python benchmarks/write_floor.py [--sets N] [--batch B] [--postgres URL]

Issue 15 asks for 700 sets/s (4 records a set) with 100-record messages on a 2-core machine that
also runs the engine and the load generator: about 0.3 ms of CPU per record for everything the
intake does. This measures, in one process and one run, on the same records:

1. **validation**: ``declarations.check`` of each record as the one-record message it stands
   for (parse, identify, schema, business rules), and of each whole message (``--batch`` over
   1): the core's share, which no write path avoids. The intake format-checks a batched message
   once, whole, and checks each record as its own message (its findings, facts and stored
   bytes are the one-record message's: ``declarations.check_message``, docs/live-clearance.md
   "Batched messages");
2. **the intake**: ``batches.submit_message`` of each party's B-record message (SQLite or
   PostgreSQL, migrated, the parties registered; no engine, no webhooks), i.e. validation plus
   the write path as it is;
3. **the bare write**: the rows the intake writes for a record — a keyed lookup of the document
   it could replace, its declaration (one per order), the document (its bytes and facts), three
   receipts — written set-oriented with SQLAlchemy Core: one ``INSERT … RETURNING`` per table
   per message, no ORM unit of work;
4. **the raw floor**: the spec's format check alone (lxml parsing each whole message and
   validating it against its schema, none of our rules), and the same rows written through the
   database driver with no SQLAlchemy at all, into the same schema (its indexes and foreign
   keys): with statements (``bare write, DB-API``) and, on PostgreSQL, with COPY (``bare
   write, COPY``); the cheaper is the floor (``floor_driver.py``).

and prints CPU ms per record for each (this process's CPU, plus on PostgreSQL the CPU of the
``postgres`` processes on this machine, so run it on a quiet machine), the ratio of the intake
to each floor, and the sets/s each cost allows on one core and on all of them. A floor is not a
design: it skips the set's reconciliation, locks, party authority, receipts' subscribers and the
outbox, HTTP, the clearance engine and the load generator, all of which share the same cores in
issue 15's measurements. So a target above the raw floor's sets/s is out of this machine's
reach for any implementation that checks the schema and stores these rows in this database;
docs/performance.md "What this machine allows" says what that means for each target.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import cast

from lxml import etree
from sqlalchemy import Table, bindparam, insert, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app import accounts  # noqa: E402
from app.accounts import Principal  # noqa: E402
from app.db import migrate  # noqa: E402
from app.db.engine import Database  # noqa: E402
from app.db.models import Declaration, DocumentRow, Receipt, Role  # noqa: E402
from app.db.scratch import scratch_schema  # noqa: E402
from app.services import batches  # noqa: E402
from benchmarks.floor_driver import (  # noqa: E402
    RECORDS_PER_SET,
    Found,
    copy_write_cpu,
    cpu_of,
    dbapi_write_cpu,
    messages_of,
    new_sender,
)
from declarations import BY_ROOT, Direction, Kind, Regime, check  # noqa: E402
from declarations.sample_batches import batched, sharing_parties  # noqa: E402
from declarations.samples import SampleSet, to_bytes  # noqa: E402
from declarations.schemas import default_registry  # noqa: E402

MUST_SETS_PER_S = 700  # 100-record messages, 4 records a set (issue 15)
_RAW = "raw floor: schema only + driver write"
_ROLES = {
    Kind.ORDER: ("seller", Role.EBC),
    Kind.PAYMENT: ("payment", Role.PAY),
    Kind.WAYBILL: ("carrier", Role.LOGISTICS),
    Kind.INVENTORY: ("agent", Role.AGENT),
}


def shared_sets(count: int, seed: int) -> list[SampleSet]:
    """``count`` 9610 import sets with the same parties, so that each party batches its own."""
    return sharing_parties(Regime.DIRECT, Direction.IMPORT, seed=seed, count=count)


def messages(sets: list[SampleSet], batch: int) -> list[tuple[Kind, bytes]]:
    """Each chunk of ``batch`` sets as four messages (orders, payments, waybills, 清单)."""
    out = []
    for start in range(0, len(sets), batch):
        chunk = sets[start : start + batch]
        for kind in _ROLES:
            roots = [
                r
                for s in chunk
                for r in s.documents.values()
                if BY_ROOT[etree.QName(r).localname].kind is kind
            ]
            out.append((kind, to_bytes(batched(roots))))
    return out


@contextmanager
def scratch_database(postgres: str | None) -> Iterator[Database]:
    with (
        scratch_schema(postgres, "write_floor_") if postgres else nullcontext(None) as url,
        tempfile.TemporaryDirectory() as folder,
    ):
        database = Database.from_url(url or f"sqlite:///{folder}/write_floor.db")
        migrate.upgrade(database.engine)
        try:
            yield database
        finally:
            database.dispose()


def _principals(database: Database, sets: list[SampleSet]) -> dict[Kind, Principal]:
    deal = sets[0].deal
    companies = {
        "seller": deal.seller,
        "payment": deal.payer_company,
        "carrier": deal.carrier,
        "agent": deal.agent,
    }
    roles: dict[str, list[Role]] = {}
    for role_name, role in _ROLES.values():
        roles.setdefault(companies[role_name].code, []).append(role)
    made: dict[str, Principal] = {}
    with database.write() as session:
        for code, held in roles.items():
            row = accounts.create_enterprise(session, code=code, name=code, roles=held)
            session.flush()
            made[code] = Principal.of(row)
    return {kind: made[companies[name].code] for kind, (name, _) in _ROLES.items()}


def intake_cpu(database: Database, sets: list[SampleSet], work: list[tuple[Kind, bytes]]) -> float:
    """CPU seconds of ``batches.submit_message`` over every message (the server's too)."""
    senders = _principals(database, sets)

    def run() -> None:
        for kind, data in work:
            outcome = batches.submit_message(database, senders[kind], data)
            if isinstance(outcome, batches.BatchOutcome):
                refused = [o for o in outcome.records if o.document.return_status == 100]
                if refused:
                    raise SystemExit(f"a {kind.value} record was refused: the samples changed?")

    return cpu_of(run, postgres=not database.is_sqlite)


def message_validation_cpu(work: list[tuple[Kind, bytes]]) -> float:
    """CPU seconds of checking each message once, whole."""

    def run() -> None:
        for _kind, data in work:
            if not check(data).report.valid:
                raise SystemExit("a message has errors: the samples changed?")

    return cpu_of(run)


def validation_cpu(sets: list[SampleSet]) -> tuple[float, Found]:
    """CPU seconds of checking every record alone; each set's (bytes, facts JSON) in order."""
    records = [[to_bytes(root) for root in s.documents.values()] for s in sets]
    found: Found = []

    def run() -> None:
        for one_set in records:
            found.append([(data, check(data).facts().to_json()) for data in one_set])

    return cpu_of(run), found


_HELD = select(DocumentRow.id).where(
    DocumentRow.message_code == bindparam("code"),
    DocumentRow.ebp_code == bindparam("ebp"),
    DocumentRow.order_no == bindparam("order"),
    DocumentRow.current.is_(True),
)


def bare_write_cpu(database: Database, found: Found, batch: int) -> float:
    """CPU seconds of writing the same records' rows set-oriented, one message at a time."""
    documents = cast(Table, DocumentRow.__table__)
    receipts = cast(Table, Receipt.__table__)
    declarations = cast(Table, Declaration.__table__)
    sender_id = new_sender(database, "9999999999")

    def run() -> None:
        for start, rows in messages_of(found, batch):
            with database.write() as session:
                keys = [(f"E{start}", f"{uuid.uuid4()}") for _ in rows]
                for ebp, order in keys:
                    session.execute(_HELD, {"code": "CEB311", "ebp": ebp, "order": order})
                made = session.execute(
                    insert(declarations).returning(declarations.c.id),
                    [
                        {
                            "direction": "import",
                            "ebp_code": e,
                            "order_no": o,
                            "state": "incomplete",
                        }
                        for e, o in keys
                    ],
                ).all()
                docs = session.execute(
                    insert(documents).returning(documents.c.id),
                    [
                        {
                            "guid": str(uuid.uuid4()),
                            "message_code": "CEB311",
                            "direction": "import",
                            "raw_xml": data,
                            "facts": facts,
                            "ebp_code": e,
                            "order_no": o,
                            "sender_id": sender_id,
                            "declaration_id": d.id,
                            "current": True,
                            "return_status": 2,
                        }
                        for (data, facts), (e, o), d in zip(rows, keys, made, strict=True)
                    ],
                ).all()
                session.execute(
                    insert(receipts),
                    [
                        {
                            "declaration_id": d.id,
                            "document_id": doc.id,
                            "seq": n,
                            "message_code": "CEB312",
                            "return_status": status,
                            "return_info": "bare write",
                        }
                        for d, doc in zip(made, docs, strict=True)
                        for n, status in enumerate((1, 2, 120), start=1)
                    ],
                )

    return cpu_of(run, postgres=not database.is_sqlite)


def schema_only_cpu(work: list[tuple[Kind, bytes]]) -> float:
    """CPU seconds of the spec's format check alone on each whole message: lxml parsing it
    (network and entities off) and validating it against its schema; none of our rules."""
    schema = default_registry().schema(Regime.DIRECT, Direction.IMPORT)
    parser = etree.XMLParser(resolve_entities=False, no_network=True)

    def run() -> None:
        for _kind, data in work:
            if not schema.validate(etree.fromstring(data, parser)):
                raise SystemExit(f"a message fails the schema: {schema.error_log}")

    return cpu_of(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", type=int, default=400, help="sets (default 400)")
    parser.add_argument("--batch", type=int, default=100, help="records per message (100)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", help="run on this PostgreSQL server (a new schema)")
    options = parser.parse_args()
    sets = shared_sets(options.sets, options.seed)
    work = messages(sets, options.batch)
    records = sum(len(s.documents) for s in sets)
    backend = "PostgreSQL" if options.postgres else "SQLite"
    print(f"{len(sets)} sets, {records} records, in messages of {options.batch}, {backend}")
    checking, found = validation_cpu(sets)
    costs = {"validation, each record alone": checking}
    if options.batch > 1:
        costs["validation, whole messages"] = message_validation_cpu(work)
    with scratch_database(options.postgres) as database:
        costs["intake"] = intake_cpu(database, sets, work)
    with scratch_database(options.postgres) as database:
        costs["bare write"] = bare_write_cpu(database, found, options.batch)
    costs["schema only (lxml), whole messages"] = schema_only_cpu(work)
    with scratch_database(options.postgres) as database:
        costs["bare write, DB-API"] = dbapi_write_cpu(database, found, options.batch)
    if options.postgres:
        with scratch_database(options.postgres) as database:
            costs["bare write, COPY"] = copy_write_cpu(database, found, options.batch)
    report({name: seconds / records * 1000 for name, seconds in costs.items()})


def report(per: dict[str, float]) -> None:
    """Each cost a record, the sets/s it allows, and the intake against the floor."""
    cores = os.cpu_count() or 1

    def allows(ms: float) -> str:
        per_set = ms * RECORDS_PER_SET
        return f"{1000 / per_set:6.0f} sets/s on one core, {cores * 1000 / per_set:6.0f} on {cores}"

    least = min(v for name, v in per.items() if name.startswith("validation"))
    per["floor: least validation + bare write"] = least + per["bare write"]
    driver = min(v for name, v in per.items() if name.startswith("bare write, "))
    per[_RAW] = per["schema only (lxml), whole messages"] + driver
    for name, ms in per.items():
        print(f"  {name:<38} {ms:6.3f} ms CPU a record  ({allows(ms)})")
    budget = 1000 / (MUST_SETS_PER_S * RECORDS_PER_SET)
    print(f"  {MUST_SETS_PER_S} sets/s (issue 15's must) allows {budget:.3f} ms a record on one "
          f"core, {cores * budget:.3f} on {cores}:")  # fmt: skip
    for name in ("floor: least validation + bare write", _RAW):
        floor = per[name]
        print(f"    intake / {name.split(':')[0]} = {per['intake'] / floor:.1f}x; it takes "
              f"{floor / budget:.2f} of one core's budget, {floor / (cores * budget):.2f} of "
              f"{cores}")  # fmt: skip


if __name__ == "__main__":
    main()
