"""Model round trips, constraints, receipts numbering, the quota ledger, concurrent writers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from service_support import PartyFactory, run_together
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from app.db.engine import Database
from app.db.models import (
    ApiKey,
    Declaration,
    DocumentRow,
    Enterprise,
    QuotaEntry,
    Receipt,
    Role,
)
from app.quota import LedgerQuota, MessageQuota
from app.receipts import record_receipt
from declarations.quota import QuotaProvider

# Raw bytes as an enterprise might send them: GB18030-encoded, with a declaration and a BOM-less
# body. The service must give back exactly these bytes, not a re-serialisation.
RAW = '<?xml version="1.0" encoding="GB18030"?><ceb:CEB311Message guid="X"/>'.encode("gb18030")
RAW += "<!-- 订单 -->".encode("gb18030")


def _declaration(db: Database, sender_id: int, order_no: str = "ORDER-1") -> int:
    with db.write() as session:
        declaration = Declaration(
            regime="9610", direction="import", order_no=order_no, ebp_code="3301960101"
        )
        session.add(declaration)
        session.flush()
        session.add(
            DocumentRow(
                guid=f"GUID-{order_no}",
                message_code="CEB311",
                direction="import",
                regime="9610",
                app_type="1",
                raw_xml=RAW,
                order_no=order_no,
                ebp_code="3301960101",
                sender_id=sender_id,
                declaration_id=declaration.id,
            )
        )
        return declaration.id


def test_enterprise_key_document_declaration_round_trip(
    database: Database, make_party: PartyFactory
) -> None:
    party = make_party("3301960101", Role.EBP, Role.EBC)
    declaration_id = _declaration(database, party.id)
    with database.read() as session:
        enterprise = session.scalar(select(Enterprise).where(Enterprise.code == party.code))
        assert enterprise is not None
        assert enterprise.roles == ["ebc", "ebp"]
        assert enterprise.created_at.tzinfo is not None
        key = session.scalar(select(ApiKey).where(ApiKey.enterprise_id == party.id))
        assert key is not None
        assert party.key not in (key.prefix, key.key_hash)  # never stored in clear
        assert party.key.startswith(key.prefix)
        declaration = session.get(Declaration, declaration_id)
        assert declaration is not None
        assert declaration.state == "incomplete"
        [document] = declaration.documents
        assert document.raw_xml == RAW
        assert document.sender.code == party.code
        assert document.received_at.utcoffset() == timedelta(0)  # aware UTC on every backend


def test_guid_is_unique_and_codes_have_customs_length(
    database: Database, make_party: PartyFactory
) -> None:
    party = make_party("3301960101", Role.EBP)
    _declaration(database, party.id, "A")
    with pytest.raises(IntegrityError), database.write() as session:
        session.add(
            DocumentRow(
                guid="GUID-A", message_code="CEB311", direction="import", raw_xml=b"<x/>",
                sender_id=party.id,
            )
        )  # fmt: skip
    with pytest.raises(IntegrityError), database.write() as session:
        session.add(Enterprise(code="12345", name="too short", roles=["ebp"]))


def test_receipts_are_numbered_per_declaration_and_ids_only_grow(
    database: Database, make_party: PartyFactory
) -> None:
    party = make_party("3301960101", Role.EBP)
    first, second = _declaration(database, party.id, "A"), _declaration(database, party.id, "B")
    sim = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
    made = []
    with database.write() as session:
        for declaration_id, status in [(first, 2), (second, 2), (first, 120), (first, 800)]:
            receipt = record_receipt(
                session,
                message_code="CEB622",
                return_status=status,
                return_info="ok",
                declaration_id=declaration_id,
                sim_time=sim,
            )
            made.append((receipt.id, declaration_id, receipt.seq))
    ids = [m[0] for m in made]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert [(d, s) for _, d, s in made] == [(first, 1), (second, 1), (first, 2), (first, 3)]
    with database.read() as session:
        stored = session.scalars(select(Receipt).order_by(Receipt.id)).all()
        assert stored[0].sim_time == sim
        assert [r.return_status for r in stored if r.declaration_id == first] == [2, 120, 800]
    with (
        pytest.raises(ValueError, match="answers a declaration or a document"),
        database.write() as session,
    ):
        record_receipt(session, message_code="CEB622", return_status=1)


def test_ledger_quota_implements_the_provider_protocol(
    database: Database, make_party: PartyFactory
) -> None:
    quota: QuotaProvider = LedgerQuota(database)
    buyer = "110101199001011234"
    assert quota.used(buyer, 2026) == Decimal(0)
    with database.write() as session:
        LedgerQuota.add(session, buyer, Decimal("1999.90"), date(2026, 3, 1))
        LedgerQuota.add(session, buyer, Decimal("0.10"), date(2026, 12, 31))
        LedgerQuota.add(session, buyer, Decimal("500"), date(2025, 12, 31))  # another year
        LedgerQuota.add(session, "other", Decimal("7"), date(2026, 1, 1))
    assert quota.used(buyer, 2026) == Decimal("2000.00")
    assert quota.used(buyer, 2025) == Decimal("500")
    with pytest.raises(ValueError, match="whole fen"), database.write() as session:
        LedgerQuota.add(session, buyer, Decimal("0.001"), date(2026, 1, 1))
    # A purchase counted in a transaction that fails is not counted.
    with pytest.raises(RuntimeError), database.write() as session:
        LedgerQuota.add(session, buyer, Decimal("100"), date(2026, 1, 1))
        raise RuntimeError("the declaration failed")
    assert quota.used(buyer, 2026) == Decimal("2000.00")
    with database.read() as session:
        assert session.scalar(select(QuotaEntry.amount_fen).limit(1)) == 199990


def test_a_message_is_checked_against_the_ledger_as_it_stood(database: Database) -> None:
    """``MessageQuota`` reads a buyer's sum once: a batch is checked whole, then record by
    record, against one reading (the set counts again when it is complete)."""
    buyer = "110101199001011235"
    with database.write() as session:
        LedgerQuota.add(session, buyer, Decimal("100"), date(2026, 3, 1))
    quota = MessageQuota(database)
    assert quota.used(buyer, 2026) == Decimal("100")
    with database.write() as session:
        LedgerQuota.add(session, buyer, Decimal("50"), date(2026, 4, 1))
    assert quota.used(buyer, 2026) == Decimal("100")  # as it stood
    assert quota.used(buyer, 2025) == Decimal(0)  # another year: its own reading
    assert LedgerQuota(database).used(buyer, 2026) == Decimal("150")


def test_a_message_reads_its_buyers_sums_ahead_with_one_query(database: Database) -> None:
    """Told every (buyer, year) of a message first (``declarations.QuotaReadAhead``),
    ``MessageQuota`` reads them with one statement and answers the records from it."""
    first, second, none = "110101199001011235", "110101199001011236", "110101199001011237"
    with database.write() as session:
        LedgerQuota.add(session, first, Decimal("100"), date(2026, 3, 1))
        LedgerQuota.add(session, first, Decimal("20.5"), date(2026, 5, 1))
        LedgerQuota.add(session, first, Decimal("7"), date(2025, 5, 1))
        LedgerQuota.add(session, second, Decimal("30"), date(2026, 1, 2))
    asked = [(first, 2026), (first, 2025), (second, 2026), (none, 2026)]
    statements: list[str] = []

    def count(*args: object) -> None:
        if str(args[2]).lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN
            statements.append(str(args[2]))

    quota = MessageQuota(database)
    event.listen(database.engine, "before_cursor_execute", count)
    try:
        quota.read_ahead(asked)
        assert len(statements) == 1
        answers = [quota.used(buyer, year) for buyer, year in asked]
        assert len(statements) == 1  # answered from what was read ahead
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    ledger = LedgerQuota(database)
    assert answers == [ledger.used(buyer, year) for buyer, year in asked]
    assert answers == [Decimal("120.5"), Decimal("7"), Decimal("30"), Decimal(0)]


def test_concurrent_writers_neither_deadlock_nor_lose_rows(
    database: Database, make_party: PartyFactory
) -> None:
    """Eight threads each record receipts on the same declaration (read max(seq), then write):
    with BEGIN IMMEDIATE on SQLite (and the advisory lock on PostgreSQL) none fails with
    "database is locked" and the sequence has no gaps or duplicates."""
    party = make_party("3301960101", Role.EBP)
    declaration_id = _declaration(database, party.id)

    def writer() -> None:
        for _ in range(10):
            with database.write() as session:
                record_receipt(
                    session, message_code="CEB622", return_status=2, declaration_id=declaration_id
                )

    assert run_together([writer] * 8) == []
    with database.read() as session:
        seqs = session.scalars(
            select(Receipt.seq).where(Receipt.declaration_id == declaration_id).order_by(Receipt.id)
        ).all()
    assert seqs == list(range(1, 81))
