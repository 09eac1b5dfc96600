"""The optional ``costs:`` section of a scenario file (``simulation.cost`` computes with it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol

from pydantic import Field

from simulation.durations import Strict


class Pool(Protocol):
    """What the check needs of a resource pool (``simulation.scenario.Resource``)."""

    @property
    def capacity(self) -> int | None: ...

    @property
    def schedule(self) -> object | None: ...


class ResourceCost(Strict):
    kind: Literal["staff", "equipment"]
    per_hour: float = Field(ge=0)  # per server-hour


class Costs(Strict):
    currency: str = "CNY"
    resources: dict[str, ResourceCost] = Field(default_factory=dict)
    lock_per_day: dict[str, float] = Field(default_factory=dict)

    def check(self, resources: Mapping[str, Pool], lock_pools: list[str]) -> None:
        """``ValueError`` naming a pool the scenario does not have, or an unlimited one."""
        for name in self.resources:
            if name not in resources:
                raise ValueError(
                    f"costs.resources: unknown resource {name!r} (resources: "
                    f"{', '.join(sorted(resources)) or 'none'})"
                )
            pool = resources[name]
            if pool.capacity is None and pool.schedule is None:
                raise ValueError(
                    f"costs.resources.{name}: the pool is unlimited (capacity: null), so it has "
                    f"no server-hours to cost; give it a capacity or drop its cost"
                )
        for name, cost in self.lock_per_day.items():
            if name not in lock_pools:
                raise ValueError(
                    f"costs.lock_per_day: unknown lock pool {name!r} (lock_pools: "
                    f"{', '.join(sorted(lock_pools)) or 'none'})"
                )
            if cost < 0:
                raise ValueError(f"costs.lock_per_day.{name}: must be at least 0")
