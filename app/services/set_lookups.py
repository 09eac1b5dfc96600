"""The lookups that find a document's place: the document customs holds under its key, the set
of an order, the sets whose current 清单 names a waybill.

Each is one query for one document. A group of records taken together (``app.services.taking``)
reads them for all its records first, one query per kind of key (``looked_up``; a record alone
reads what it holds and its set, or the sets naming its waybill, in one): the records of a group
name no key in common (``set_locks.keys_of``), so what one record stores cannot change what
another finds, and each record reads its own answers before it changes anything. An answer read
ahead is used once; a second lookup of the same key, or one outside the group, asks the
database.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, literal_column, select, tuple_
from sqlalchemy.orm import Session, defer

from app.db.models import Declaration, DocumentRow
from declarations import BY_CODE, Facts, Kind

_INVENTORIES = tuple(m.code for m in BY_CODE.values() if m.kind is Kind.INVENTORY)
_AHEAD = "danchuang.set_lookups"  # the group's answers read ahead, in ``Session.info``

# (message code, first key, second key): ebpCode + orderNo, or logisticsCode + logisticsNo
HeldKey = tuple[str, str | None, str | None]
# (direction, ebpCode, orderNo) of a set; (direction, logisticsCode, logisticsNo) of a waybill
SetKey = tuple[str, str, str]
WaybillKey = tuple[str, str | None, str | None]

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


@dataclass(frozen=True, slots=True)
class Keys:
    """The business keys of a one-record document, as read from its record (head)."""

    order_no: str | None = None
    ebp_code: str | None = None
    logistics_no: str | None = None
    logistics_code: str | None = None
    pay_transaction_id: str | None = None

    @classmethod
    def of(cls, facts: Facts) -> Keys:
        return cls(
            order_no=facts.key("orderNo"),
            ebp_code=facts.key("ebpCode"),
            logistics_no=facts.key("logisticsNo"),
            logistics_code=facts.key("logisticsCode"),
            pay_transaction_id=facts.key("payTransactionId"),
        )


@dataclass
class _Ahead:
    """The answers read ahead (None, []: nothing found), each taken once."""

    held: dict[HeldKey, DocumentRow | None]
    declarations: dict[SetKey, Declaration | None]
    naming: dict[WaybillKey, list[int]]


def held_key(facts: Facts) -> HeldKey:
    """The key customs holds the document under: a waybill's, or an order's."""
    code, keys = facts.message.code, Keys.of(facts)
    if facts.message.kind is Kind.WAYBILL:
        return (code, keys.logistics_code, keys.logistics_no)
    return (code, keys.ebp_code, keys.order_no)


def set_key(row: DocumentRow) -> SetKey | None:
    """The key of the set a stored document names by its order (none without both keys)."""
    if row.ebp_code and row.order_no:
        return (row.direction, row.ebp_code, row.order_no)
    return None


def waybill_key(row: DocumentRow) -> WaybillKey:
    """The key of the waybill a stored document names."""
    return (row.direction, row.logistics_code, row.logistics_no)


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
    direction, logistics_code, logistics_no = key
    values = {"direction": direction, "logistics_code": logistics_code,
              "logistics_no": logistics_no}  # fmt: skip
    return list(session.scalars(_NAMING, values))


@contextmanager
def looked_up(
    session: Session,
    held: Sequence[HeldKey],
    sets: Sequence[SetKey] = (),
    waybills: Sequence[WaybillKey] = (),
) -> Iterator[None]:
    """Read the answers to these lookups ahead, for the ``with`` block (the module's
    docstring says when that is sound)."""
    ahead = _Ahead(dict.fromkeys(held), dict.fromkeys(sets), {key: [] for key in waybills})
    by_order = len(held) == 1 and BY_CODE[held[0][0]].kind is not Kind.WAYBILL
    if by_order and len(sets) == 1 and not waybills:  # one record: one row
        _held_and_set_ahead(session, ahead, held[0], sets[0])
    elif len(held) == len(waybills) == 1 and not by_order and not sets:
        _held_and_naming_ahead(session, ahead, held[0], waybills[0])
    else:
        _held_ahead(session, ahead, held)
        _sets_ahead(session, ahead, sets)
        _naming_ahead(session, ahead, waybills)
    session.info[_AHEAD] = ahead
    try:
        yield
    finally:
        session.info.pop(_AHEAD, None)


def _held_and_set_ahead(session: Session, ahead: _Ahead, held: HeldKey, key: SetKey) -> None:
    code, first, second = held
    direction, ebp_code, order_no = key
    values = {"code": code, "first": first, "second": second,
              "direction": direction, "ebp_code": ebp_code, "order_no": order_no}  # fmt: skip
    ahead.held[held], ahead.declarations[key] = session.execute(_HELD_AND_SET, values).one()


def _held_and_naming_ahead(session: Session, ahead: _Ahead, held: HeldKey, key: WaybillKey) -> None:
    code, first, second = held
    direction, logistics_code, logistics_no = key
    values = {"code": code, "first": first, "second": second, "direction": direction,
              "logistics_code": logistics_code, "logistics_no": logistics_no}  # fmt: skip
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
