"""The receipt feed: what a party pulls with a cursor (the push side is ``app.webhooks``).

Feed cursor: clients poll ``receipts.id > cursor``. On PostgreSQL ids come from a sequence and
transactions commit in any order: a smaller id can become visible after a larger one, which a
poller already past it would skip forever. Writers do not wait for each other; the feed shows
ids up to a horizon no unfinished writer can fall under. A writer, before its first receipt
id (``app.receipts``), takes a shared advisory lock keyed ``FEED_MARK`` + the sequence's last
value: its ids will be above the key, and the lock goes only once its commit is visible. The feed
(``feed_horizon``) reads the sequence's last value S, then the smallest key M in ``pg_locks``,
then, in a later statement (a later snapshot), the ids up to min(S, M). Why that skips
nothing: an id L unseen by that snapshot below a shown H ≤ S was taken before S was read, so
its writer held a mark below L from before then until after the snapshot, hence when
``pg_locks`` was read: M < L < H, and H is not shown. A long writer only delays the feed.
Showing receipts whose xid is below ``pg_snapshot_xmin`` would not do with an id cursor: an
older transaction can take a larger id than a younger one still running. SQLite has one
writer at a time: ids commit in order. Receipts that reach a party late (a set's receipts from
before it joined, an adopted orphan's) keep their smaller ids: a poller past them does not see
them again, its webhooks do (docs/api.md, "The receipts").
"""

from __future__ import annotations

from sqlalchemy import BindParameter, Integer, Select, bindparam, select, text
from sqlalchemy.orm import Session

from app.db.models import DocumentRow, Receipt
from app.receipts import FEED_MARK, LAST_ID

_LAST = text(f"SELECT {LAST_ID}")
_LOWEST_MARK = text(
    "SELECT min(classid::bigint * 4294967296 + objid::bigint) FROM pg_locks"
    " WHERE locktype = 'advisory' AND objsubid = 1 AND classid >= :low AND classid < :high"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def feed_horizon(session: Session) -> int | None:
    """The largest receipt id the feed may show now (None: any, SQLite). Read in statements
    of its own, before the receipts are."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    last, low = int(session.scalar(_LAST) or 0), FEED_MARK >> 32
    marked = session.scalar(_LOWEST_MARK, {"low": low, "high": low + (1 << 16)})
    return last if marked is None else min(last, int(marked) - FEED_MARK)


def feed(session: Session, enterprise_id: int, *, after: int, limit: int) -> list[Receipt]:
    """Receipts concerning the enterprise (for its documents, or for sets it took part in),
    oldest first, with ``id > after``, up to the feed's horizon (``feed_horizon``)."""
    horizon = feed_horizon(session)
    given = {"enterprise_id": enterprise_id, "after": after, "limit": limit, "horizon": horizon}
    return list(session.scalars(_FEED[horizon is not None], given))


def _feed_query(*, bounded: bool) -> Select[Receipt]:
    """The feed's query, built once (building it cost more than running it): with
    ``bounded``, up to a horizon (PostgreSQL)."""
    mine: BindParameter[int] = bindparam("enterprise_id")
    my_documents = select(DocumentRow.id).where(DocumentRow.sender_id == mine)
    my_declarations = select(DocumentRow.declaration_id).where(
        DocumentRow.sender_id == mine, DocumentRow.declaration_id.is_not(None)
    )
    below = (Receipt.id <= bindparam("horizon"),) if bounded else ()
    return (
        select(Receipt)
        .where(
            Receipt.id > bindparam("after"),
            *below,
            Receipt.document_id.in_(my_documents) | Receipt.declaration_id.in_(my_declarations),
        )
        .order_by(Receipt.id)
        .limit(bindparam("limit", type_=Integer))
    )


_FEED = {bounded: _feed_query(bounded=bounded) for bounded in (False, True)}
