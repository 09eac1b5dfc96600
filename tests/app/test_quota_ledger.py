"""The buyers' annual quota as the ledger sums it (``app.quota``), on both backends: a buyer's
year, and the same without the purchase of the import set a changed 清单 replaces."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.db.engine import Database
from app.db.models import Declaration
from app.quota import LedgerQuota, used_fen


def test_a_buyers_year_is_summed_without_the_purchase_a_changed_list_replaces(
    database: Database,
) -> None:
    with database.write() as session:
        sets = [
            Declaration(direction=direction, ebp_code="3301960001", order_no=order)
            for direction, order in (("import", "O-1"), ("import", "O-2"), ("export", "O-1"))
        ]
        session.add_all(sets)
        session.flush()
        on = date(2026, 5, 1)
        for declaration, amount in zip(sets, ("100.00", "200.50", "7.00"), strict=True):
            LedgerQuota.add(session, "B1", Decimal(amount), on, declaration_id=declaration.id)
        LedgerQuota.add(session, "B1", Decimal("3.00"), on)  # counted by no set
        LedgerQuota.add(session, "B1", Decimal("50.00"), date(2025, 5, 1))  # another year
        LedgerQuota.add(session, "B2", Decimal("9.00"), on)  # another buyer

    with database.read() as session:
        assert used_fen(session, "B1", 2026) == 31050
        # The import set of O-1 is replaced; the export set of the same order is not.
        assert used_fen(session, "B1", 2026, replacing=("3301960001", "O-1")) == 21050
        assert used_fen(session, "B1", 2026, replacing=("3301960001", "O-9")) == 31050
        assert used_fen(session, "B1", 2025) == 5000
        assert used_fen(session, "B3", 2026) == 0
    quota = LedgerQuota(database)
    assert quota.used("B1", 2026, replacing=("3301960001", "O-2")) == Decimal("110.00")
    assert quota.used("B2", 2026) == Decimal("9.00")
