"""The engine lease: one row in ``engine_leases`` says which process runs the clearance engine.

A process that wants to run the engine takes the row when it is free or expired, and renews it
on every tick; a process that finds it held by a live owner stands by and tries again. The row
works the same on SQLite (the write transaction holds the database's single write lock) and on
PostgreSQL (``SELECT ... FOR UPDATE`` locks the row; a concurrent first insert loses on the
primary key and simply retries next time).

Every batch of receipts the engine writes renews the lease *in the same transaction* (``hold``)
and is rolled back if the lease was lost meanwhile: an engine that stalled past its expiry
(a long GC pause, a suspended laptop) can never write beside its successor.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.engine import Database
from app.db.models import EngineLease

ENGINE_NAME = "clearance"


class LeaseLostError(RuntimeError):
    """The lease passed to another owner (or expired) before this write."""


def new_owner_id() -> str:
    """host:pid:random — unique per engine instance, readable in the table."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Acquired:
    """A lease just taken: ``sim_clock`` is where the previous holder's virtual clock was."""

    owner: str
    sim_clock: datetime | None


def try_acquire(
    database: Database, owner: str, lease_s: float, *, now: datetime | None = None
) -> Acquired | None:
    """Take the lease if it is free, expired or already ours; None if another holds it."""
    now = now or datetime.now(UTC)
    expires = now + timedelta(seconds=lease_s)
    try:
        with database.write() as session:
            row = session.scalar(
                select(EngineLease).where(EngineLease.name == ENGINE_NAME).with_for_update()
            )
            if row is None:
                session.add(
                    EngineLease(name=ENGINE_NAME, owner=owner, expires_at=expires, acquired_at=now)
                )
                return Acquired(owner, None)
            if row.owner != owner and row.expires_at > now:
                return None
            if row.owner != owner:
                row.acquired_at = now
            row.owner = owner
            row.expires_at = expires
            return Acquired(owner, row.sim_clock)
    except IntegrityError:  # another process inserted the first row at the same moment
        return None


def hold(
    session: Session,
    owner: str,
    lease_s: float,
    *,
    sim_clock: datetime | None = None,
    now: datetime | None = None,
) -> None:
    """Renew our lease inside ``session``'s transaction; raises ``LeaseLostError`` if it is not
    ours any more (the caller's transaction must then roll back)."""
    now = now or datetime.now(UTC)
    values: dict[str, object] = {"expires_at": now + timedelta(seconds=lease_s)}
    if sim_clock is not None:
        values["sim_clock"] = sim_clock
    result = session.execute(
        update(EngineLease)
        .where(
            EngineLease.name == ENGINE_NAME,
            EngineLease.owner == owner,
            EngineLease.expires_at > now,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLostError(f"the clearance engine lease is no longer held by {owner}")


def release(database: Database, owner: str) -> None:
    """Give the lease up at a clean shutdown, so that a successor need not wait for expiry."""
    with database.write() as session:
        session.execute(
            update(EngineLease)
            .where(EngineLease.name == ENGINE_NAME, EngineLease.owner == owner)
            .values(expires_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )


def holder(database: Database) -> tuple[str, datetime] | None:
    """The current owner and expiry (for health pages and tests)."""
    with database.read() as session:
        row = session.get(EngineLease, ENGINE_NAME)
        return (row.owner, row.expires_at) if row is not None else None
