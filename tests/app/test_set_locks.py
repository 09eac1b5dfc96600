"""Set logic serialised per set, not globally (PostgreSQL, ``app.services.set_locks``): the
documents of one set sent at once from separate connections still meet, and other sets go on
while one is held."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from postgres_support import throwaway_schema
from service_support import PartyFactory, run_together
from sqlalchemy import func, select, update
from submission_helpers import Parties, kind, register, sample, xml

from app.accounts import Principal
from app.db.engine import Database
from app.db.models import Declaration, DocumentRow, QuotaEntry
from app.engine import store
from app.services import set_locks
from app.services.submission import submit_document
from declarations.messages import Direction, Kind, Regime
from declarations.samples import SampleSet

pytestmark = pytest.mark.postgres

ROLES = {Kind.ORDER: ("ebc",), Kind.PAYMENT: ("pay",), Kind.WAYBILL: ("logistics",),
         Kind.INVENTORY: ("agent",)}  # fmt: skip


@pytest.fixture
def db_url() -> Iterator[str]:
    """PostgreSQL only: SQLite's write transaction excludes every other writer anyway."""
    with throwaway_schema() as url:
        yield url


def _sender(
    database: Database, parties: Parties, sample_set: SampleSet, what: Kind
) -> Callable[[], object]:
    """Sending the set's document of ``what`` from its own party (its own connection)."""
    root = next(r for r in sample_set.documents.values() if kind(r) is what)
    party = parties.sender(what)
    principal = Principal(party.id, party.code, "t", ROLES[what], "aeo")
    return lambda: submit_document(database, principal, xml(root))


def _key(sample_set: SampleSet, direction: Direction) -> str:
    deal = sample_set.deal
    return set_locks.set_key(direction.value, deal.platform.code, deal.order_no)


@pytest.mark.parametrize("direction", [Direction.IMPORT, Direction.EXPORT], ids=str)
def test_the_last_two_documents_of_a_set_sent_at_once_complete_it_once(
    database: Database, make_party: PartyFactory, direction: Direction
) -> None:
    """For each set, order and payment first; then the 清单 and the waybill at the same moment
    from two connections: every set is reconciled once (clearance-ready, its quota counted
    once), none stuck incomplete."""
    samples = [sample(Regime.DIRECT, direction, seed=s) for s in range(81, 87)]
    for sample_set in samples:
        parties = register(make_party, sample_set)
        for what in (Kind.ORDER, Kind.PAYMENT):
            _sender(database, parties, sample_set, what)()
        last = [_sender(database, parties, sample_set, w) for w in (Kind.INVENTORY, Kind.WAYBILL)]
        assert run_together(last) == []
    with database.read() as session:
        states = session.scalars(select(Declaration.state)).all()
        counted = session.scalar(select(func.count()).select_from(QuotaEntry))
    assert sorted(states) == ["clearance_ready"] * len(samples)
    assert counted == (len(samples) if direction is Direction.IMPORT else 0)


def test_four_documents_of_a_set_sent_at_once_make_one_declaration(
    database: Database, make_party: PartyFactory
) -> None:
    """All four documents of each set at the same moment: one declaration per set, ready."""
    samples = [sample(Regime.DIRECT, Direction.IMPORT, seed=s) for s in range(91, 96)]
    for sample_set in samples:
        parties = register(make_party, sample_set)
        kinds = (Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY)
        assert run_together([_sender(database, parties, sample_set, w) for w in kinds]) == []
    with database.read() as session:
        states = session.scalars(select(Declaration.state)).all()
    assert sorted(states) == ["clearance_ready"] * len(samples)


class _Holder:
    """A write transaction that holds ``keys`` (``set_locks.lock``) until told to end."""

    def __init__(self, database: Database, keys: list[str]) -> None:
        self.held = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(database, keys))
        self.thread.start()
        assert self.held.wait(30)

    def _run(self, database: Database, keys: list[str]) -> None:
        with database.write() as session:
            set_locks.lock(session, keys)
            self.held.set()
            self.release.wait(30)

    def end(self) -> None:
        self.release.set()
        self.thread.join(30)


def test_a_held_set_waits_while_another_set_goes_on(
    database: Database, make_party: PartyFactory
) -> None:
    """While a transaction holds set A, a document of set B is taken and answered; A's own
    document waits for A and is taken once A is let go."""
    a, b = (sample(Regime.DIRECT, Direction.IMPORT, seed=s) for s in (71, 72))
    parties_a, parties_b = register(make_party, a), register(make_party, b)
    holder = _Holder(database, [_key(a, Direction.IMPORT)])
    done_a = threading.Event()
    send_a = _sender(database, parties_a, a, Kind.ORDER)
    waiting = threading.Thread(target=lambda: (send_a(), done_a.set()))
    waiting.start()
    outcome = _sender(database, parties_b, b, Kind.ORDER)()  # set B: not held, goes through
    assert getattr(outcome, "http_status", None) == 201
    assert not done_a.is_set()  # set A's document is still waiting for A
    holder.end()
    waiting.join(30)
    assert done_a.is_set()


def test_the_engine_leaves_a_held_set_for_the_next_tick(
    database: Database, make_party: PartyFactory
) -> None:
    """A clearance-ready set a submission holds is not picked up now (the late document may
    change it); the next pickup, once it is let go, takes it."""
    ready = sample(Regime.DIRECT, Direction.IMPORT, seed=73)
    parties = register(make_party, ready)
    for what in (Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY):
        _sender(database, parties, ready, what)()
    now = datetime.now(UTC)
    holder = _Holder(database, [_key(ready, Direction.IMPORT)])
    with database.write() as session:
        assert store.take_ready(session, 10, now) == []
    holder.end()
    with database.write() as session:
        taken = store.take_ready(session, 10, now)
    with database.read() as session:
        state = session.scalar(select(Declaration.state))
    assert len(taken) == 1 and state == "clearing"


def test_the_engine_holds_every_set_naming_the_waybill_of_its_declarations(
    database: Database, make_party: PartyFactory
) -> None:
    """``lock_declarations`` holds a declaration's set and every other set whose current 清单
    names the same waybill (here a second set's 清单 made to name the first's), not sets that
    name other waybills."""
    first, second, third = (sample(Regime.DIRECT, Direction.IMPORT, seed=s) for s in (61, 62, 63))
    for sample_set in (first, second, third):
        parties = register(make_party, sample_set)
        for what in (Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY):
            _sender(database, parties, sample_set, what)()
    with database.write() as session:
        ids = {
            order_no: id_
            for id_, order_no in session.execute(select(Declaration.id, Declaration.order_no))
        }
        waybill = session.execute(
            select(DocumentRow.logistics_code, DocumentRow.logistics_no).where(
                DocumentRow.declaration_id == ids[first.deal.order_no],
                DocumentRow.message_code == "CEB621",
            )
        ).one()
        session.execute(
            update(DocumentRow)
            .where(
                DocumentRow.declaration_id == ids[second.deal.order_no],
                DocumentRow.message_code == "CEB621",
            )
            .values(logistics_code=waybill.logistics_code, logistics_no=waybill.logistics_no)
        )
    keys = [_key(s, Direction.IMPORT) for s in (first, second, third)]
    with database.write() as engine_side:
        set_locks.lock_declarations(engine_side, [ids[first.deal.order_no]])
        with database.write() as other_side:
            assert set_locks.try_lock(other_side, keys) == {keys[2]}
