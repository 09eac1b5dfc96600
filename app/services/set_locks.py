"""Set locks: on PostgreSQL, the write path is serialised per set, not globally.

A set (a declaration) is keyed by direction + ebpCode + orderNo (``sets``); its lock is a
transaction-level advisory lock on that key (``set_key``). Every transaction that reads a set to
decide and then changes it holds the set's lock from before the read to its commit, so two
documents of one set never both see it incomplete, and never both create its declaration:

- a submission (``submission.take``) locks the keys its document names before it reads
  anything: its set's key (orderNo + ebpCode), and the waybill's (logisticsCode + logisticsNo)
  — a 清单 and the orphan waybill it names meet on the waybill's key. A document that finds its
  set through the waybill (a waybill, a carrier's delivery record) then locks the sets whose
  current 清单 names that waybill (``sets.sets_naming``): while the waybill's key is held no
  other set can start naming it, so the set found is the set joined;
- the clearance engine locks the sets it records receipts for (``app.engine.store.record``)
  before reading them, and takes only sets it can lock at once (``try_lock``) when it picks
  clearance-ready ones up, so a late document and the pickup never interleave.

Keys are taken in one order (waybills before sets, then by key) so that two transactions do
not wait for each other; the few that find a further set later (a waybill's) may still meet
in a deadlock, which PostgreSQL breaks by failing one: submissions retry it
(``submission.retryable``). Every holder also holds the write path's lock shared; a document
that acts on many sets at once (a summary CEB701, a master waybill CEB607) or names none
takes it exclusively, waiting for the others. SQLite's write transaction excludes every other
writer already: there, nothing is taken.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.orm import Session, aliased

from app.db.engine import transaction_state
from app.db.models import Declaration, DocumentRow
from app.services.sets import sets_named_by
from declarations import Facts, Kind

SET_KEYS = 0x6463_736B  # "dcsk": the advisory-lock namespace of set and waybill keys
WRITE_PATH = 0x6463_7770  # "dcwp": the write path's lock (shared by all, exclusive for some)
_HELD = "danchuang.set_locks"  # what this transaction holds, in ``Session.info``
# Kinds whose one document acts on sets it does not name by their keys (a summary: 清单 of
# a period).
WHOLE_KINDS = frozenset({Kind.SUMMARY})
_INVENTORY_CODES = ("CEB621", "CEB603")


def set_key(direction: str, ebp_code: str, order_no: str) -> str:
    return f"set|{direction}|{ebp_code}|{order_no}"


def waybill_key(direction: str, logistics_code: str, logistics_no: str) -> str:
    return f"waybill|{direction}|{logistics_code}|{logistics_no}"


def _clipped(facts: Facts, name: str, width: int) -> str:
    """A key as its column stores it (``submission._new_row``)."""
    return (facts.key(name) or "")[:width]


def _waybills(facts: Facts) -> list[str]:
    """The waybill numbers a document names: its head's, and its lines' (a master waybill's, a
    site's entry record)."""
    numbers = [
        facts.key("logisticsNo") or "",
        *(line.get("logisticsNo") or "" for line in facts.lines),
    ]
    return sorted({number[:80] for number in numbers if number})


def _inventories(facts: Facts) -> list[str]:
    """The 清单 numbers (invtNo) a document names."""
    numbers = [facts.key("invtNo") or "", *(line.get("invtNo") or "" for line in facts.lines)]
    return sorted({number for number in numbers if number})


def keys_of(facts: Facts) -> list[str]:
    """The keys a document names: its waybills', and its set's (a waybill's orderNo does not
    choose its set: it finds it through the 清单, ``sets``)."""
    direction = facts.direction.value
    code = _clipped(facts, "logisticsCode", 18)
    keys = [waybill_key(direction, code, number) for number in _waybills(facts)]
    ebp_code, order_no = _clipped(facts, "ebpCode", 18), _clipped(facts, "orderNo", 60)
    if ebp_code and order_no and facts.message.kind is not Kind.WAYBILL:
        keys.append(set_key(direction, ebp_code, order_no))
    return keys


def whole(facts: Facts) -> bool:
    """Does the document lock the whole write path (it acts on many sets, or names none)?"""
    return facts.message.kind in WHOLE_KINDS or not (keys_of(facts) or _inventories(facts))


def lock_document(session: Session, facts: Facts) -> None:
    """Before a submission reads anything: lock the keys its document names, then (a document
    that finds its sets through waybills or 清单 numbers) the sets those name."""
    keys = keys_of(facts)
    lock(session, keys, exclusive=whole(facts))
    if (
        any(key.startswith("set|") for key in keys)
        or session.get_bind().dialect.name != "postgresql"
    ):
        return
    numbers, inventories = _waybills(facts), _inventories(facts)
    named = {*keys, *(f"invt|{number}" for number in inventories)}
    covered = _state(session).covered
    if named <= covered:  # their sets are held already (below, or ``lock_declarations``)
        return
    code = _clipped(facts, "logisticsCode", 18) or None
    found = sets_named_by(session, facts.direction.value, code, numbers, inventories)
    lock_sets(session, found)
    # While the waybills' keys are held no other set can start naming them, and a 清单
    # number's set never changes: later documents naming them find the same sets.
    covered.update(named)


def _order(key: str) -> tuple[bool, str]:
    return (not key.startswith("waybill|"), key)


@dataclass
class _State:
    """What one transaction holds: keys, the write path (``path``: [] not yet, [exclusive]),
    and the waybills and 清单 numbers whose sets it holds (``covered``)."""

    keys: set[str] = field(default_factory=set)
    path: list[bool] = field(default_factory=list)
    covered: set[str] = field(default_factory=set)


def _state(session: Session) -> _State:
    return transaction_state(session, _HELD, _State)


def lock(session: Session, keys: Iterable[str], *, exclusive: bool = False) -> None:
    """Hold the write path (shared, or ``exclusive``) and ``keys`` to the end of the
    transaction (PostgreSQL; nothing on SQLite). One statement for all of them."""
    if session.get_bind().dialect.name != "postgresql":
        return
    state = _state(session)
    held, path = state.keys, state.path
    new = sorted(set(keys) - held, key=_order)
    calls = []
    if not path or (exclusive and not path[0]):
        mode = "" if exclusive else "_shared"
        calls.append(f"pg_advisory_xact_lock{mode}(:path, 0)")
    calls += [f"pg_advisory_xact_lock(:keys, hashtext(:k{i}))" for i in range(len(new))]
    if not calls:
        return
    values: dict[str, object] = {f"k{i}": key for i, key in enumerate(new)}
    session.execute(
        text(f"SELECT {', '.join(calls)}"), {"path": WRITE_PATH, "keys": SET_KEYS, **values}
    )
    held.update(new)
    if not path or exclusive:
        path[:] = [exclusive]


def lock_sets(session: Session, sets: Collection[tuple[str, str, str]]) -> None:
    """Lock sets given as (direction, ebpCode, orderNo)."""
    lock(session, [set_key(*one) for one in sets])


def lock_declarations(session: Session, ids: Collection[int]) -> None:
    """Hold the sets of the declarations ``ids``, the waybills their 清单 name and every set
    naming those, as their submissions would, all in the one order (the engine, before it
    records their receipts: danchuang's own messages for them then find their sets held)."""
    if session.get_bind().dialect.name != "postgresql" or not ids:
        return
    inventory, other = aliased(DocumentRow), aliased(DocumentRow)
    naming = aliased(Declaration)
    current = inventory.message_code.in_(_INVENTORY_CODES) & inventory.current.is_(True)
    own = select(
        Declaration.direction,
        Declaration.ebp_code,
        Declaration.order_no,
        inventory.logistics_code,
        inventory.logistics_no,
        inventory.invt_no,
    ).outerjoin(inventory, (inventory.declaration_id == Declaration.id) & current)
    keys, covered = [], set()
    for direction, ebp_code, order_no, code, number, invt_no in session.execute(
        own.where(Declaration.id.in_(ids))
    ):
        keys.append(set_key(direction, ebp_code, order_no))
        if number:
            keys.append(waybill_key(direction, code or "", number))
        if invt_no:
            covered.add(f"invt|{invt_no}")
    # From the 清单 to those naming their waybills, by index: joined through the declarations'
    # direction instead, the planner (on statistics older than a load's rows) paired every
    # declaration with every other and took 25 ms a call, 490 at worst.
    same_waybill = (
        (other.logistics_no == inventory.logistics_no)
        & (other.logistics_code == inventory.logistics_code)
        & (other.direction == inventory.direction)
        & other.message_code.in_(_INVENTORY_CODES)
        & other.current.is_(True)
    )
    shared = (
        select(naming.direction, naming.ebp_code, naming.order_no)
        .select_from(inventory)
        .join(other, same_waybill)
        .join(naming, naming.id == other.declaration_id)
        .where(inventory.declaration_id.in_(ids), current, other.declaration_id.not_in(ids))
    )
    keys += [set_key(*key) for key in session.execute(shared)]
    lock(session, keys)
    _state(session).covered.update(covered, (key for key in keys if key.startswith("waybill|")))


def try_lock(session: Session, keys: Sequence[str]) -> set[str]:
    """Hold the write path (shared) and take those of ``keys`` free now; returns them (all on
    SQLite). Nothing waits for a set another transaction holds."""
    if session.get_bind().dialect.name != "postgresql" or not keys:
        return set(keys)
    lock(session, ())
    held = _state(session).keys
    rows = session.execute(
        text(
            "SELECT k FROM unnest(CAST(:given AS text[])) AS k"
            " WHERE pg_try_advisory_xact_lock(:keys, hashtext(k))"
        ),
        {"given": sorted(set(keys) - held, key=_order), "keys": SET_KEYS},
    )
    held.update(row[0] for row in rows)
    return held & set(keys)
