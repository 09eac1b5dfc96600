"""The write path's own machinery: SQLite's writer queue, receipts recorded in batches (their
numbering and webhook outbox rows), the one-query key check, and ``serve``'s options."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from service_support import PartyFactory, run_together, statements_run
from sqlalchemy import select, text
from typer.testing import CliRunner

from app import accounts
from app.cli import cli
from app.db.engine import Database, WriterQueue, WriterQueueTimeoutError
from app.db.models import Declaration, Delivery, DocumentRow, Receipt, Role, Webhook
from app.receipts import NewReceipt, first_receipts, record_receipts
from app.settings import get_settings

RAW = b"<CEB311Message/>"


# -- the writer queue ------------------------------------------------------------------------


def _wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


def test_writer_queue_hands_the_lock_over_in_arrival_order() -> None:
    queue = WriterQueue()
    queue.acquire(timeout=1)
    order: list[int] = []

    def writer(n: int) -> None:
        queue.acquire(timeout=10)
        order.append(n)
        queue.release()

    threads = []
    for n in range(6):  # each one queued before the next starts
        thread = threading.Thread(target=writer, args=(n,))
        thread.start()
        threads.append(thread)
        _wait_until(lambda n=n: len(queue._waiting) == n + 1, f"writer {n} to queue")
    queue.release()
    for thread in threads:
        thread.join(10)
    assert order == list(range(6))


def test_writer_queue_times_out_and_leaves_the_line() -> None:
    queue = WriterQueue()
    queue.acquire(timeout=1)
    failures: list[BaseException] = []

    def impatient() -> None:
        try:
            queue.acquire(timeout=0.05)
        except WriterQueueTimeoutError as error:
            failures.append(error)

    thread = threading.Thread(target=impatient)
    thread.start()
    thread.join(10)
    assert len(failures) == 1 and "waited over" in str(failures[0])
    queue.release()
    queue.acquire(timeout=0.05)  # nobody is left in the line: free at once
    queue.release()


def test_a_nested_sqlite_write_is_refused_not_deadlocked(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'nested.db'}", busy_timeout_ms=1000)
    with (
        pytest.raises(RuntimeError, match="inside another one"),
        database.write(),
        database.write(),
    ):
        pass
    with database.write():  # the outer one released the queue
        pass
    database.dispose()


def test_sqlite_writers_of_one_process_all_get_through(tmp_path: Path) -> None:
    """Sixteen threads writing at once: every transaction commits, none waits on SQLite's busy
    handler (the timeout is shorter than the whole run, so polling losers would fail)."""
    database = Database.from_url(f"sqlite:///{tmp_path / 'queue.db'}", busy_timeout_ms=2000)
    with database.write() as session:
        session.execute(text("CREATE TABLE counter (n INTEGER)"))
        session.execute(text("INSERT INTO counter VALUES (0)"))

    def writer() -> None:
        for _ in range(25):
            with database.write() as session:
                session.execute(text("UPDATE counter SET n = n + 1"))

    assert run_together([writer] * 16) == []
    with database.read() as session:
        assert session.scalar(text("SELECT n FROM counter")) == 400
    database.dispose()


# -- receipts in batches -----------------------------------------------------------------------


def _set(database: Database, senders: list[int], order_no: str) -> tuple[int, list[int]]:
    """A declaration with one document per sender; (declaration id, document ids)."""
    with database.write() as session:
        declaration = Declaration(
            regime="9610", direction="import", order_no=order_no, ebp_code="3301960101"
        )
        session.add(declaration)
        session.flush()
        documents = [
            DocumentRow(
                guid=f"GUID-{order_no}-{n}",
                message_code="CEB311",
                direction="import",
                raw_xml=RAW,
                order_no=order_no,
                ebp_code="3301960101",
                sender_id=sender,
                declaration_id=declaration.id,
            )
            for n, sender in enumerate(senders)
        ]
        session.add_all(documents)
        session.flush()
        return declaration.id, [d.id for d in documents]


def test_a_batch_is_numbered_per_subject_after_what_is_stored(
    database: Database, make_party: PartyFactory
) -> None:
    party = make_party("3301960101", Role.EBP)
    first, _ = _set(database, [party.id], "A")
    second, (lonely,) = _set(database, [party.id], "B")
    with database.write() as session:
        session.get_one(DocumentRow, lonely).declaration_id = None  # a document without a set
        record_receipts(session, [NewReceipt("CEB622", 2, declaration_id=first)] * 2)
    with database.write() as session:
        stored = record_receipts(
            session,
            [
                NewReceipt("CEB622", 120, declaration_id=first),
                NewReceipt("CEB312", 2, document_id=lonely),
                NewReceipt("CEB622", 2, declaration_id=second),
                NewReceipt("CEB622", 3, declaration_id=first),
                NewReceipt("CEB312", 3, document_id=lonely),
            ],
        )
    assert [r.id for r in stored] == sorted(r.id for r in stored)
    assert [(r.declaration_id, r.document_id, r.seq) for r in stored] == [
        (first, None, 3),
        (None, lonely, 1),
        (second, None, 1),
        (first, None, 4),
        (None, lonely, 2),
    ]
    with database.read() as session:
        count = len(session.scalars(select(Receipt.id)).all())
    assert count == 7


def test_a_new_subject_is_numbered_without_asking_the_database(
    database: Database, make_party: PartyFactory
) -> None:
    party = make_party("3301960101", Role.EBP)
    declaration_id, _ = _set(database, [party.id], "A")
    with database.write() as session, statements_run(database) as seen:
        first_receipts(session, declaration_id=declaration_id)
        stored = record_receipts(
            session, [NewReceipt("CEB622", s, declaration_id=declaration_id) for s in (2, 3)]
        )
        more = record_receipts(session, [NewReceipt("CEB622", 120, declaration_id=declaration_id)])
    assert [r.seq for r in stored + more] == [1, 2, 3]
    assert not [sql for sql, _ in seen if "max(" in sql.lower()]
    # One INSERT per call, one subscriber lookup for the transaction, nothing else.
    assert sum("insert into receipts" in sql.lower() for sql, _ in seen) == 2
    assert sum("from webhooks" in sql.lower() for sql, _ in seen) == 1


def test_the_book_starts_afresh_in_the_next_transaction(
    database: Database, make_party: PartyFactory
) -> None:
    """One session, two transactions: what the first learnt is not trusted in the second
    (another writer may have numbered receipts in between)."""
    party = make_party("3301960101", Role.EBP)
    declaration_id, _ = _set(database, [party.id], "A")
    with database.write() as session:
        session.add(Webhook(enterprise_id=party.id, url="http://a.test/", secret="s" * 24))
    with database._write() as session:
        with session.begin():
            record_receipts(session, [NewReceipt("CEB622", 2, declaration_id=declaration_id)])
        with database.write() as other:  # another writer, in between
            record_receipts(other, [NewReceipt("CEB622", 3, declaration_id=declaration_id)])
        with session.begin():
            (late,) = record_receipts(
                session, [NewReceipt("CEB622", 120, declaration_id=declaration_id)]
            )
    assert late.seq == 3


def test_each_subscriber_gets_one_delivery_per_receipt_it_wants(
    database: Database, make_party: PartyFactory
) -> None:
    seller = make_party("3301960101", Role.EBP)
    carrier = make_party("3301960202", Role.LOGISTICS)
    outsider = make_party("3301960303", Role.PAY)
    # The seller sent two documents of the set: its webhook still gets each receipt once.
    declaration_id, _ = _set(database, [seller.id, seller.id, carrier.id], "A")
    with database.write() as session:
        hooks = [
            Webhook(enterprise_id=seller.id, url="http://s.test/", secret="s" * 24),
            Webhook(
                enterprise_id=carrier.id, url="http://c.test/", secret="c" * 24, events=["CEB506"]
            ),
            Webhook(enterprise_id=outsider.id, url="http://o.test/", secret="o" * 24),
            Webhook(enterprise_id=seller.id, url="http://x.test/", secret="x" * 24, active=False),
        ]
        session.add_all(hooks)
        session.flush()
        ids = [h.id for h in hooks]
    with database.write() as session:
        stored = record_receipts(
            session,
            [NewReceipt("CEB622", s, declaration_id=declaration_id) for s in (2, 3, 120)],
        )
    with database.read() as session:
        rows = session.execute(select(Delivery.receipt_id, Delivery.webhook_id)).all()
    # Only the seller's active webhook takes CEB622 receipts.
    assert sorted(rows) == sorted((r.id, ids[0]) for r in stored)


# -- the key check ------------------------------------------------------------------------------


def test_authenticate_finds_the_enterprise_of_an_active_key_only(
    database: Database, make_party: PartyFactory
) -> None:
    party = make_party("3301960101", Role.EBP, Role.EBC)
    with database.read() as session:
        principal = accounts.authenticate(session, party.key)
    assert principal is not None
    assert (principal.id, principal.code, set(principal.roles)) == (
        party.id,
        "3301960101",
        {"ebp", "ebc"},
    )
    with database.read() as session:
        assert accounts.authenticate(session, party.key[:-1] + "x") is None
    with database.write() as session:
        accounts.revoke_keys(session, accounts.find_enterprise(session, "3301960101"))
    with database.read() as session:
        assert accounts.authenticate(session, party.key) is None


# -- serve -------------------------------------------------------------------------------------


def test_serve_refuses_several_workers_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DANCHUANG_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve", "--workers", "2"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "--workers needs PostgreSQL" in result.output
