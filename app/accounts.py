"""Enterprises and their API keys: the few operations the routes and the CLI share, and the
process's cache of verified keys (``KeyCache``, at the end)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cachetools import TTLCache
from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session, object_session

from app.db.engine import Database
from app.db.models import ApiKey, Enterprise, Role, utcnow
from app.errors import conflict, not_found
from app.security import generate_key, key_matches, key_prefix
from simulation.scenario import CreditClass


class _EnterpriseColumns(Protocol):
    """An ``Enterprise`` row, or a result row holding the same columns."""

    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def roles(self) -> Iterable[str]: ...
    @property
    def credit_class(self) -> str: ...
    @property
    def dxp_id(self) -> str | None: ...
    @property
    def created_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Principal:
    """The enterprise behind a request, detached from any database session."""

    id: int
    code: str
    name: str
    roles: tuple[str, ...]
    credit_class: str
    dxp_id: str | None = None  # its data exchange platform id, when registered
    created_at: datetime | None = None  # when it was registered

    @classmethod
    def of(cls, enterprise: _EnterpriseColumns) -> Principal:
        return cls(
            id=enterprise.id,
            code=enterprise.code,
            name=enterprise.name,
            roles=tuple(enterprise.roles),
            credit_class=enterprise.credit_class,
            dxp_id=enterprise.dxp_id,
            created_at=enterprise.created_at,
        )


def create_enterprise(
    session: Session,
    *,
    code: str,
    name: str,
    roles: Collection[Role],
    credit_class: CreditClass = CreditClass.GENERAL,
    dxp_id: str | None = None,
) -> Enterprise:
    if session.scalar(select(Enterprise.id).where(Enterprise.code == code)) is not None:
        raise conflict(
            "enterprise.exists",
            f"an enterprise with code {code} is already registered",
            f"企业代码{code}已登记",
        )
    if dxp_id is not None:
        _ensure_dxp_id_free(session, dxp_id, code)
    enterprise = Enterprise(
        code=code,
        name=name,
        roles=sorted({Role(r).value for r in roles}),
        credit_class=CreditClass(credit_class).value,
        dxp_id=dxp_id,
    )
    session.add(enterprise)
    session.flush()
    return enterprise


def register_dxp_id(session: Session, code: str, dxp_id: str) -> Enterprise:
    """The enterprise registers its data exchange platform id (the SenderId of its envelopes)."""
    enterprise = find_enterprise(session, code)
    _ensure_dxp_id_free(session, dxp_id, code)
    enterprise.dxp_id = dxp_id
    return enterprise


def _ensure_dxp_id_free(session: Session, dxp_id: str, code: str) -> None:
    holder = session.scalar(select(Enterprise.code).where(Enterprise.dxp_id == dxp_id))
    if holder is not None and holder != code:  # the holder is not named: not the caller's
        raise conflict(
            "enterprise.dxp_id_taken",
            f"the DXP id {dxp_id} is registered for another enterprise",
            f"数据交换平台ID {dxp_id} 已登记于其他企业",
        )


def find_enterprise(session: Session, code: str) -> Enterprise:
    enterprise = session.scalar(select(Enterprise).where(Enterprise.code == code))
    if enterprise is None:
        raise not_found(
            "enterprise.not_found", f"no enterprise with code {code}", f"未找到企业代码{code}"
        )
    return enterprise


def issue_key(session: Session, enterprise: Enterprise, *, label: str = "") -> tuple[ApiKey, str]:
    """A new key for the enterprise: the row, and the key in clear (show it once)."""
    new = generate_key()
    row = ApiKey(enterprise=enterprise, prefix=new.prefix, key_hash=new.key_hash, label=label)
    session.add(row)
    session.flush()
    return row, new.key


def revoke_keys(session: Session, enterprise: Enterprise, *, label: str | None = None) -> int:
    """Revoke the enterprise's active keys (those with ``label`` only, when given)."""
    count = 0
    for key in enterprise.keys:
        if key.revoked_at is None and (label is None or key.label == label):
            key.revoked_at = utcnow()
            count += 1
    return count


# Every request runs this: one prepared statement (built once, its SQL cached), plain columns
# instead of ORM objects (the key row and then its enterprise were two queries).
_ACTIVE_KEY = (
    select(
        ApiKey.key_hash,
        Enterprise.id,
        Enterprise.code,
        Enterprise.name,
        Enterprise.roles,
        Enterprise.credit_class,
        Enterprise.dxp_id,
        Enterprise.created_at,
    )
    .join(Enterprise, Enterprise.id == ApiKey.enterprise_id)
    .where(ApiKey.prefix == bindparam("prefix"), ApiKey.revoked_at.is_(None))
)


def authenticate(session: Session, key: str) -> Principal | None:
    """The enterprise holding this active key, or None."""
    prefix = key_prefix(key)
    if prefix is None:
        return None
    row = session.execute(_ACTIVE_KEY, {"prefix": prefix}).first()
    if row is None or not key_matches(key, row.key_hash):
        return None
    return Principal.of(row)


# --- verified keys, remembered in the process --------------------------------------------------
#
# Every request presents its key, and asking the database each time (a threadpool hop and a
# query) was most of the cheapest request's cost.
#
# A key found active in the database is trusted for at most ``ttl_s`` seconds
# (``DANCHUANG_KEY_CACHE_TTL_S``, default 5; 0 turns the cache off) before it is checked again.
#
# Revocation:
#
# - **in this process, at once.** Any change to a key's ``revoked_at`` (``accounts.revoke_keys``,
#   ``DELETE /api/v1/enterprises/{code}/keys/{prefix}``, ``seed-demo --rotate``), to a column of an
#   enterprise that a ``Principal`` carries (code, name, roles, credit class, DXP id), or the
#   deletion of a key or an enterprise, moves this process's *epoch* (ORM attribute and mapper
#   events on the models, whoever makes the change), and moves it again when the session that made
#   it commits. A cache that sees a new epoch empties itself before it answers; a database check
#   that began under an older epoch answers its own request but stores nothing, since it may have
#   read the row before the change committed.
# - **in another process** (a second ``serve --workers`` process, the ``danchuang`` CLI, SQL typed
#   into a console): within ``ttl_s`` seconds, when the entry expires and the key is checked
#   against the database again.
#
# Unknown and revoked keys are never remembered: a key issued a moment ago works at once, and a
# wrong key costs a query as before. Entries are keyed by the key's SHA-256, so the cache holds no
# key in clear.

DEFAULT_MAXSIZE = 10_000  # keys remembered at once; the least recently used go first

_lock = threading.Lock()
_epoch = [0]  # this process's count of changes to keys and enterprises
_CHANGED = "danchuang.keys_changed"  # Session.info flag: a change to commit


def keys_changed() -> None:
    """Forget every key remembered in this process (the next request of each asks again)."""
    with _lock:
        _epoch[0] += 1


class KeyCache:
    """Keys found active in the database → their ``Principal``, for at most ``ttl_s`` seconds."""

    def __init__(
        self,
        ttl_s: float,
        *,
        maxsize: int = DEFAULT_MAXSIZE,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self._entries: TTLCache[bytes, Principal] | None = (
            TTLCache(maxsize, ttl_s, timer) if ttl_s > 0 else None
        )
        self._lock = threading.Lock()  # the event loop reads, threadpool threads write
        self._epoch = _epoch[0]

    def get(self, key: str) -> Principal | None:
        """The enterprise of this key if it was found active less than ``ttl_s`` seconds ago
        and nothing about keys or enterprises changed in this process since; else None."""
        if self._entries is None:
            return None
        digest = _digest(key)
        with self._lock:
            self._catch_up()
            return self._entries.get(digest)

    def verify(self, database: Database, key: str) -> Principal | None:
        """Check the key against the database (blocking: run it in the threadpool); the
        enterprise holding it when active, which is then remembered."""
        epoch = _epoch[0]
        with database.read() as session:
            principal = authenticate(session, key)
        if principal is not None and self._entries is not None:
            digest = _digest(key)
            with self._lock:
                self._catch_up()
                if epoch == self._epoch:  # nothing changed while we read
                    self._entries[digest] = principal
        return principal

    def _catch_up(self) -> None:
        if self._epoch != _epoch[0]:
            assert self._entries is not None
            self._entries.clear()
            self._epoch = _epoch[0]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


# --- what moves the epoch ----------------------------------------------------------------------


def _changed(target: object, *_args: Any) -> None:
    keys_changed()
    session = object_session(target)
    if session is not None:
        session.info[_CHANGED] = True


for _attribute in (
    ApiKey.revoked_at,
    ApiKey.prefix,
    ApiKey.key_hash,
    ApiKey.enterprise_id,
    Enterprise.code,
    Enterprise.name,
    Enterprise.roles,
    Enterprise.credit_class,
    Enterprise.dxp_id,
):
    event.listen(_attribute, "set", _changed)


def _deleted(_mapper: object, _connection: object, target: object) -> None:
    _changed(target)


for _model in (ApiKey, Enterprise):
    event.listen(_model, "after_delete", _deleted)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        keys_changed()
