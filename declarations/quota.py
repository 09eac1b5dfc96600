"""The buyer's annual quota (26,000 CNY a year, 财关税〔2018〕49号), behind a small interface.

The validation core only asks how much a buyer has used; the live service backs this with its
database ledger, tests and the CLI with ``InMemoryQuota``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Protocol


class QuotaProvider(Protocol):
    def used(self, buyer_id_number: str, year: int) -> Decimal:
        """CNY already counted against the buyer's annual limit in ``year``."""
        ...


class InMemoryQuota:
    """A dict-backed provider for tests and one-shot CLI runs."""

    def __init__(self) -> None:
        self._used: dict[tuple[str, int], Decimal] = {}

    def used(self, buyer_id_number: str, year: int) -> Decimal:
        return self._used.get((buyer_id_number, year), Decimal(0))

    def add(self, buyer_id_number: str, amount: Decimal, on: date) -> None:
        key = (buyer_id_number, on.year)
        self._used[key] = self._used.get(key, Decimal(0)) + amount
