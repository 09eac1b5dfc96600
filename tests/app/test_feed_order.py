"""The receipt feed's order without a global lock (PostgreSQL): writers commit receipts out of
id order, and a poller paging by id never skips one (``app.receipts``, the feed's horizon)."""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Iterator

import pytest
from postgres_support import throwaway_schema
from service_support import PartyFactory, run_together
from sqlalchemy import select

from app.db.engine import Database
from app.db.models import DocumentRow, Receipt, Role
from app.feed import feed
from app.receipts import record_receipt

pytestmark = pytest.mark.postgres


@pytest.fixture
def db_url() -> Iterator[str]:
    """PostgreSQL only: SQLite has one writer at a time, ids commit in order there."""
    with throwaway_schema() as url:
        yield url


def _documents(database: Database, sender_id: int, count: int) -> list[int]:
    """``count`` documents of one sender: each writer numbers its own, so none waits."""
    with database.write() as session:
        rows = [
            DocumentRow(
                guid=f"FEED-{n}",
                message_code="CEB311",
                direction="import",
                raw_xml=b"<x/>",
                sender_id=sender_id,
            )
            for n in range(count)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def _receipt(database: Database, document_id: int) -> int:
    with database.write() as session:
        return record_receipt(
            session, message_code="CEB312", return_status=2, document_id=document_id
        ).id


def _page(database: Database, enterprise_id: int, after: int) -> list[int]:
    with database.read() as session:
        return [r.id for r in feed(session, enterprise_id, after=after, limit=1000)]


class _Held:
    """A write transaction that records a receipt, then waits to be told to commit or abort."""

    def __init__(self, database: Database, document_id: int, *, commit: bool = True) -> None:
        self.recorded = threading.Event()
        self.finish = threading.Event()
        self.id = 0
        self.commit = commit
        self.thread = threading.Thread(target=self._run, args=(database, document_id))
        self.thread.start()
        assert self.recorded.wait(30)

    def _run(self, database: Database, document_id: int) -> None:
        try:
            with database.write() as session:
                self.id = record_receipt(
                    session, message_code="CEB312", return_status=2, document_id=document_id
                ).id
                self.recorded.set()
                self.finish.wait(30)
                if not self.commit:
                    raise _AbortedError
        except _AbortedError:
            pass

    def end(self) -> None:
        self.finish.set()
        self.thread.join(30)


class _AbortedError(Exception):
    pass


@pytest.mark.parametrize("commit", [True, False], ids=["commits", "aborts"])
def test_a_later_id_is_not_shown_before_an_earlier_one_commits(
    database: Database, make_party: PartyFactory, commit: bool
) -> None:
    party = make_party("3301960101", Role.EBP)
    slow, *quick = _documents(database, party.id, 4)
    before = _receipt(database, quick[0])
    held = _Held(database, slow, commit=commit)  # id L, uncommitted
    later = [_receipt(database, d) for d in quick]  # ids above L, committed
    assert held.id > before and all(ident > held.id for ident in later)
    # The poller sees what committed below L, and nothing above it while L may still come.
    assert _page(database, party.id, 0) == [before]
    assert _page(database, party.id, before) == []
    held.end()
    shown = _page(database, party.id, before)
    assert shown == ([held.id] if commit else []) + later


def test_many_writers_out_of_order_and_a_poller_that_skips_nothing(
    database: Database, make_party: PartyFactory
) -> None:
    """Eight writers each record receipts in transactions that linger a random moment before
    committing (so ids commit out of order) while a poller pages with its cursor: it sees every
    committed receipt once, in id order."""
    party = make_party("3301960101", Role.EBP)
    documents = _documents(database, party.id, 8)
    committed: list[int] = []
    writing = threading.Event()
    done = threading.Event()
    seen: list[int] = []

    def writer(document_id: int) -> None:
        rng = random.Random(document_id)
        for _ in range(15):
            with database.write() as session:
                receipt = record_receipt(
                    session, message_code="CEB312", return_status=2, document_id=document_id
                )
                writing.set()
                time.sleep(rng.random() * 0.02)
            committed.append(receipt.id)

    def poller() -> None:
        writing.wait(30)
        cursor = 0
        while True:
            last_round = done.is_set()
            page = _page(database, party.id, cursor)
            seen.extend(page)
            cursor = page[-1] if page else cursor
            if last_round and not page:
                return

    watcher = threading.Thread(target=poller)
    watcher.start()
    assert run_together([functools.partial(writer, d) for d in documents]) == []
    done.set()
    watcher.join(60)
    assert seen == sorted(seen)
    assert seen == sorted(committed)
    with database.read() as session:
        assert seen == list(session.scalars(select(Receipt.id).order_by(Receipt.id)))
