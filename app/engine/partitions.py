"""Partitions of the clearance engine's work: which declarations an engine may touch.

With ``DANCHUANG_ENGINE_PARTITIONS`` = P the declarations are split into P partitions by their
id: declaration ``d`` belongs to partition ``d mod P``. The id is given once, when the
declaration is stored, and never changes, so a declaration is in the same partition for its
whole life; ids are handed out one after the other, so P partitions get equal shares (to
within one) of any run of declarations; and the rule is plain SQL on both databases
(``Partition.covers``), so no column records it. Changing P needs every engine stopped first:
the leases refuse to mix partitionings (``app.engine.lease.other_partitioning``).

Each partition has its own lease row (``app.engine.lease.lease_name``) and, in the process that
holds it, its own ``ClearanceEngine``: its own model and virtual clock. A partition's
declarations are taken, recorded and recovered after a crash only by the holder of its lease,
every write fenced by it as with one engine.

**The site is shared out, not multiplied.** Partition k's model holds its share of every pool of
servers of the scenario (``share_of_site``): the capacity divided by P, the remainder to the
first partitions, so that the P models together have the scenario's site — the same officers,
X-ray lanes and inspectors, in P rooms. A model with the whole site in every partition would
clear P times faster than the site the scenario describes whenever its queues are long, and the
times it shows would depend on how many partitions the operator chose. Two things still differ
from one model: P separate queues wait a little longer than one shared queue with the same
servers (a free officer in one room does not help the queue of another), and a pool smaller
than P keeps one server in each partition (a partition with none would never clear), so P
larger than the smallest pool adds servers. Unlimited pools (automatic audit) stay unlimited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import InstrumentedAttribute

from app.engine.lease import lease_name
from simulation.scenario import Scenario


def partition_of(declaration_id: int, count: int) -> int:
    """The partition (0 … count-1) of a declaration."""
    return declaration_id % count


@dataclass(frozen=True)
class Partition:
    """Partition ``index`` of ``count``; ``WHOLE`` (0 of 1) is everything, one engine."""

    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"partition {self.index} of {self.count}: no such partition")

    @property
    def lease_name(self) -> str:
        return lease_name(self.index, self.count)

    @property
    def first(self) -> bool:
        """Partition 0 also does the service-wide chores (tax bills, the incomplete-set sweep)."""
        return self.index == 0

    def holds(self, declaration_id: int) -> bool:
        return partition_of(declaration_id, self.count) == self.index

    def covers(self, column: InstrumentedAttribute[int] | InstrumentedAttribute[int | None]) -> (
        ColumnElement[bool]
    ):  # fmt: skip
        """The SQL condition "``column`` (a declaration id) is in this partition"."""
        if self.count == 1:
            return true()
        return (column % self.count) == self.index


WHOLE = Partition()


def all_partitions(count: int) -> list[Partition]:
    return [Partition(index, count) for index in range(count)]


def _share(capacity: int, partition: Partition) -> int:
    """Partition k's servers of a pool of ``capacity``: an even share, the remainder to the
    first partitions, at least one when the pool has any (0 stays 0: an off shift)."""
    if capacity == 0:
        return 0
    base, extra = divmod(capacity, partition.count)
    return max(1, base + (1 if partition.index < extra else 0))


def share_of_site(scenario: Scenario, partition: Partition) -> Scenario:
    """The scenario with the partition's share of every pool of servers and of electronic
    locks (see the module docstring); the scenario itself for ``WHOLE``."""
    if partition.count == 1:
        return scenario
    resources = {}
    for name, pool in scenario.resources.items():
        update: dict[str, object] = {}
        if pool.capacity is not None:
            update["capacity"] = _share(pool.capacity, partition)
        if pool.schedule is not None:
            update["schedule"] = [
                step.model_copy(update={"capacity": _share(step.capacity, partition)})
                for step in pool.schedule
            ]
        resources[name] = pool.model_copy(update=update)
    locks = {
        name: pool.model_copy(update={"size": _share(pool.size, partition)})
        for name, pool in scenario.lock_pools.items()
    }
    return scenario.model_copy(update={"resources": resources, "lock_pools": locks})
