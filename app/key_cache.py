"""Verified API keys, remembered in the process: every request presents its key, and asking the
database each time (a threadpool hop and a query) was most of the cheapest request's cost.

A key found active in the database is trusted for at most ``ttl_s`` seconds
(``DANCHUANG_KEY_CACHE_TTL_S``, default 5; 0 turns the cache off) before it is checked again.

Revocation:

- **in this process, at once.** Any change to a key's ``revoked_at`` (``accounts.revoke_keys``,
  ``DELETE /api/v1/enterprises/{code}/keys/{prefix}``, ``seed-demo --rotate``), to a column of an
  enterprise that a ``Principal`` carries (code, name, roles, credit class, DXP id), or the
  deletion of a key or an enterprise, moves this process's *epoch* (ORM attribute and mapper
  events on the models, whoever makes the change), and moves it again when the session that made
  it commits. A cache that sees a new epoch empties itself before it answers; a database check
  that began under an older epoch answers its own request but stores nothing, since it may have
  read the row before the change committed.
- **in another process** (a second ``serve --workers`` process, the ``danchuang`` CLI, SQL typed
  into a console): within ``ttl_s`` seconds, when the entry expires and the key is checked
  against the database again.

Unknown and revoked keys are never remembered: a key issued a moment ago works at once, and a
wrong key costs a query as before. Entries are keyed by the key's SHA-256, so the cache holds no
key in clear.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

from cachetools import TTLCache
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from app.accounts import Principal, authenticate
from app.db.engine import Database
from app.db.models import ApiKey, Enterprise

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
