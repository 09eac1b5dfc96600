"""Write transactions taken again (``submission.write_retrying``): why each retry happened, on
real databases, and that each is counted (``danchuang_write_retries_total``) and, when it redid
work because of a concurrent write, logged."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import structlog
from postgres_support import throwaway_schema
from service_support import PartyFactory
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from structlog.testing import capture_logs
from submission_helpers import kind, register, sample, xml

from app import accounts, metrics
from app.accounts import Principal
from app.db.engine import Database
from app.db.models import Enterprise, Role
from app.services import submission
from declarations.messages import Direction, Kind, Regime


def _retries(reason: str) -> float:
    return (
        metrics.REGISTRY.get_sample_value("danchuang_write_retries_total", {"reason": reason})
        or 0.0
    )


def _register_late(session: Session, code: str) -> None:
    """An enterprise registered as if this transaction had not seen that ``code`` is taken."""
    session.add(Enterprise(code=code, name="late", roles=[Role.EBP.value]))
    session.flush()


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, object]]]:
    """The log entries of ``submission``, from a logger first used inside ``capture_logs`` (the
    module's may be bound to an earlier test's logging)."""
    with capture_logs() as entries:
        monkeypatch.setattr(submission, "log", structlog.get_logger("danchuang.submission"))
        yield entries


def test_a_resent_message_is_a_resend_counted_not_logged(
    database: Database, make_party: PartyFactory, warnings: list[dict[str, object]]
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT)
    parties = register(make_party, sample_set)
    order = next(r for r in sample_set.documents.values() if kind(r) is Kind.ORDER)
    seller = Principal(parties.seller.id, parties.seller.code, "t", ("ebc",), "aeo")
    before = _retries("resend")

    first = submission.submit_document(database, seller, xml(order))
    again = submission.submit_document(database, seller, xml(order))

    assert (first.repeat, again.repeat) == (False, True)
    assert again.document.id == first.document.id
    assert _retries("resend") == before + 1
    assert [e for e in warnings if e["event"] == "write.retried"] == []


def test_a_write_that_loses_a_race_on_a_unique_key_is_taken_again_counted_and_logged(
    database: Database, warnings: list[dict[str, object]]
) -> None:
    with database.write() as session:
        accounts.create_enterprise(session, code="3301960001", name="first", roles=[Role.EBP])
    seen: list[bool] = []

    def work(session: Session, again: bool) -> str:
        seen.append(again)
        if not again:  # the code a concurrent write took first
            _register_late(session, "3301960001")
        return "taken"

    before = _retries("race")
    assert submission.write_retrying(database, work) == "taken"
    assert seen == [False, True]
    assert _retries("race") == before + 1
    (entry,) = [e for e in warnings if e["event"] == "write.retried"]
    assert (entry["log_level"], entry["reason"], entry["attempt"]) == ("warning", "race", 1)


def test_a_write_that_keeps_failing_raises_after_the_last_attempt(database: Database) -> None:
    with database.write() as session:
        accounts.create_enterprise(session, code="3301960002", name="first", roles=[Role.EBP])
    tries: list[bool] = []

    def work(session: Session, again: bool) -> None:
        tries.append(again)
        _register_late(session, "3301960002")

    with pytest.raises(IntegrityError):
        submission.write_retrying(database, work)
    assert tries == [False] + [True] * (submission.ATTEMPTS - 1)


def test_an_operational_error_that_is_no_deadlock_is_not_retried(tmp_path: object) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path}/empty.db")
    tries: list[bool] = []

    def work(session: Session, again: bool) -> None:
        tries.append(again)
        session.execute(text("SELECT * FROM no_such_table"))

    try:
        with pytest.raises(OperationalError) as raised:
            submission.write_retrying(database, work)
    finally:
        database.dispose()
    assert tries == [False]
    assert submission.retry_reason(raised.value) is None


@pytest.mark.postgres
def test_a_deadlock_postgresql_breaks_is_a_reason_to_retry() -> None:
    """Two transactions take two advisory locks in opposite orders: PostgreSQL breaks the
    deadlock by failing one of them (40P01)."""
    both = threading.Barrier(2)
    failed: list[OperationalError] = []

    def take(database: Database, first: int, second: int) -> None:
        try:
            with database.write() as session:
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": first})
                both.wait(timeout=10)
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": second})
        except OperationalError as exc:
            failed.append(exc)

    with throwaway_schema() as url:
        database = Database.from_url(url)
        try:
            threads = [
                threading.Thread(target=take, args=(database, *keys))
                for keys in ((71, 72), (72, 71))
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
        finally:
            database.dispose()
    (deadlock,) = failed
    assert submission.retry_reason(deadlock) == "deadlock"
