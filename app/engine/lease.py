"""The engine lease: one row in ``engine_leases`` says which process runs the clearance engine.

A process that wants to run the engine takes the row when it is free or expired, and renews it
on every tick; a process that finds it held by a live owner stands by and tries again. The row
works the same on SQLite (the write transaction holds the database's single write lock) and on
PostgreSQL (``SELECT ... FOR UPDATE`` locks the row; a concurrent first insert loses on the
primary key and simply retries next time).

With ``DANCHUANG_ENGINE_PARTITIONS`` = P > 1 (``app.engine.partitions``) there is one row per
partition: partition 0 keeps the name ``clearance`` (so the health check and the dashboard,
which read that row, still see an engine clear), partition k is ``clearance.k/P``. Each process
of a partitioned service also keeps a heartbeat row, ``clearance.wP.<digest of its owner id>``,
renewed every tick: the live heartbeats are how many engine processes share the partitions.
An engine never takes a lease while a live row of another partitioning exists (``try_acquire``):
engines started with different P would otherwise clear the same declarations.

Every batch of receipts the engine writes renews the lease *in the same transaction* (``hold``)
and is rolled back if the lease was lost meanwhile: an engine that stalled past its expiry
(a long GC pause, a suspended laptop) can never write beside its successor.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.engine import Database
from app.db.models import EngineLease

log = structlog.get_logger("danchuang.engine")

ENGINE_NAME = "clearance"
_SCHEME = re.compile(rf"{ENGINE_NAME}\.(?:\d+/(\d+)|w(\d+)\..+)")  # partition or heartbeat row


def lease_name(index: int, count: int) -> str:
    """The lease row of partition ``index`` of ``count``: partition 0 is ``clearance``."""
    return ENGINE_NAME if index == 0 else f"{ENGINE_NAME}.{index}/{count}"


def _heartbeat_name(owner: str, count: int) -> str:
    return f"{ENGINE_NAME}.w{count}.{hashlib.sha1(owner.encode()).hexdigest()[:16]}"


def _scheme(name: str) -> int | None:
    """The partition count a row's name belongs to; None for ``clearance`` (any count's 0)."""
    found = _SCHEME.fullmatch(name)
    return int(found.group(1) or found.group(2)) if found else None


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
    database: Database,
    owner: str,
    lease_s: float,
    *,
    now: datetime | None = None,
    name: str = ENGINE_NAME,
    partitions: int = 1,
) -> Acquired | None:
    """Take the lease ``name`` if it is free, expired or already ours; None if another holds
    it, or if an engine of another partitioning (``partitions``) runs."""
    now = now or datetime.now(UTC)
    expires = now + timedelta(seconds=lease_s)
    try:
        with database.write() as session:
            row = session.scalar(
                select(EngineLease).where(EngineLease.name == name).with_for_update()
            )
            if (row is None or row.owner == owner or row.expires_at <= now) and (
                foreign := other_partitioning(session, owner, partitions, now)
            ):
                log.warning("engine.partitioning_differs", ours=partitions, theirs=foreign)
                return None
            if row is None:
                session.add(
                    EngineLease(name=name, owner=owner, expires_at=expires, acquired_at=now)
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


def other_partitioning(session: Session, owner: str, partitions: int, now: datetime) -> str | None:
    """The name of a live row of an engine partitioned otherwise than in ``partitions``; None
    when there is none. The ``clearance`` row is every partitioning's partition 0: with
    P > 1 its holder must also keep a heartbeat of P (an engine of P = 1 keeps none)."""
    rows = session.execute(
        select(EngineLease.name, EngineLease.owner).where(
            or_(EngineLease.name == ENGINE_NAME, EngineLease.name.like(f"{ENGINE_NAME}.%")),
            EngineLease.expires_at > now,
            EngineLease.owner != owner,
        )
    ).all()
    ours = {holder for name, holder in rows if _scheme(name) == partitions}
    for name, holder in rows:
        scheme = _scheme(name)
        if scheme is None and partitions > 1 and holder not in ours:
            return f"{name} (one engine for all)"
        if scheme is not None and scheme != partitions:
            return f"{name} ({scheme} partitions)"
    return None


def heartbeat(
    database: Database, owner: str, partitions: int, lease_s: float, *, stop: bool = False
) -> int:
    """Renew this process's heartbeat (``stop``: end it now) and forget long-dead ones; the
    number of engine processes of ``partitions`` alive, this one included."""
    now = datetime.now(UTC)
    name = _heartbeat_name(owner, partitions)
    expires = now if stop else now + timedelta(seconds=lease_s)
    beats = EngineLease.name.like(f"{ENGINE_NAME}.w{partitions}.%")
    with database.write() as session:
        session.execute(
            delete(EngineLease)
            .where(beats, EngineLease.expires_at < now - timedelta(seconds=lease_s))
            .execution_options(synchronize_session=False)
        )
        row = session.get(EngineLease, name)
        if row is None:
            session.add(EngineLease(name=name, owner=owner, expires_at=expires, acquired_at=now))
        else:
            row.expires_at = expires
        session.flush()
        alive = session.scalar(select(func.count()).where(beats, EngineLease.expires_at > now))
    return max(int(alive or 0), 0 if stop else 1)


def hold(
    session: Session,
    owner: str,
    lease_s: float,
    *,
    sim_clock: datetime | None = None,
    now: datetime | None = None,
    name: str = ENGINE_NAME,
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
            EngineLease.name == name,
            EngineLease.owner == owner,
            EngineLease.expires_at > now,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise LeaseLostError(f"the clearance engine lease {name} is no longer held by {owner}")


def release(database: Database, owner: str, name: str = ENGINE_NAME) -> None:
    """Give the lease up at a clean shutdown, so that a successor need not wait for expiry."""
    with database.write() as session:
        session.execute(
            update(EngineLease)
            .where(EngineLease.name == name, EngineLease.owner == owner)
            .values(expires_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )


def holder(database: Database, name: str = ENGINE_NAME) -> tuple[str, datetime] | None:
    """The current owner and expiry (for health pages and tests)."""
    with database.read() as session:
        row = session.get(EngineLease, name)
        return (row.owner, row.expires_at) if row is not None else None
