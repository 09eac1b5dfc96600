"""Taking documents in: the records of one message stored and answered together, in phases.

A message's records (one, or up to 100: ``app.services.batches``) are taken inside the caller's
write transaction. Each record is judged as the single window judges a one-record message
(``submission`` says how); what is shared is the writing. Records are taken in *groups*, each
group in four phases:

1. **judge** every record of the group, in order, once every key of the group is locked
   (``set_locks``) and what the records look up by key has been read for all of them, one
   query per kind of key (``set_lookups.looked_up``): plan it (``plans``; the planner of its
   kind), find or start its set (``sets.attach``) and check that its sender may join it
   (``authority``). The rows are not stored yet;
2. **store** the group's rows: one ``INSERT`` for all of them (SQLAlchemy's insertmanyvalues),
   in the one flush that writes the sets they start and what judging them changed, and what
   each row's id decides (the 清单 number, a delete's withdrawal);
3. **answer** them: every record's 2 → 3 (→ its final status) in one ``record_receipts`` call,
   in the records' order, so ids and each set's ``seq`` grow as record-by-record taking made them;
4. **settle** each record's set, in order: a follow-up acts, a complete set is reconciled and
   counted (``sets.advance``; the account books are read in turn, the buyers' quota once for
   the group's complete sets, ``sets.counting``, and its rows inserted together).

Records share a group only when nothing one of them does can change what another reads in
phase 1: they are of the kinds that make up a set (order, payment, waybill, 清单), the format
check passed, and no two name a key in common (``set_locks.keys_of``: the set's order key and
the waybills'), so each reads and changes only its own set. The records danchuang plays
(``played``: ``app.engine.plays``) may share a group too — the site's entry and arrival
records, the carrier's master waybill lists, departure and delivery records, each naming one
parcel: each reads and changes only the declaration of the parcel it names (``site_entries``,
``master_waybills``), and a group is of one kind (a departure never shares one with the list
that binds its parcel), but for the site's records: an import's entry and an export's arrival
never name one parcel, and ``app.engine.plays.Entries`` takes them in the order their goods
came. Any other record is a group of one, which is a one-record message's way through: the
same phases, one record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session

from app import states
from app.accounts import Principal
from app.db.models import Declaration, DocumentRow
from app.receipts import StoredReceipt, first_receipts
from app.services import (
    authority,
    cancellations,
    deliveries,
    export_returns,
    master_waybills,
    plans,
    returns,
    set_keys,
    set_locks,
    set_lookups,
    sets,
    site_entries,
    summaries,
    transport,
)
from app.services.answers import (
    answer_format_failure,
    findings_text,
    format_failure,
    is_inventory,
    record_answers,
    refusal_status,
    status_text,
)
from declarations import Checked, Facts, Kind, Report, ReturnStatus, invt_no

# The messages after a 清单 that act on its declaration, and who judges them (the set's own
# documents: plans.plan).
_PLANNERS: dict[Kind, Callable[[Session, DocumentRow, Facts], plans.Plan]] = {
    Kind.CANCELLATION: cancellations.plan,
    Kind.WAYBILL_STATUS: deliveries.plan,
    Kind.REFUND: returns.plan,
    Kind.SITE_ENTRY: site_entries.plan_entry,
    Kind.ARRIVAL: site_entries.plan_arrival,
    Kind.DEPARTURE: site_entries.plan_departure,
    Kind.RETURN_TALLY: export_returns.plan_tally,
    Kind.MASTER_WAYBILL: master_waybills.plan,
    Kind.SUMMARY: summaries.plan,
}
# What a set is made of (``_insert_new_sets``).
_SET_COLUMNS = frozenset(attr.key for attr in inspect(Declaration).column_attrs)
# The kinds whose records may share a group: each reads and changes its own set only.
_SET_KINDS = frozenset({Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY})
# The site's and the carrier's records danchuang plays, which may share a group when taken
# together (``played``): each reads and changes only the declaration of the parcel it names.
_PLAYED_KINDS = frozenset(
    {Kind.SITE_ENTRY, Kind.ARRIVAL, Kind.MASTER_WAYBILL, Kind.DEPARTURE, Kind.WAYBILL_STATUS}
)


@dataclass(frozen=True, slots=True)
class Arrival:
    """One record to take: a one-record message as checked, and who sends it."""

    facts: Facts
    acting: str  # the party the sender acts as: itself, or the party that entrusted it
    guid: str
    data: bytes
    checked: Checked


@dataclass(slots=True)
class Outcome:
    """What the caller is told: the stored document, its receipts, the validation report."""

    document: DocumentRow
    receipts: list[StoredReceipt]
    report: Report | None
    repeat: bool = False
    http_status: int = 201
    declaration: Declaration | None = field(default=None)


@dataclass(slots=True)
class _Judged:
    """A record after phase 1: its row (not stored yet), its plan and its set."""

    arrival: Arrival
    row: DocumentRow
    plan: plans.Plan
    declaration: Declaration | None
    documents: list[DocumentRow]  # its set's current documents when it joined one (sets.Place)
    created: bool  # the set it joined is new


def take_all(
    session: Session, enterprise: Principal, arrivals: Sequence[Arrival], *, played: bool = False
) -> list[Outcome]:
    """Store and answer every record, in order, inside the caller's write transaction.

    Concurrent submissions touching one set must not both miss each other (a 清单 and the last
    waybill committing side by side, each seeing the set incomplete): the set's lock orders
    them before any set is read (``set_locks``); submissions of other sets go side by side.
    """
    taken: list[Outcome] = []
    for group in _groups(arrivals, _PLAYED_KINDS if played else frozenset()):
        failure = format_failure(group[0].checked.report.findings)
        if failure is not None:  # the exchange platform's format check answers it (CEB900)
            taken.append(_answer_format_failure(session, enterprise, group[0], failure))
            continue
        for arrival in group:  # every key of the group is held before anything is read
            set_locks.lock_document(session, arrival.facts)
        rows = [_new_row(enterprise, arrival) for arrival in group]
        with _looked_up(session, group, rows):
            judged = [_judge(session, a, row) for a, row in zip(group, rows, strict=True)]
        _store(session, judged)
        answered = _answer(session, judged)
        with sets.counting(session, _advancing(judged)), _settling(session, played):
            for one, receipts in zip(judged, answered, strict=True):
                taken.append(_settle(session, one, receipts))
        session.flush()
    return taken


def _settling(session: Session, played: bool) -> AbstractContextManager[object]:
    """Phase 4 of danchuang's records (``played``) is flushed once, when the group ends: each
    follow-up changes its parcel's declaration alone and reads nothing another one changes. A
    set's records flush as they read (``sets.advance``)."""
    return session.no_autoflush if played else nullcontext()


def _groups(arrivals: Sequence[Arrival], played: frozenset[Kind]) -> Iterator[list[Arrival]]:
    """The arrivals in order, in runs that may be taken together (the module's docstring)."""
    group: list[Arrival] = []
    keys: set[str] = set()
    for arrival in arrivals:
        facts = arrival.facts
        own = set(set_locks.keys_of(facts))
        kind = facts.message.kind
        shareable = (
            (kind in _SET_KINDS or kind in played)
            and bool(own)
            and format_failure(arrival.checked.report.findings) is None
        )
        if group and (not shareable or own & keys or _kind(arrival) is not _kind(group[0])):
            yield group
            group, keys = [], set()
        group.append(arrival)
        keys |= own
        if not shareable:
            yield group
            group, keys = [], set()
    if group:
        yield group


def _kind(arrival: Arrival) -> Kind:
    """The kind of the group ``arrival`` may join: its own; the site's records share one."""
    kind = arrival.facts.message.kind
    return Kind.ARRIVAL if kind is Kind.SITE_ENTRY else kind


def _answer_format_failure(
    session: Session, enterprise: Principal, arrival: Arrival, failure: tuple[int, str]
) -> Outcome:
    set_locks.lock_document(session, arrival.facts)
    row = _new_row(enterprise, arrival)
    receipts = answer_format_failure(session, row, failure)
    return Outcome(row, receipts, arrival.checked.report)


def _looked_up(
    session: Session, group: Sequence[Arrival], rows: Sequence[DocumentRow]
) -> AbstractContextManager[None]:
    """The group's lookups read ahead, one query per kind of key (``set_lookups``): what each
    record holds under its key, its set, or (a waybill) the sets naming it. A record alone
    reads both in one query; one that fails validation or is not of a set's kinds looks up as
    it goes."""
    kind = group[0].facts.message.kind  # a group is of one kind (or the site's records)
    if kind not in _SET_KINDS:
        return nullcontext()  # it looks up as it goes
    held = [set_keys.held_key(arrival.facts) for arrival in group]
    waybills: list[set_keys.WaybillKey] = []
    orders: list[set_keys.SetKey] = []
    if kind is Kind.WAYBILL:
        waybills = [set_keys.waybill_key(row) for row in rows if row.logistics_no]
    else:
        orders = [key for row in rows if (key := set_keys.set_key(row)) is not None]
    if len(group) == 1:
        if not (kind in _SET_KINDS and group[0].checked.report.valid and (orders or waybills)):
            return nullcontext()  # it looks nothing up by key, or only what it holds
        return set_lookups.looked_up(session, held, sets=orders, waybills=waybills)
    orphans: list[set_keys.WaybillKey] = []
    if kind is Kind.INVENTORY:  # each 清单 asks who else names its waybill, and its orphans
        orphans = [set_keys.waybill_key(row) for row in rows if row.logistics_no]
    return set_lookups.looked_up(
        session,
        held,
        sets=orders,
        waybills=[*waybills, *orphans],
        orphans=orphans,
        joining=rows[0].sender_id,
    )


def _judge(session: Session, arrival: Arrival, row: DocumentRow) -> _Judged:
    """Phase 1: the record's plan and set, before anything of it is stored."""
    facts, report = arrival.facts, arrival.checked.report
    if not report.valid:  # refused: kept in the history, no place in its set
        plan = plans.Plan(final=(refusal_status(report.findings), findings_text(report.findings)))
    else:
        plan = _PLANNERS.get(facts.message.kind, plans.plan)(session, row, facts)
    # The row is written once, with the status its last receipt gives it and (found before the
    # INSERT) its declaration.
    row.return_status = plan.final[0] if plan.final else int(ReturnStatus.SENT)
    place: sets.Place | None = None
    if plan.joins_set:
        # A regime the document (or the caller) names is the set's; an assumed one only
        # suggests it.
        regime = facts.regime if facts.regime_named else None
        place = sets.attach(session, row, regime)
        if place is not None:
            fields = authority.naming_fields(arrival.acting, facts)
            authority.ensure_may_join(
                session,
                place.declaration,
                row,
                arrival.acting,
                fields,
                documents=place.documents,
                created=place.created,
            )
    elif plan.withdraws is not None:
        row.declaration_id = plan.withdraws.declaration_id
        if row.declaration_id is not None:  # the feed shows its sender the set from now on
            sets.welcome(session, row.declaration_id, row.sender_id)
    if place is None:
        return _Judged(arrival, row, plan, None, [], False)
    return _Judged(arrival, row, plan, place.declaration, place.documents, place.created)


def _store(session: Session, judged: Sequence[_Judged]) -> None:
    """Phase 2: every row in one INSERT, then what each one's id decides."""
    _insert_new_sets(session, judged)
    session.add_all([one.row for one in judged])
    session.flush()
    for one in judged:
        row, plan = one.row, one.plan
        first_receipts(session, document_id=row.id)  # a new document: numbered from 1
        if one.created:  # and its new set (sets.attach)
            first_receipts(session, declaration_id=row.declaration_id)
        if plan.joins_set and is_inventory(row):
            _assign_invt_no(row, one.arrival.facts)
        elif plan.withdraws is not None:
            one.declaration = plans.withdraw(session, row)
        elif plan.follow_up is not None:
            one.declaration = plan.follow_up.declaration if plan.follow_up.joins else None


def _insert_new_sets(session: Session, judged: Sequence[_Judged]) -> None:
    """The sets the group's records start, in one INSERT … RETURNING: the unit of work would
    write them one by one, as SQLite cannot say which id RETURNING gave which of several rows
    (documents have their guid for that). The rows come back as the session's own sets, each
    found by its unique key, and take the place of those the records were judged with."""
    new: list[tuple[_Judged, Declaration]] = []
    for one in judged:
        if one.created and one.declaration is not None and one.declaration.id is None:
            new.append((one, one.declaration))
    if len(new) < 2:
        return
    columns = [{k: v for k, v in inspect(d).dict.items() if k in _SET_COLUMNS} for _, d in new]
    made = session.scalars(insert(Declaration).returning(Declaration), columns)
    by_key = {(d.direction, d.ebp_code, d.order_no): d for d in made}
    for one, d in new:
        one.declaration = one.row.declaration = by_key[(d.direction, d.ebp_code, d.order_no)]


def _answer(session: Session, judged: Sequence[_Judged]) -> list[list[StoredReceipt]]:
    """Phase 3: each record's receipts (2 → 3 → its plan's), all in one statement, in order."""
    return record_answers(session, [(one.row, _steps(one)) for one in judged])


def _steps(one: _Judged) -> list[tuple[int, str]]:
    plan, guid = one.plan, one.row.guid
    statuses = [
        (int(ReturnStatus.DECLARING), ""),
        (int(ReturnStatus.SENT), ""),
        *((status, "") for status in (plan.follow_up.between if plan.follow_up else ())),
        *([plan.final] if plan.final else []),
    ]
    return [(status, info or status_text(ReturnStatus(status), guid)) for status, info in statuses]


def _advancing(judged: Sequence[_Judged]) -> Iterator[tuple[Declaration, list[DocumentRow]]]:
    """The sets phase 4 moves on, each with its documents: their quota is counted together
    (``sets.counting``)."""
    for one in judged:
        declaration = one.declaration
        if declaration is None or not one.plan.joins_set:
            continue
        if declaration.state in states.OPEN_STATES or (
            declaration.state == states.CLEARANCE_READY and one.plan.changes
        ):
            yield declaration, [*one.documents, one.row]


def _settle(session: Session, one: _Judged, receipts: list[StoredReceipt]) -> Outcome:
    """Phase 4: the record's follow-up acts (answered first: a departure closes its 清单),
    and its set moves on if it can."""
    plan, declaration, row = one.plan, one.declaration, one.row
    if plan.follow_up is not None:
        plan.follow_up.apply(session, plan.follow_up.declaration)
    if declaration is not None and plan.joins_set:
        if declaration.state == states.CLEARANCE_READY and plan.changes:
            sets.give_back(session, declaration.id)
            states.move(declaration, states.INCOMPLETE)  # reconcile the changed set again
        refused = sets.advance(session, declaration, [*one.documents, row])
        if refused is not None and refused.document_id == row.id:
            receipts.append(refused)  # reconciling answered this 清单 once more
    return Outcome(row, receipts, one.arrival.checked.report, declaration=declaration)


def _clip(value: str | None, length: int) -> str | None:
    """Key columns have the schema's widths; an invalid document may exceed them."""
    return value[:length] if value else None


def _new_row(enterprise: Principal, arrival: Arrival) -> DocumentRow:
    facts, guid = arrival.facts, arrival.guid
    keys = set_keys.Keys.of(facts)
    row = DocumentRow(
        guid=guid if guid and len(guid) <= 36 else str(uuid.uuid4()).upper(),
        message_code=facts.message.code,
        direction=facts.direction.value,
        regime=facts.regime.value if facts.regime else None,
        app_type=_clip(facts.key("appType"), 1),
        raw_xml=arrival.data,
        facts=facts.to_json(),
        order_no=_clip(keys.order_no, 60),
        ebp_code=_clip(keys.ebp_code, 18),
        logistics_no=_clip(keys.logistics_no, 80),
        logistics_code=_clip(keys.logistics_code, 18),
        pay_transaction_id=_clip(keys.pay_transaction_id, 60),
        sender_id=enterprise.id,
        current=False,
    )
    transport.keep(row, arrival.checked.envelope)
    return row


def _assign_invt_no(row: DocumentRow, facts: Facts) -> None:
    """The 清单 number customs gives (invtNo, CEB spec 202205 §2.11.4 p. 28); assigned on
    arrival so that every receipt of the 清单 can carry it (CEB604 requires it)."""
    customs = facts.key("customsCode") or ""
    if len(customs) == 4 and customs.isdigit():
        row.invt_no = invt_no(customs, datetime.now(UTC).year, facts.direction, row.id)
