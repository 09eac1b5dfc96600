"""The buyers' annual quota over the database ledger (``declarations.QuotaProvider``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.db.engine import Database
from app.db.models import Declaration, QuotaEntry
from declarations import Direction, OrderKey

# A buyer's sum over the ledger for a year, and the same without the purchase of the import set
# of an order (``replacing``): built once, their parameters bound per call (building them on
# each call cost more than running them).
_USED = select(func.coalesce(func.sum(QuotaEntry.amount_fen), 0)).where(
    QuotaEntry.buyer_id_number == bindparam("buyer"), QuotaEntry.year == bindparam("year")
)
_REPLACED = select(Declaration.id).where(
    Declaration.direction == Direction.IMPORT.value,
    Declaration.ebp_code == bindparam("ebp_code"),
    Declaration.order_no == bindparam("order_no"),
)
_USED_REPLACING = _USED.where(
    QuotaEntry.declaration_id.is_(None) | QuotaEntry.declaration_id.not_in(_REPLACED)
)
# Several buyers' sums, by year.
_SUMS = (
    select(QuotaEntry.buyer_id_number, QuotaEntry.year, func.sum(QuotaEntry.amount_fen))
    .where(QuotaEntry.buyer_id_number.in_(bindparam("buyers", expanding=True)))
    .group_by(QuotaEntry.buyer_id_number, QuotaEntry.year)
)


def used_fen(
    session: Session, buyer_id_number: str, year: int, *, replacing: OrderKey | None = None
) -> Decimal:
    """Fen counted against the buyer in ``year``, without the entry of the import set of the
    order ``replacing`` (ebpCode, orderNo): a changed 清单 replaces its earlier purchase."""
    given = {"buyer": buyer_id_number, "year": year}
    if replacing is None:
        return Decimal(int(session.scalar(_USED, given) or 0))
    ebp_code, order_no = replacing
    found = session.scalar(_USED_REPLACING, given | {"ebp_code": ebp_code, "order_no": order_no})
    return Decimal(int(found or 0))


def whole_fen(amount: Decimal) -> int:
    """``amount`` (CNY) in fen, as the ledger counts it; a fraction of a fen is refused."""
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"quota amounts are whole fen (0.01 CNY), got {amount}")
    return int(fen)


class LedgerQuota:
    """Sums the ``quota_ledger`` rows of a buyer and year.

    ``used`` opens its own read session so the validation core can call it without knowing
    about sessions; ``add`` joins the caller's write transaction, so that counting a purchase
    commits or rolls back with the declaration that causes it.
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    def used(
        self, buyer_id_number: str, year: int, *, replacing: OrderKey | None = None
    ) -> Decimal:
        with self._database.read() as session:
            return used_fen(session, buyer_id_number, year, replacing=replacing) / 100

    @staticmethod
    def add(
        session: Session,
        buyer_id_number: str,
        amount: Decimal,
        on: date,
        *,
        declaration_id: int | None = None,
    ) -> QuotaEntry:
        entry = QuotaEntry(
            buyer_id_number=buyer_id_number,
            year=on.year,
            amount_fen=whole_fen(amount),
            declaration_id=declaration_id,
        )
        session.add(entry)
        session.flush()
        return entry


class MessageQuota(LedgerQuota):
    """The ledger as one message is checked against it: each buyer's sum read once. A batch's
    records are checked one by one against the ledger as it stood (``declarations.check_message``
    names every buyer first; nothing is counted while a message is checked;
    ``app.services.set_quota`` counts again, under the set's lock, when the set is complete)."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self._read: dict[tuple[str, int, OrderKey | None], Decimal] = {}

    def used(
        self, buyer_id_number: str, year: int, *, replacing: OrderKey | None = None
    ) -> Decimal:
        key = (buyer_id_number, year, replacing)
        if key not in self._read:
            self._read[key] = super().used(buyer_id_number, year, replacing=replacing)
        return self._read[key]

    def read_ahead(self, buyers: Collection[tuple[str, int]]) -> None:
        """Each (buyer, year)'s sum read with one query (``declarations.QuotaReadAhead``): what
        the records of a message of several 清单 will ask, a change's replaced purchase aside
        (``replacing``: asked, and read, on its own)."""
        wanted = [(buyer, year) for buyer, year in buyers if (buyer, year, None) not in self._read]
        if not wanted:
            return
        with self._database.read() as session:
            rows = session.execute(_SUMS, {"buyers": sorted({buyer for buyer, _ in wanted})})
            sums = {(buyer, year): Decimal(int(fen)) for buyer, year, fen in rows}
        for buyer, year in wanted:
            self._read[(buyer, year, None)] = sums.get((buyer, year), Decimal(0)) / 100
