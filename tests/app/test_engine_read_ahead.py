"""What the clearance engine reads ahead for the messages it plays (docs/performance.md, the
engine): the receipts' numbering and subscribers (``app.receipts.read_ahead``, ``read_hooks``)
and the waybills the site's and the carrier's records name (``app.services.named_waybills``)
are read once a transaction, and answer as the per-message queries did. Both backends."""

from __future__ import annotations

from typing import Any

import httpx
from service_support import PartyFactory, statements_run
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from submission_helpers import register, sample, send_set
from test_engine_support import instant_engine

from app import metrics, receipts, states
from app.db.engine import Database
from app.db.models import Declaration, Delivery, DocumentRow, Role, Webhook
from app.receipts import NewReceipt, first_receipts, record_receipts
from app.services import named_waybills
from declarations import Direction, Regime


def _declaration(
    database: Database, sender: int, order_no: str, waybills: list[tuple[str, str, str]]
) -> int:
    """An export declaration with current waybills (message code, carrier, number)."""
    with database.write() as session:
        declaration = Declaration(
            regime="9610", direction="export", order_no=order_no, ebp_code="3301960101"
        )
        session.add(declaration)
        session.flush()
        for n, (code, carrier, number) in enumerate(waybills):
            session.add(
                DocumentRow(
                    guid=f"GUID-{order_no}-{n}",
                    message_code=code,
                    direction="export",
                    raw_xml=b"<CEB505Message/>",
                    logistics_code=carrier,
                    logistics_no=number,
                    sender_id=sender,
                    declaration_id=declaration.id,
                )
            )
        return declaration.id


def _lookups(session: Session, names: list[tuple[str, str, str]]) -> list[Any]:
    """What the records' lookups answer for each name: declarations by number, the waybill."""
    answers: list[Any] = []
    for code, carrier, number in names:
        found = named_waybills.declarations_of_waybills(session, code, carrier, [number])
        answers.append({n: d.id for n, d in found.items()})
        waybill = named_waybills.waybill_of(session, code, carrier, number)
        answers.append(waybill.id if waybill is not None else None)
    return answers


def test_waybills_read_ahead_answer_as_their_queries(
    database: Database, make_party: PartyFactory
) -> None:
    sender = make_party("3301960101", Role.EBP).id
    mine = [("CEB505", "CARRIER01", "N1"), ("CEB505", "CARRIER01", "N2")]
    first = _declaration(database, sender, "A", mine)
    _declaration(database, sender, "B", [("CEB505", "CARRIER02", "N1")])  # that number, elsewhere
    names = [
        ("CEB505", "CARRIER01", "N1"),
        ("CEB505", "CARRIER01", "N2"),
        ("CEB505", "CARRIER02", "N1"),
        ("CEB511", "CARRIER01", "N1"),  # an import waybill of that number: none
    ]
    with database.read() as session:
        queried = _lookups(session, names)
    with database.read() as session:
        held = list(session.scalars(select(Declaration)))  # as the engine holds what it plays
        waybills = list(session.scalars(select(DocumentRow)))
        named_waybills.read_ahead(session, waybills)
        with statements_run(database) as seen:
            answered = _lookups(session, names[:3])
        assert seen == []  # every name was read ahead
        with statements_run(database) as seen:
            answered += _lookups(session, names[3:])
        assert len(seen) == 2  # not read ahead: each lookup queries
    assert answered == queried
    assert queried[0] == {"N1": first}
    assert len(held) == 2


def _document(session: Session, sender: int, guid: str) -> DocumentRow:
    """A document of no set, stored in this transaction (a site's record): the session holds
    it while its receipts are recorded, as the intake does."""
    row = DocumentRow(
        guid=guid, message_code="CEB507", direction="export", raw_xml=b"<x/>", sender_id=sender
    )
    session.add(row)
    session.flush()
    first_receipts(session, document_id=row.id)
    return row


def _answers(document: DocumentRow) -> list[NewReceipt]:
    return [NewReceipt(code, 2, document_id=document.id) for code in ("CEB508", "CEB712")]


def test_a_document_is_given_its_senders_webhooks_without_a_query(
    database: Database, make_party: PartyFactory
) -> None:
    site = make_party("DCSITE0002", Role.OPERATOR).id
    with database.write() as session:
        hooks = [
            Webhook(enterprise_id=site, url="http://a.test/", secret="a" * 24),
            Webhook(enterprise_id=site, url="http://b.test/", secret="b" * 24, events=["CEB712"]),
            Webhook(enterprise_id=site, url="http://c.test/", secret="c" * 24, active=False),
        ]
        session.add_all(hooks)
        session.flush()
        every, only_712 = hooks[0].id, hooks[1].id
    with database.write() as session:  # as before: the subscribers are queried
        queried = [r.id for r in record_receipts(session, _answers(_document(session, site, "Q")))]
    with database.write() as session:
        receipts.read_hooks(session, [site])
        first = _document(session, site, "R1")
        with statements_run(database) as seen:
            read = [r.id for r in record_receipts(session, _answers(first))]
        assert not [sql for sql, _ in seen if "from webhooks" in sql.lower()]
    with database.write() as session:  # learnt from the first document's subscribers
        one = _document(session, site, "L1")
        learnt = [r.id for r in record_receipts(session, _answers(one))]
        two = _document(session, site, "L2")
        with statements_run(database) as seen:
            learnt += [r.id for r in record_receipts(session, _answers(two))]
        assert not [sql for sql, _ in seen if "from webhooks" in sql.lower()]
    with database.read() as session:
        given = set(session.execute(select(Delivery.receipt_id, Delivery.webhook_id)).all())
    for ids in (queried, read, learnt[:2], learnt[2:]):
        bill, entry = ids  # CEB508 to the webhook of every code, CEB712 to both
        wanted = {(bill, every), (entry, every), (entry, only_712)}
        assert {d for d in given if d[0] in ids} == wanted


def test_read_ahead_numbers_a_declarations_receipts_in_several_calls(
    database: Database, make_party: PartyFactory
) -> None:
    sender = make_party("3301960101", Role.EBP).id
    ident = _declaration(database, sender, "A", [("CEB505", "CARRIER01", "N1")])
    with database.write() as session:
        record_receipts(session, [NewReceipt("CEB604", s, declaration_id=ident) for s in (2, 3)])
    with database.write() as session:
        receipts.read_ahead(session, [("declaration", ident)])
        with statements_run(database) as seen:
            stored = [
                record_receipts(session, [NewReceipt("CEB604", s, declaration_id=ident)])[0]
                for s in (120, 399)
            ]
        assert all(sql.lower().startswith("insert into receipts") for sql, _ in seen)
    assert [r.seq for r in stored] == [3, 4]


async def test_the_engine_looks_up_what_it_plays_once_a_transaction(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    """Exports (arrival, master waybill, departure) and 9610 imports (entry, delivery), with
    danchuang playing the site and the carrier: no waybill is looked up by name one message at
    a time, and a sender's webhooks are read once a transaction."""
    samples = [sample(Regime.DIRECT, Direction.EXPORT, seed=s) for s in (501, 502)]
    samples += [sample(Regime.DIRECT, Direction.IMPORT, seed=s) for s in (503, 504)]
    idents = []
    for s in samples:
        answers = await send_set(client, register(make_party, s), s)
        idents.append(answers[-1]["declaration"]["id"])
    engine = instant_engine(database)
    with statements_run(database) as seen:
        engine.run_until_idle()
    with database.read() as session:
        played = session.scalar(
            select(func.count(DocumentRow.id)).where(
                DocumentRow.message_code.in_(("CEB507", "CEB509", "CEB607", "CEB711", "CEB513"))
            )
        )
        final = [session.get_one(Declaration, i).state for i in idents]
    assert final == [states.CLEARED] * 4
    assert played == 2 * 3 + 2 * 2
    # No waybill looked up by one name (``declarations_of_waybills``, ``waybill_of``).
    run = [sql.lower() for sql, _ in seen]
    by_name = ("select documents.logistics_no, declarations.id", "select documents.id, ")
    assert not [s for s in run if s.startswith(by_name) and "documents.logistics_code = " in s]
    # A document's subscribers: only the first record of danchuang's site, which it registers
    # then, asks for them; the carriers' webhooks were read ahead.
    assert sum(s.startswith("select documents.id, webhooks.id") for s in run) == 1


def test_receipts_are_counted_once_a_label_pair_each(
    database: Database, make_party: PartyFactory
) -> None:
    sender = make_party("3301960101", Role.EBP).id
    ident = _declaration(database, sender, "A", [("CEB505", "CARRIER01", "N1")])
    pairs = [("CEB604", 2), ("CEB604", 3), ("CEB604", 2), ("CEB816", 1)]

    def counted(code: str, status: int) -> float:
        labels = {"message": code, "status": str(status)}
        return metrics.REGISTRY.get_sample_value("danchuang_receipts_total", labels) or 0.0

    before = {pair: counted(*pair) for pair in pairs}
    with database.write() as session:
        record_receipts(session, [NewReceipt(c, s, declaration_id=ident) for c, s in pairs])
    assert {pair: counted(*pair) - before[pair] for pair in pairs} == {
        ("CEB604", 2): 2,
        ("CEB604", 3): 1,
        ("CEB816", 1): 1,
    }
