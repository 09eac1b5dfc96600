"""What a valid document does to what customs holds: its plan (``Plan``).

A document of a set (order, payment, waybill, 清单) is judged against the document customs
holds under its business key (``declarations.lifecycle.judge``): it joins its set, replaces or
withdraws the held one, or is refused with the spec's code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app import states
from app.db.models import Declaration, DocumentRow
from app.services import authority, set_keys, set_lookups, sets
from app.services.answers import is_inventory
from declarations import AppType, Facts, Held, Kind, Refusal, ReturnStatus, judge


@dataclass(frozen=True, slots=True)
class FollowUp:
    """What an approved message that follows a 清单 does to its declaration once stored (a
    cancellation ends it, a delivery record dates it), and the statuses it is answered with
    between 3 and its final one."""

    declaration: Declaration
    apply: Callable[[Session, Declaration], None]
    between: tuple[int, ...] = ()
    # False: the message acts on the declaration without its sender becoming a party to it (a
    # site operator's entry record: it may not read the set's order, payment and 清单).
    joins: bool = True


@dataclass(frozen=True, slots=True)
class Plan:
    """How a valid document is answered: after 2 and 3, ``final`` (none: a 清单 waits at 3 for
    its set and the engine); whether it takes its place in a set, withdraws ``withdraws``, or
    acts on a declaration as a message after the 清单 (``follow_up``)."""

    final: tuple[int, str] | None
    joins_set: bool = False
    changes: bool = False
    withdraws: DocumentRow | None = None
    follow_up: FollowUp | None = None


def refused(refusal: Refusal | None) -> Plan:
    """The plan of a refused message: its code and the reason in both languages."""
    assert refusal is not None
    return Plan(final=(int(refusal.code), f"{refusal.message_zh} / {refusal.message_en}"))


def plan(session: Session, row: DocumentRow, facts: Facts) -> Plan:
    """What a valid document does (``declarations.lifecycle.judge`` against what customs
    holds under its business key)."""
    kind = facts.message.kind
    held = set_lookups.held_document(session, set_keys.held_key(facts))
    authority.ensure_owner(row, held)
    app_type = AppType(row.app_type) if row.app_type in ("1", "2", "3") else AppType.NEW
    current = _held(session, held) if held else None
    verdict = judge(kind, app_type, row.guid, current, direction=facts.direction)
    if (refusal := verdict.refusal) is not None:
        return refused(refusal)
    if held is not None:
        held.current = False  # replaced (change), withdrawn (delete) or superseded (new)
    accepted = (int(ReturnStatus.ACCEPTED), "")
    if app_type is AppType.DELETE:
        return Plan(final=accepted, withdraws=held)
    row.current = True
    final = None if kind is Kind.INVENTORY else accepted
    return Plan(final=final, joins_set=True, changes=app_type is AppType.CHANGE)


def withdraw(session: Session, row: DocumentRow) -> Declaration | None:
    """A delete (appType 3) withdraws the held document from its set; the delete message itself
    is answered 2 → 3 → 120 and kept in the history."""
    declaration = session.get(Declaration, row.declaration_id) if row.declaration_id else None
    before_clearance = (states.CLEARANCE_READY, *states.OPEN_STATES)
    if declaration is not None and declaration.state in before_clearance:
        sets.give_back(session, declaration.id)
        states.move(declaration, states.INCOMPLETE)
        if is_inventory(row):
            declaration.return_status = None  # no 清单 left: nothing is declared
    return declaration


def _held(session: Session, held: DocumentRow) -> Held:
    """What customs holds, as ``declarations.lifecycle`` sees it. A 清单's status is its
    declaration's (the engine moves it on); the others' is their own."""
    status = held.return_status
    declaration = session.get(Declaration, held.declaration_id) if held.declaration_id else None
    if is_inventory(held) and declaration is not None and declaration.return_status is not None:
        status = declaration.return_status
    list_declared = False
    if not is_inventory(held) and declaration is not None:
        # The set's 清单 stands (declared, not refused): its status is the declaration's.
        standing = (declaration.return_status or 0) > 0 and declaration.return_status != 100
        list_declared = standing and any(
            is_inventory(d) for d in sets.current_documents(session, declaration.id)
        )
    return Held(held.guid, _as_status(status), list_declared)


def _as_status(status: int | None) -> ReturnStatus:
    if status is None:
        return ReturnStatus.DECLARING
    try:
        return ReturnStatus(status)
    except ValueError:  # a negative business code: refused
        return ReturnStatus.REJECTED
