"""Expiry of incomplete sets: sets that wait too long for their documents are refused.

Customs will not hold an order's documents forever: when a set has not become complete within
the window (``settings.incomplete_set_window_s``, counted from its oldest current document),
every document it holds gets a 100 (海关退单) receipt naming what is missing, and the
declaration ends ``rejected``. Documents that never found a set at all (an export waybill whose
清单 never came) are refused the same way.

The clearance engine (or the worker) calls ``expire_incomplete_sets`` periodically; tests call it
with a fake ``now``. (Not to be confused with ``simulation.sweep``, the parameter grids.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.engine import Database
from app.db.models import Declaration, DocumentRow
from app.services import sets
from app.services.answers import answer
from app.settings import Settings
from app.states import INCOMPLETE, REJECTED, move
from declarations import BY_CODE, MISSING_DOCUMENT, Kind, ReturnStatus

_BATCH = 200  # declarations refused per transaction, so that a backlog never holds the lock long


def incomplete_window(settings: Settings) -> timedelta:
    """The window in wall time. It is set in simulated seconds; on a virtual clock running
    ``clock_speed`` times faster it passes that much sooner. With the ``instant`` clock the
    window is taken as wall seconds (an instant window would refuse every set in progress)."""
    seconds = settings.incomplete_set_window_s
    if settings.clock_speed != "instant":
        seconds /= float(settings.clock_speed)
    return timedelta(seconds=seconds)


def expire_incomplete_sets(database: Database, *, now: datetime, window: timedelta) -> list[int]:
    """Refuse the sets (and lone documents) incomplete since before ``now - window``; returns
    the ids of the declarations refused."""
    cutoff = now - window
    refused: list[int] = []
    while True:
        with database.write() as session:
            batch = _overdue(session, cutoff)
            for declaration in batch:
                _refuse_set(session, declaration)
                refused.append(declaration.id)
            if len(batch) < _BATCH:
                _refuse_orphans(session, cutoff)
                return refused


def _overdue(session: Session, cutoff: datetime) -> list[Declaration]:
    oldest = (
        select(DocumentRow.declaration_id, func.min(DocumentRow.received_at).label("first"))
        .where(DocumentRow.current.is_(True), DocumentRow.declaration_id.is_not(None))
        .group_by(DocumentRow.declaration_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(Declaration)
            .join(oldest, oldest.c.declaration_id == Declaration.id)
            .where(Declaration.state == INCOMPLETE, oldest.c.first < cutoff)
            .order_by(Declaration.id)
            .limit(_BATCH)
        )
    )


def _refuse_set(session: Session, declaration: Declaration) -> None:
    documents = sets.current_documents(session, declaration.id)
    en, zh = sets.describe_missing(declaration, sets.missing_kinds(declaration, documents))
    info = (
        f"[{MISSING_DOCUMENT.id}] 单证不齐，超过等待时限仍缺少：{zh} / "
        f"the set stayed incomplete past the window; missing: {en}"
    )
    for row in documents:
        answer(session, row, int(ReturnStatus.REJECTED), info)
        row.current = False
    move(declaration, REJECTED)
    declaration.return_status = int(ReturnStatus.REJECTED)
    sets.give_back(session, declaration.id)


def _refuse_orphans(session: Session, cutoff: datetime) -> None:
    orphans = session.scalars(
        select(DocumentRow)
        .where(
            DocumentRow.declaration_id.is_(None),
            DocumentRow.current.is_(True),
            DocumentRow.received_at < cutoff,
        )
        .order_by(DocumentRow.id)
        .limit(_BATCH)
    )
    for row in orphans:
        kind = BY_CODE[row.message_code].kind
        wanted = "清单(declaration list)" if kind is Kind.WAYBILL else "订单(order)"
        info = (
            f"[{MISSING_DOCUMENT.id}] 超过等待时限仍未找到所属订单的其他单证：缺少{wanted} / "
            f"no set formed for this document within the window: missing {wanted}"
        )
        answer(session, row, int(ReturnStatus.REJECTED), info)
        row.current = False
