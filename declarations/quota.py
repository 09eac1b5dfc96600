"""The buyer's annual quota (26,000 CNY a year, 财关税〔2018〕49号), behind a small interface.

The validation core only asks how much a buyer has used (``QuotaProvider``); the live service
backs this with its database ledger (``app.quota.LedgerQuota``), tests and the CLI with
``InMemoryQuota``. What a 清单 counts is ``rules.limits.purchase_of``, and whether it crosses
the limit ``rules.limits.exceeds_annual_limit``: the rule and the ledger's re-check share both.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Protocol, runtime_checkable

# An order as the ledger knows it: (ebpCode, orderNo).
OrderKey = tuple[str, str]


class QuotaProvider(Protocol):
    def used(
        self, buyer_id_number: str, year: int, *, replacing: OrderKey | None = None
    ) -> Decimal:
        """CNY already counted against the buyer's annual limit in ``year``; without what the
        order ``replacing`` counted (a changed 清单 replaces its earlier purchase)."""
        ...


@runtime_checkable
class QuotaReadAhead(Protocol):
    def read_ahead(self, buyers: Collection[tuple[str, int]]) -> None:
        """Prepare to be asked ``used`` for these (buyer id number, year) pairs: a message of
        several 清单 names all its buyers at once, so that a ledger in a database reads them
        with one query rather than one a record (``app.quota.MessageQuota``)."""
        ...


class InMemoryQuota:
    """A dict-backed provider for tests and one-shot CLI runs."""

    def __init__(self) -> None:
        self._used: dict[tuple[str, int], dict[OrderKey | None, Decimal]] = {}

    def used(
        self, buyer_id_number: str, year: int, *, replacing: OrderKey | None = None
    ) -> Decimal:
        by_order = self._used.get((buyer_id_number, year), {})
        return sum((v for k, v in by_order.items() if k is None or k != replacing), Decimal(0))

    def add(
        self, buyer_id_number: str, amount: Decimal, on: date, *, order: OrderKey | None = None
    ) -> None:
        by_order = self._used.setdefault((buyer_id_number, on.year), {})
        by_order[order] = by_order.get(order, Decimal(0)) + amount
