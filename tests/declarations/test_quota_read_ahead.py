"""A message of several import 清单 names all its buyers to a ledger that reads ahead, once,
before the first record asks what a buyer has used (``declarations.QuotaReadAhead``)."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal

from lxml import etree

from declarations import check
from declarations.messages import BY_ROOT, Direction, Kind, Regime
from declarations.quota import InMemoryQuota, OrderKey
from declarations.sample_batches import batched, sharing_parties
from declarations.samples import to_bytes


class ReadingAhead(InMemoryQuota):
    """The in-memory ledger, keeping what it was told and asked, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, object]] = []

    def read_ahead(self, buyers: Collection[tuple[str, int]]) -> None:
        self.calls.append(("read_ahead", set(buyers)))

    def used(
        self, buyer_id_number: str, year: int, *, replacing: OrderKey | None = None
    ) -> Decimal:
        self.calls.append(("used", (buyer_id_number, year)))
        return super().used(buyer_id_number, year, replacing=replacing)


def _inventories(count: int) -> tuple[bytes, set[tuple[str, int]]]:
    """A message of ``count`` import 清单 records, and their (buyer, year) pairs."""
    sets = sharing_parties(Regime.DIRECT, Direction.IMPORT, seed=4, count=count)
    roots = [
        root
        for s in sets
        for root in s.documents.values()
        if BY_ROOT[etree.QName(root).localname].kind is Kind.INVENTORY
    ]
    pairs = set()
    for root in roots:
        head = root.find(".//{*}InventoryHead")
        assert head is not None
        buyer, declared = head.findtext("{*}buyerIdNumber"), head.findtext("{*}declTime")
        assert buyer and declared
        pairs.add((buyer, int(declared[:4])))
    return to_bytes(batched(roots) if count > 1 else roots[0]), pairs


def test_the_buyers_of_a_message_are_read_ahead_once_before_the_first_ask() -> None:
    data, pairs = _inventories(3)
    ledger = ReadingAhead()
    assert check(data, quota=ledger).report.valid
    assert ledger.calls[0] == ("read_ahead", pairs)
    assert [name for name, _ in ledger.calls[1:]] == ["used"] * 3
    assert {asked for _, asked in ledger.calls[1:]} == pairs


def test_a_one_record_message_is_asked_without_reading_ahead() -> None:
    data, pairs = _inventories(1)
    ledger = ReadingAhead()
    assert check(data, quota=ledger).report.valid
    assert ledger.calls == [("used", next(iter(pairs)))]
