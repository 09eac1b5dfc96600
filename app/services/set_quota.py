"""The buyers' annual quota (26,000 CNY a year, 财关税〔2018〕49号), counted per set.

A complete, reconciled import set counts its 清单's purchase (``declarations.Purchase``, kept
with the 清单's facts on arrival) in the ledger, inside the write transaction (``count_quota``);
a refused, withdrawn or changed set gives it back (``release_quota``). The limit itself is the
core's (``declarations.annual_refusal``).

Purchases are counted in *groups* (``counting``): the sets of a group of records taken together
(``app.services.taking``) name the purchases they may count, and the first count of the group
reads, for all of them at once, each (buyer, year)'s sum and the entries the group's
declarations already have: one query, after (on PostgreSQL) one statement that takes every
buyer's lock, in order. The sums then follow what the group counts and gives back, so two 清单
of one buyer in a group are counted in turn as one by one (the second sees the first's amount),
and the rows counted are inserted together when the group ends. A count outside a group is a
group of its own purchase: its lock, its read, its row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    CompoundSelect,
    Table,
    bindparam,
    delete,
    func,
    insert,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from app.db.engine import transaction_state
from app.db.models import Declaration, QuotaEntry
from app.quota import whole_fen
from declarations import Finding, Purchase, annual_refusal

_LEDGER = "danchuang.set_quota"  # the transaction's ``_Ledger``, in ``Session.info``

# In one statement: the sum of each (buyer, year) asked (its declaration_id NULL), and every
# entry of the declarations asked (a changed 清单's, given back before the new one is counted).
_SUMS = (
    select(QuotaEntry.buyer_id_number, QuotaEntry.year, func.sum(QuotaEntry.amount_fen), null())
    .where(
        QuotaEntry.buyer_id_number.in_(bindparam("buyers", expanding=True)),
        QuotaEntry.year.in_(bindparam("years", expanding=True)),
    )
    .group_by(QuotaEntry.buyer_id_number, QuotaEntry.year)
)
_ENTRIES = select(
    QuotaEntry.buyer_id_number, QuotaEntry.year, QuotaEntry.amount_fen, QuotaEntry.declaration_id
).where(QuotaEntry.declaration_id.in_(bindparam("ids", expanding=True)))
_READ: CompoundSelect[Any] = union_all(_SUMS, _ENTRIES)

# A purchase a set may count: its declaration's id, and the purchase.
Counted = tuple[int, Purchase]
_INSERT = insert(cast(Table, QuotaEntry.__table__))  # a group's rows: Core, no ORM bulk step


@dataclass
class _Ledger:
    """What the transaction knows of the ledger: the buyers whose lock it holds (PostgreSQL);
    and while a group counts, the purchases it may count (read at its first count), the fen
    counted per (buyer, year) and each declaration's entries (buyer, year, fen) as read and
    since counted or given back, and the rows counted, inserted when the group ends."""

    locked: set[str] = field(default_factory=set)
    grouped: bool = False
    expected: list[Counted] = field(default_factory=list)
    sums: dict[tuple[str, int], int] = field(default_factory=dict)
    entries: dict[int, list[tuple[str, int, int]]] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)


def _ledger(session: Session) -> _Ledger:
    return transaction_state(session, _LEDGER, _Ledger)


@contextmanager
def counting(session: Session, purchases: Sequence[Counted]) -> Iterator[None]:
    """Count the quota of the ``with`` block's sets as one group: ``purchases`` are those they
    may count (read at the block's first ``count_quota``, together with any it counts beyond
    them); the ledger rows counted are inserted together at its end. Nested, a block is its
    enclosing group's."""
    ledger = _ledger(session)
    if ledger.grouped:
        ledger.expected.extend(purchases)
        yield
        return
    ledger.grouped, ledger.expected = True, list(purchases)
    try:
        yield
        if ledger.rows:
            with session.no_autoflush:  # the set's own changes wait for the last flush
                session.execute(_INSERT, ledger.rows)
    finally:
        ledger.grouped, ledger.expected, ledger.rows = False, [], []
        ledger.sums.clear()
        ledger.entries.clear()


def count_quota(
    session: Session, declaration: Declaration, purchase: Purchase | None
) -> Finding | None:
    """Count the 清单's purchase in the ledger, or return the finding that refuses it.

    Validation already checked the quota when the 清单 arrived; this re-check runs inside the
    write transaction (under the buyer's lock on PostgreSQL; SQLite's write transaction already
    excludes every other writer), so two 清单 of one buyer arriving together cannot both slip
    under it. The declaration's own earlier entry (a changed 清单) is replaced, not added to.
    """
    if purchase is None:
        return None
    ledger = _ledger(session)
    if not ledger.grouped:
        with counting(session, [(declaration.id, purchase)]):
            return count_quota(session, declaration, purchase)
    buyer, year = purchase.buyer_id_number, purchase.year
    if (buyer, year) not in ledger.sums or declaration.id not in ledger.entries:
        _read(session, ledger, [*ledger.expected, (declaration.id, purchase)])
    own = ledger.entries[declaration.id]
    others = ledger.sums[(buyer, year)] - sum(fen for b, y, fen in own if (b, y) == (buyer, year))
    if own:
        release_quota(session, declaration.id)
    refusal = annual_refusal(purchase, Decimal(others) / 100)
    if refusal is not None:
        return refusal
    fen = whole_fen(purchase.amount)
    ledger.rows.append(
        {
            "buyer_id_number": buyer,
            "year": year,
            "amount_fen": fen,
            "declaration_id": declaration.id,
        }
    )
    ledger.sums[(buyer, year)] += fen
    ledger.entries[declaration.id] = [(buyer, year, fen)]
    return None


def _read(session: Session, ledger: _Ledger, purchases: Sequence[Counted]) -> None:
    """Read what counting ``purchases`` needs and the ledger does not know yet: the sum of
    each (buyer, year), and the entries of each declaration, in one query, under the buyers'
    locks (PostgreSQL: taken in one statement, in the buyers' order, so that transactions
    locking the same buyers take them in the same order)."""
    keys = {(p.buyer_id_number, p.year) for _, p in purchases} - ledger.sums.keys()
    ids = {ident for ident, _ in purchases} - ledger.entries.keys()
    ledger.expected = []
    buyers = sorted({buyer for buyer, _ in keys} - ledger.locked)
    if buyers and session.get_bind().dialect.name == "postgresql":
        calls = ", ".join(f"pg_advisory_xact_lock(hashtext(:b{i}))" for i in range(len(buyers)))
        session.execute(text(f"SELECT {calls}"), {f"b{i}": b for i, b in enumerate(buyers)})
    ledger.locked.update(buyers)
    values = {
        "buyers": sorted({buyer for buyer, _ in keys}),
        "years": sorted({year for _, year in keys}),
        "ids": sorted(ids),
    }
    # No ledger row is left pending in the session (``LedgerQuota.add`` flushes its own, the
    # group inserts its with a statement): nothing to flush before reading the ledger.
    with session.no_autoflush:
        read = session.execute(_READ, values).all()
    ledger.sums.update(dict.fromkeys(keys, 0))
    ledger.entries.update({ident: [] for ident in ids})
    for buyer, year, fen, ident in read:
        if ident is not None:
            ledger.entries[ident].append((buyer, year, int(fen)))
        elif (buyer, year) in keys:
            ledger.sums[(buyer, year)] = int(fen)


def release_quota(session: Session, declaration_id: int) -> int:
    """Give back what the declaration counted against its buyer's annual quota (its 清单 was
    refused, deleted or changed, or customs rejected or returned it); returns rows removed."""
    ledger = _ledger(session)
    waiting = [row for row in ledger.rows if row["declaration_id"] == declaration_id]
    if waiting:  # counted in this group, not inserted yet
        ledger.rows = [row for row in ledger.rows if row["declaration_id"] != declaration_id]
    # Built with its value, so that the session's own rows of the declaration (those
    # ``LedgerQuota.add`` made) are known deleted too, as the unit of work evaluates it.
    release = delete(QuotaEntry).where(QuotaEntry.declaration_id == declaration_id)
    returned = (QuotaEntry.buyer_id_number, QuotaEntry.year, QuotaEntry.amount_fen)
    removed = session.execute(release.returning(*returned)).all()
    gone = [(r["buyer_id_number"], r["year"], r["amount_fen"]) for r in waiting]
    for buyer, year, fen in [*gone, *removed]:
        if (buyer, year) in ledger.sums:
            ledger.sums[(buyer, year)] -= int(fen)
    if declaration_id in ledger.entries:
        ledger.entries[declaration_id] = []
    return len(waiting) + len(removed)
