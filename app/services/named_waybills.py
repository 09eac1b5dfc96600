"""The sets' waybills a record after the 清单 names by carrier (``logisticsCode``) and number
(``logisticsNo``): the site's records and the master waybill list
(``app.services.site_entries``, ``app.services.master_waybills``) find the declarations they
act on by them, the delivery record (``app.services.deliveries``) the waybill it dates.

The clearance engine plays those records for many declarations in one transaction
(``app.services.stand_ins``): it reads their waybills ahead (``read_ahead``), one query for
all of them, and for the rest of the transaction the lookups of those carriers and numbers
answer from what it read. Only for a transaction that takes no party's message (the engine's:
its messages are the site's and the carrier's records), which could add or replace a waybill.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.db.engine import transaction_state
from app.db.models import Declaration, DocumentRow
from declarations import BY_CODE, Kind

# The import and export waybill (CEB511, CEB505), as the message registry names them.
WAYBILL_CODES = tuple(m.code for m in BY_CODE.values() if m.kind is Kind.WAYBILL)

# Built once: every record the engine plays asks one of them.
_DECLARATIONS_OF_WAYBILLS = (
    select(DocumentRow.logistics_no, Declaration)
    .join(Declaration, Declaration.id == DocumentRow.declaration_id)
    .where(
        DocumentRow.logistics_code == bindparam("carrier"),
        DocumentRow.logistics_no.in_(bindparam("numbers", expanding=True)),
        DocumentRow.message_code == bindparam("code"),
        DocumentRow.current.is_(True),
    )
)
_WAYBILL = select(DocumentRow).where(
    DocumentRow.logistics_code == bindparam("carrier"),
    DocumentRow.logistics_no == bindparam("number"),
    DocumentRow.message_code == bindparam("code"),
    DocumentRow.current.is_(True),
)
_NAMED = (
    select(
        DocumentRow.message_code,
        DocumentRow.logistics_code,
        DocumentRow.logistics_no,
        DocumentRow.id,
        DocumentRow.declaration_id,
    )
    .where(
        DocumentRow.logistics_code.in_(bindparam("carriers", expanding=True)),
        DocumentRow.logistics_no.in_(bindparam("numbers", expanding=True)),
        DocumentRow.message_code.in_(WAYBILL_CODES),
        DocumentRow.current.is_(True),
    )
    .order_by(DocumentRow.id)
)
_READ_AHEAD = "danchuang.named_waybills.read_ahead"  # its transaction's, in ``Session.info``

# A waybill's name: its message code, carrier and number.
Name = tuple[str, str, str]


@dataclass
class _ReadAhead:
    """The names read ahead in a transaction, and the current waybills of each, oldest first:
    (waybill id, its declaration's id)."""

    names: set[Name] = field(default_factory=set)
    waybills: dict[Name, list[tuple[int, int | None]]] = field(default_factory=dict)


def _held(session: Session) -> _ReadAhead:
    return transaction_state(session, _READ_AHEAD, _ReadAhead)


def read_ahead(session: Session, waybills: Iterable[DocumentRow]) -> None:
    """Read at once the current waybills under the carriers and numbers of ``waybills`` (the
    sets' own, which danchuang's records will name), with their declarations' ids."""
    held = _held(session)
    unknown: set[Name] = set()
    for row in waybills:
        name = (row.message_code, row.logistics_code or "", row.logistics_no or "")
        if all(name) and name[0] in WAYBILL_CODES and name not in held.names:
            unknown.add(name)
    if not unknown:
        return
    held.names.update(unknown)
    values = {
        "carriers": sorted({carrier for _, carrier, _ in unknown}),
        "numbers": sorted({number for _, _, number in unknown}),
    }
    for code, carrier, number, ident, declaration_id in session.execute(_NAMED, values):
        found = (code, carrier or "", number or "")  # not empty: the query asked for them
        if found in unknown:
            held.waybills.setdefault(found, []).append((ident, declaration_id))


def declarations_of_waybills(
    session: Session, code: str, carrier: str | None, numbers: list[str]
) -> dict[str, Declaration]:
    """The declarations of the carrier's waybills ``numbers`` (message ``code``), by number."""
    if not carrier or not numbers:
        return {}
    held = _held(session)
    if all((code, carrier, number) in held.names for number in numbers):
        return {  # the engine holds the declarations it plays: ``get_one`` finds them at once
            number: session.get_one(Declaration, declaration_id)
            for number in numbers
            for _, declaration_id in held.waybills.get((code, carrier, number), ())
            if declaration_id is not None
        }
    values = {"carrier": carrier, "numbers": numbers, "code": code}
    rows = session.execute(_DECLARATIONS_OF_WAYBILLS, values)
    return {number: declaration for number, declaration in rows if number is not None}


def waybill_of(
    session: Session, code: str, carrier: str | None, number: str | None
) -> DocumentRow | None:
    """The carrier's current waybill ``number`` (message ``code``), if any."""
    held = _held(session)
    name = (code, carrier or "", number or "")
    if name in held.names:
        found = held.waybills.get(name)
        return session.get(DocumentRow, found[0][0]) if found else None
    values = {"carrier": carrier, "number": number, "code": code}
    return session.scalars(_WAYBILL, values).first()
