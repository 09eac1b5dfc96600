"""The messages danchuang plays in one engine transaction are taken together, per sender
(``app.engine.plays``, ``taking.take_all(played=True)``): the site's records (``Entries``), and
the carrier's master waybills and departures (``Departures``) and deliveries (``deliver_due``).
Each is answered and acts on its own declaration as a record alone does."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from postgres_support import throwaway_schema
from service_support import PartyFactory
from sqlalchemy import event, select
from sqlalchemy.orm import Session
from submission_helpers import register, sample, send_set
from test_engine_support import instant_engine

from app import states
from app.accounts import Principal
from app.db import migrate
from app.db.engine import Database
from app.db.models import Declaration, DocumentRow, Enterprise, Receipt
from app.engine import engine as engine_module
from app.engine import plays
from app.services import stand_ins, submission, taking
from benchmarks.engine import fill, unpark
from declarations import Direction, Regime
from declarations.sample_batches import sharing_parties
from declarations.samples import SampleSet

_SITE = ("CEB507", "CEB711")


async def test_the_sites_records_are_taken_together_each_in_its_place(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    samples = [sample(Regime.DIRECT, Direction.EXPORT, seed=s) for s in range(601, 611)]
    samples += [sample(Regime.DIRECT, Direction.IMPORT, seed=s) for s in range(611, 615)]
    idents = []
    for s in samples:
        answers = await send_set(client, register(make_party, s), s)
        idents.append(answers[-1]["declaration"]["id"])
    together = _site_records_inserted(database)

    with together:
        instant_engine(database).run_until_idle()
    with database.read() as session:
        site = list(session.scalars(select(DocumentRow).where(DocumentRow.message_code.in_(_SITE))))
        answered = {
            row.guid: [
                (r.seq, r.return_status)
                for r in session.scalars(
                    select(Receipt).where(Receipt.document_id == row.id).order_by(Receipt.id)
                )
            ]
            for row in site
        }
        declarations = [session.get_one(Declaration, i) for i in idents]
    assert len(site) == 14  # one record a declaration
    assert sorted(row.message_code for row in site) == ["CEB507"] * 10 + ["CEB711"] * 4
    for row in site:  # each answered as a record alone: 2 → 3 → 399 (arrival) or 120 (entry)
        final = 399 if row.message_code == "CEB507" else 120
        assert answered[row.guid] == [(1, 2), (2, 3), (3, final)]
    assert {row.sender_id for row in site} == {site[0].sender_id}  # danchuang's site
    assert all(d.site_entered_at is not None for d in declarations)
    assert [d.state for d in declarations] == [states.CLEARED] * 14
    assert sum(len(codes) for codes in together.inserts) == 14
    assert max(len(codes) for codes in together.inserts) > 1  # several taken together


class _site_records_inserted:  # noqa: N801 (a context manager named for what it collects)
    """While open: the site's records (their message codes) each INSERT of documents writes."""

    def __init__(self, database: Database) -> None:
        self.engine = database.engine
        self.inserts: list[list[str]] = []

    def _log(self, _conn: Any, _cursor: Any, statement: str, params: Any, *_args: Any) -> None:
        if statement.lower().startswith("insert into documents"):
            values = params if isinstance(params, tuple | list) else params.values()
            self.inserts.append([value for value in values if value in _SITE])

    def __enter__(self) -> None:
        event.listen(self.engine, "before_cursor_execute", self._log)

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._log)


async def test_an_imports_entries_and_an_exports_arrivals_share_a_group(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    """The site's entry records (imports) and arrival records (exports) of one transaction,
    interleaved as their goods came, are written by one INSERT, each answered as alone."""
    exports = [sample(Regime.DIRECT, Direction.EXPORT, seed=s) for s in range(621, 624)]
    imports = [sample(Regime.DIRECT, Direction.IMPORT, seed=s) for s in range(624, 626)]
    waybills = {}  # declaration id -> its waybill, in the order their goods come
    for s in [exports[0], imports[0], exports[1], imports[1], exports[2]]:
        answers = await send_set(client, register(make_party, s), s)
        waybills[answers[-1]["declaration"]["id"]] = s.deal.logistics_no
    idents = list(waybills)
    together = _site_records_inserted(database)
    at = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with database.write() as session, together:
        entries = plays.Entries()
        for ident in idents:
            entries.add(session, session.get_one(Declaration, ident), at)
        assert all(ident in entries for ident in idents)
        entries.take(session, [])
    assert together.inserts == [["CEB507", "CEB711", "CEB507", "CEB711", "CEB507"]]
    with database.read() as session:
        site = session.scalars(
            select(DocumentRow).where(DocumentRow.message_code.in_(_SITE)).order_by(DocumentRow.id)
        )
        for ident, row in zip(idents, site, strict=True):  # in the order their goods came
            declaration = session.get_one(Declaration, ident)
            assert declaration.site_entered_at == at
            assert waybills[ident].encode() in row.raw_xml
            final = 399 if row.message_code == "CEB507" else 120
            steps = select(Receipt.seq, Receipt.return_status).where(Receipt.document_id == row.id)
            assert list(session.execute(steps.order_by(Receipt.id))) == [(1, 2), (2, 3), (3, final)]


# --- the carrier's messages -------------------------------------------------------------------

_CARRIER = ("CEB607", "CEB509", "CEB513")
_FIXED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # the virtual clock's start: the same guids


def _sets() -> list[SampleSet]:
    """Exports and imports whose carrier is one enterprise a flow, and two exports of their own."""
    exports = sharing_parties(Regime.DIRECT, Direction.EXPORT, seed=7101, count=5)
    imports = sharing_parties(Regime.DIRECT, Direction.IMPORT, seed=7201, count=4)
    own = [sample(Regime.DIRECT, Direction.EXPORT, seed=s) for s in (7301, 7302)]
    return [*exports, *imports, *own]


def _refused(sets: Sequence[SampleSet]) -> dict[str, str]:
    """The carrier's messages danchuang's own checks will refuse: message code -> waybill. The
    first export's departure (its 899 is then recorded as it is), the second's master waybill,
    the first import's delivery; each among others of its sender."""
    return {"CEB509": sets[0].deal.logistics_no, "CEB607": sets[1].deal.logistics_no,
            "CEB513": sets[5].deal.logistics_no}  # fmt: skip


def _spoiling(refused: dict[str, str]) -> Callable[..., taking.Arrival]:
    """``submission.played``, refusing the messages ``refused`` names: an element the schema
    does not know after their logisticsNo."""
    real = submission.played

    def played(enterprise: Principal, data: bytes, *, source: str) -> taking.Arrival:
        root = etree.fromstring(data)
        code = etree.QName(root).localname.removesuffix("Message")
        number = root.find(".//{*}logisticsNo")
        if number is not None and refused.get(code) == number.text:
            number.addnext(etree.Element(f"{{{etree.QName(root).namespace}}}bogus"))
            data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        return real(enterprise, data, source=source)

    return played


def _alone(session: Session, played: Sequence[stand_ins.Played]) -> None:
    """Each message in an intake of its own, in order (what the grouping must equal)."""
    for sender, arrival in played:
        submission.take_played(session, sender, [arrival])


def _cleared(url: str, sets: list[SampleSet], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The sets through the intake, cleared by an instant engine; what it wrote (``_written``)
    and the carrier's messages each intake took together."""
    database = Database.from_url(url)
    migrate.upgrade(database.engine)
    fill(database, sets)
    unpark(database)
    taken: list[tuple[str, int]] = []
    real = submission.take_played

    def counted(
        session: Session, sender: Principal, arrivals: list[taking.Arrival]
    ) -> list[taking.Outcome]:
        taken.append((arrivals[0].facts.message.code, len(arrivals)))
        return real(session, sender, arrivals)

    with monkeypatch.context() as patch:
        patch.setattr(engine_module, "_utcnow", lambda: _FIXED)
        patch.setattr(submission, "played", _spoiling(_refused(sets)))
        patch.setattr(submission, "take_played", counted)
        instant_engine(database).run_until_idle()
    written = _written(database)
    database.dispose()
    written["taken"] = [one for one in taken if one[0] in _CARRIER]
    return written


def _written(database: Database) -> dict[str, Any]:
    """Receipts by (subject, seq), documents by guid, declarations by key: no global ids."""
    with database.read() as session:
        declarations = list(session.scalars(select(Declaration)))
        key = {d.id: (d.direction, d.order_no) for d in declarations}
        documents = list(session.scalars(select(DocumentRow)))
        guid = {row.id: row.guid for row in documents}
        code = dict(session.execute(select(Enterprise.id, Enterprise.code)).all())
        receipts = {
            (key[r.declaration_id] if r.declaration_id else guid[r.document_id], r.seq): (
                r.message_code, r.return_status, r.return_info, r.sim_time)
            for r in session.scalars(select(Receipt))
        }  # fmt: skip
        return {
            "receipts": receipts,
            "documents": {
                row.guid: (row.message_code, row.return_status, row.current, row.raw_xml,
                           key.get(row.declaration_id or 0), code[row.sender_id])
                for row in documents
            },
            "declarations": {
                key[d.id]: (d.state, d.return_status, d.sim_updated_at, d.delivered_at)
                for d in declarations
            },
        }  # fmt: skip


@pytest.fixture
def other_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database on ``db_url``'s backend."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'alone.db'}"
        return
    with throwaway_schema() as url:
        yield url


def test_the_carriers_messages_taken_together_end_as_taken_one_by_one(
    db_url: str, other_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sets = _sets()
    grouped = _cleared(db_url, sets, monkeypatch)
    monkeypatch.setattr(plays, "take_by_sender", _alone)
    alone = _cleared(other_url, sets, monkeypatch)

    for what in ("receipts", "documents", "declarations"):
        assert grouped[what] == alone[what], what
    assert max(size for _, size in alone["taken"]) == 1
    together = {code for code, size in grouped["taken"] if size > 1}
    assert together == set(_CARRIER)  # each kind taken in groups of one sender's
    # What the checks refused is not there; the rest of its group is.
    documents = grouped["documents"].values()
    sent = sorted(code for code, *_ in documents if code in _CARRIER)
    assert sent == ["CEB509"] * 6 + ["CEB513"] * 3 + ["CEB607"] * 6
    assert all(status in (120, 399) for code, status, *_ in documents if code in _CARRIER)
    exports = [("export", s.deal.order_no) for s in [*sets[:5], *sets[9:]]]
    closed = grouped["declarations"]
    assert all(closed[k][:2] == (states.CLEARED, 899) for k in exports)
    closing = {
        subject: info for (subject, _), (code, status, info, _) in grouped["receipts"].items()
        if code == "CEB604" and status == 899
    }  # fmt: skip
    # The first export's 899 is recorded as it is (its departure refused), the others' come
    # with their departure record.
    assert [k for k, info in closing.items() if not info.endswith("(departed)")] == exports[:1]
