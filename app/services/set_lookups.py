"""The lookups that find a document's place: the document customs holds under its key, the set
of an order, the sets whose current 清单 names a waybill.

Each is one query for one document. A group of records taken together (``app.services.taking``)
reads them for all its records first, one query per kind of key (``looked_up``; a record alone
reads what it holds and its set, or the sets naming its waybill, in one): the records of a group
name no key in common (``set_locks.keys_of``), so what one record stores cannot change what
another finds, and each record reads its own answers before it changes anything. An answer read
ahead is used once; a second lookup of the same key, or one outside the group, asks the
database.

A group of more than one record also reads, once for all, what joining the sets found reads of
each: its documents, current or not (``set_documents``: the current ones; ``parties``: their
senders, with what ``set_parties`` reads for recording the set's receipts; the latest sender of
a kind, ``authority``), and the orphan waybills each 清单 adopts (``orphan_waybills``) with
their receipts (``set_parties.read_waiting``: those of the orphans adopted are refiled under
their sets together, when the block ends). Each set is its one record's, and what judging a
record changes is its own set's, so these are what the record would have read on its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, literal_column, select, tuple_
from sqlalchemy.orm import Session, defer

from app.db.models import Declaration, DocumentRow, Enterprise
from app.services import set_parties
from app.services.named_waybills import WAYBILL_CODES
from app.services.set_documents import current_documents
from app.services.set_keys import HeldKey, SetKey, WaybillKey
from declarations import BY_CODE, Kind

_INVENTORIES = tuple(m.code for m in BY_CODE.values() if m.kind is Kind.INVENTORY)
_AHEAD = "danchuang.set_lookups"  # the group's answers read ahead, in ``Session.info``

# Built once: building a select() costs about as much as running it on the hot path.
_CURRENT = select(DocumentRow).where(
    DocumentRow.message_code == bindparam("code"), DocumentRow.current.is_(True)
)
_HELD_WAYBILL = (
    _CURRENT.where(
        DocumentRow.logistics_code == bindparam("first"),
        DocumentRow.logistics_no == bindparam("second"),
    )
    .order_by(DocumentRow.id.desc())
    .limit(1)
)
_HELD_BY_ORDER = (
    _CURRENT.where(
        DocumentRow.ebp_code == bindparam("first"), DocumentRow.order_no == bindparam("second")
    )
    .order_by(DocumentRow.id.desc())
    .limit(1)
)
_OF_SET = and_(
    Declaration.direction == bindparam("direction"),
    Declaration.ebp_code == bindparam("ebp_code"),
    Declaration.order_no == bindparam("order_no"),
)
_DECLARATION = select(Declaration).where(_OF_SET)


def _held_alone(first: Any, second: Any, *beside: Any) -> Select[Any]:
    """The current document held under one record's key (``code``; ``first`` and ``second``
    its key's columns), with ``beside`` it in the same row of one: either may be missing."""
    return (
        select(DocumentRow, *beside)
        .select_from(select(literal_column("1")).subquery("one"))
        .outerjoin(
            DocumentRow,
            and_(
                DocumentRow.message_code == bindparam("code"),
                DocumentRow.current.is_(True),
                first == bindparam("first"),
                second == bindparam("second"),
            ),
        )
        .order_by(DocumentRow.id.desc())
        .limit(1)
        .options(defer(DocumentRow.raw_xml))  # judged by its status and sender, never its bytes
    )


# A record alone that names its set: the document held under its key, and its set.
_HELD_AND_SET = _held_alone(DocumentRow.ebp_code, DocumentRow.order_no, Declaration).outerjoin(
    Declaration, _OF_SET
)


def listing(*columns: Any) -> Select[Any]:
    """``columns`` of the sets (declarations) and their current 清单: the sets a waybill or a
    清单 number finds (add the ``where`` that names them)."""
    return (
        select(*columns)
        .join(DocumentRow, DocumentRow.declaration_id == Declaration.id)
        .where(DocumentRow.message_code.in_(_INVENTORIES), DocumentRow.current.is_(True))
        .distinct()
    )


# The sets whose current 清单 names a waybill; two found are enough to call it ambiguous.
_NAMES_WAYBILL = (
    Declaration.direction == bindparam("direction"),
    DocumentRow.logistics_code == bindparam("logistics_code"),
    DocumentRow.logistics_no == bindparam("logistics_no"),
)
_NAMING = listing(Declaration.id).where(*_NAMES_WAYBILL).limit(2)
# A waybill alone: the waybill held under its key, and the least and the greatest of the sets
# naming it (as good as any two: one set, or more), in one row.
_HELD_AND_NAMING = _held_alone(
    DocumentRow.logistics_code,
    DocumentRow.logistics_no,
    *(
        listing(least(Declaration.id)).where(*_NAMES_WAYBILL).correlate(None).scalar_subquery()
        for least in (func.min, func.max)
    ),
)


# The orphan waybills (waiting for a set) of the waybill keys asked, each with its sender's code
# (who it would join as); judged by their facts, never their bytes.
_ORPHANS = (
    select(DocumentRow, Enterprise.code)
    .join(Enterprise, Enterprise.id == DocumentRow.sender_id)
    .where(
        DocumentRow.declaration_id.is_(None),
        DocumentRow.current.is_(True),
        DocumentRow.message_code.in_(WAYBILL_CODES),
    )
    .options(defer(DocumentRow.raw_xml))
)
_ORPHANS_OF_WAYBILL = _ORPHANS.where(
    DocumentRow.direction == bindparam("direction"),
    DocumentRow.logistics_code == bindparam("logistics_code"),
    DocumentRow.logistics_no == bindparam("logistics_no"),
)
# Every document of the sets asked (current or not: the parties of a set are the senders of
# all its documents), oldest first.
_SETS_DOCUMENTS = (
    select(DocumentRow)
    .where(DocumentRow.declaration_id.in_(bindparam("ids", expanding=True)))
    .order_by(DocumentRow.id)
    .options(defer(DocumentRow.raw_xml))
)
_SETS = select(Declaration).where(Declaration.id.in_(bindparam("ids", expanding=True)))


@dataclass
class _Ahead:
    """The answers read ahead (None, []: nothing found), each taken once."""

    held: dict[HeldKey, DocumentRow | None]
    declarations: dict[SetKey, Declaration | None]
    naming: dict[WaybillKey, list[int]]
    orphans: dict[WaybillKey, list[tuple[DocumentRow, str]]] = field(default_factory=dict)
    # Of a group of records, the sets found above: every document of each (not taken once:
    # a set is its one record's), from which its current documents and parties are read.
    documents: dict[int, list[DocumentRow]] = field(default_factory=dict)


def held_document(session: Session, key: HeldKey) -> DocumentRow | None:
    """The current document customs holds under ``key``, if any."""
    ahead: _Ahead | None = session.info.get(_AHEAD)
    if ahead is not None and key in ahead.held:
        return ahead.held.pop(key)
    code, first, second = key
    query = _HELD_WAYBILL if BY_CODE[code].kind is Kind.WAYBILL else _HELD_BY_ORDER
    return session.scalars(query, {"code": code, "first": first, "second": second}).first()


def declaration_of(session: Session, key: SetKey) -> Declaration | None:
    """The set (declaration) of direction, ebpCode and orderNo, if there is one."""
    ahead: _Ahead | None = session.info.get(_AHEAD)
    if ahead is not None and key in ahead.declarations:
        return ahead.declarations.pop(key)
    direction, ebp_code, order_no = key
    values = {"direction": direction, "ebp_code": ebp_code, "order_no": order_no}
    return session.scalars(_DECLARATION, values).first()


def naming_sets(session: Session, key: WaybillKey) -> list[int]:
    """The declarations (ids, at most two) whose current 清单 names the waybill ``key``."""
    ahead: _Ahead | None = session.info.get(_AHEAD)
    if ahead is not None and key in ahead.naming:
        return ahead.naming.pop(key)
    return list(session.scalars(_NAMING, _waybill_values(key)))


def orphan_waybills(session: Session, key: WaybillKey) -> list[tuple[DocumentRow, str]]:
    """The orphan waybills (no set yet) under the waybill ``key``, each with its sender's
    code."""
    ahead: _Ahead | None = session.info.get(_AHEAD)
    if ahead is not None and key in ahead.orphans:
        return ahead.orphans.pop(key)
    return [(row, code) for row, code in session.execute(_ORPHANS_OF_WAYBILL, _waybill_values(key))]


def _waybill_values(key: WaybillKey) -> dict[str, str | None]:
    direction, logistics_code, logistics_no = key
    return {"direction": direction, "logistics_code": logistics_code, "logistics_no": logistics_no}


def set_documents(session: Session, declaration_id: int) -> list[DocumentRow]:
    """The set's current documents, oldest first (``set_documents.current_documents``)."""
    ahead: _Ahead | None = session.info.get(_AHEAD)
    if ahead is not None and declaration_id in ahead.documents:
        return [row for row in ahead.documents[declaration_id] if row.current]
    return current_documents(session, declaration_id)


def parties(session: Session, declaration_id: int, joining: int) -> set[int]:
    """The set's parties, its receipts' book ready for ``joining`` (``set_parties``)."""
    ahead: _Ahead | None = session.info.get(_AHEAD)
    if ahead is not None and declaration_id in ahead.documents:
        return {row.sender_id for row in ahead.documents[declaration_id]}
    return set_parties.set_parties(session, declaration_id, joining)


def documents_of_code(session: Session, declaration_id: int, code: str) -> list[DocumentRow] | None:
    """The set's documents of message ``code``, current or not, oldest first, when read
    ahead (None: ask the database)."""
    ahead: _Ahead | None = session.info.get(_AHEAD)
    if ahead is None or declaration_id not in ahead.documents:
        return None
    return [row for row in ahead.documents[declaration_id] if row.message_code == code]


@contextmanager
def looked_up(
    session: Session,
    held: Sequence[HeldKey],
    sets: Sequence[SetKey] = (),
    waybills: Sequence[WaybillKey] = (),
    *,
    orphans: Sequence[WaybillKey] = (),
    joining: int | None = None,
) -> Iterator[None]:
    """Read the answers to these lookups ahead, for the ``with`` block (the module's
    docstring says when that is sound): what is held under each key, the sets of ``sets``,
    the sets naming ``waybills``, the orphans of ``orphans``; and for more than one record,
    every document of the sets found, and what ``set_parties`` reads of them for ``joining``
    (the group's sender)."""
    ahead = _Ahead(dict.fromkeys(held), dict.fromkeys(sets), {key: [] for key in waybills})
    by_order = len(held) == 1 and BY_CODE[held[0][0]].kind is not Kind.WAYBILL
    if by_order and len(sets) == 1 and not waybills and not orphans:  # one record: one row
        _held_and_set_ahead(session, ahead, held[0], sets[0])
    elif len(held) == len(waybills) == 1 and not by_order and not sets and not orphans:
        _held_and_naming_ahead(session, ahead, held[0], waybills[0])
    else:
        _held_ahead(session, ahead, held)
        _sets_ahead(session, ahead, sets)
        _naming_ahead(session, ahead, waybills)
        _orphans_ahead(session, ahead, orphans)
        if len(held) > 1 and joining is not None:
            _documents_ahead(session, ahead, joining)
    session.info[_AHEAD] = ahead
    try:
        yield
    except BaseException:
        if orphans:
            set_parties.refile_adopted(session, written=False)
        raise
    else:
        if orphans:  # the receipts of the orphans adopted, refiled together
            set_parties.refile_adopted(session)
    finally:
        session.info.pop(_AHEAD, None)
        set_parties.forget_shared(session)


def _held_and_set_ahead(session: Session, ahead: _Ahead, held: HeldKey, key: SetKey) -> None:
    code, first, second = held
    direction, ebp_code, order_no = key
    values = {"code": code, "first": first, "second": second,
              "direction": direction, "ebp_code": ebp_code, "order_no": order_no}  # fmt: skip
    ahead.held[held], ahead.declarations[key] = session.execute(_HELD_AND_SET, values).one()


def _held_and_naming_ahead(session: Session, ahead: _Ahead, held: HeldKey, key: WaybillKey) -> None:
    code, first, second = held
    values = {"code": code, "first": first, "second": second, **_waybill_values(key)}
    ahead.held[held], least, greatest = session.execute(_HELD_AND_NAMING, values).one()
    ahead.naming[key] = sorted({least, greatest} - {None})


def _held_ahead(session: Session, ahead: _Ahead, keys: Sequence[HeldKey]) -> None:
    for code in sorted({code for code, _, _ in keys}):
        pairs = sorted({(first, second) for c, first, second in keys if c == code and first})
        if not pairs:
            continue
        names = ("logistics_code", "logistics_no")
        if BY_CODE[code].kind is not Kind.WAYBILL:
            names = ("ebp_code", "order_no")
        query = select(DocumentRow).where(
            DocumentRow.message_code == code,
            DocumentRow.current.is_(True),
            tuple_(*(getattr(DocumentRow, name) for name in names)).in_(pairs),
        )
        for row in session.scalars(query.order_by(DocumentRow.id)):  # the latest one wins
            ahead.held[(code, getattr(row, names[0]), getattr(row, names[1]))] = row


def _sets_ahead(session: Session, ahead: _Ahead, keys: Sequence[SetKey]) -> None:
    for direction in sorted({direction for direction, _, _ in keys}):
        pairs = sorted({(ebp, order) for d, ebp, order in keys if d == direction})
        query = select(Declaration).where(
            Declaration.direction == direction,
            tuple_(Declaration.ebp_code, Declaration.order_no).in_(pairs),
        )
        for found in session.scalars(query):
            ahead.declarations[(direction, found.ebp_code, found.order_no)] = found


def _naming_ahead(session: Session, ahead: _Ahead, keys: Sequence[WaybillKey]) -> None:
    for direction in sorted({direction for direction, _, _ in keys}):
        pairs = sorted({(code, no) for d, code, no in keys if d == direction and no})
        if not pairs:
            continue
        query = (
            listing(DocumentRow.logistics_code, DocumentRow.logistics_no, Declaration.id)
            .where(
                Declaration.direction == direction,
                tuple_(DocumentRow.logistics_code, DocumentRow.logistics_no).in_(pairs),
            )
            .order_by(Declaration.id)
        )
        for code, number, ident in session.execute(query):
            found = ahead.naming[(direction, code, number)]
            if len(found) < 2:  # as many as the one-waybill query reads
                found.append(ident)


def _orphans_ahead(session: Session, ahead: _Ahead, keys: Sequence[WaybillKey]) -> None:
    if not keys:
        return
    for key in keys:
        ahead.orphans[key] = []
    for direction in sorted({direction for direction, _, _ in keys}):
        pairs = sorted({(code, no) for d, code, no in keys if d == direction and no})
        if not pairs:
            continue
        query = _ORPHANS.where(
            DocumentRow.direction == direction,
            tuple_(DocumentRow.logistics_code, DocumentRow.logistics_no).in_(pairs),
        ).order_by(DocumentRow.id)
        for row, code in session.execute(query):
            ahead.orphans[(direction, row.logistics_code, row.logistics_no)].append((row, code))
    found = [row.id for of_key in ahead.orphans.values() for row, _ in of_key]
    set_parties.read_waiting(session, found)  # their receipts, should they be adopted


def _documents_ahead(session: Session, ahead: _Ahead, joining: int) -> None:
    """Every document of the sets found (and the sets a waybill joins, into the session), and
    what ``set_parties`` reads of them."""
    found = {d.id for d in ahead.declarations.values() if d is not None}
    named = {ids[0] for ids in ahead.naming.values() if len(ids) == 1}
    if named - found:
        session.scalars(_SETS, {"ids": sorted(named - found)}).all()  # for session.get
    ids = sorted(found | named)
    if not ids:
        return
    for ident in ids:
        ahead.documents[ident] = []
    for row in session.scalars(_SETS_DOCUMENTS, {"ids": ids}):
        if row.declaration_id is not None:
            ahead.documents[row.declaration_id].append(row)
    senders = {ident: {row.sender_id for row in rows} for ident, rows in ahead.documents.items()}
    set_parties.read_ahead(session, senders, joining)
