"""What a site costs: the optional ``costs:`` section of a scenario, and the cost KPIs.

```yaml
costs:
  currency: CNY                 # a label for the reports (default CNY)
  resources:                    # per server-hour of a limited pool, staff or equipment
    inspectors: {kind: staff, per_hour: 95}
    xray_lanes: {kind: equipment, per_hour: 310}
  lock_per_day:                 # fixed cost of one e-lock per day, by lock pool
    huahu: 12
```

A pool's **staffed hours** are its scheduled capacity integrated over time (``capacity`` ×
hours, or the shift ``schedule`` repeating every ``period_hours``): what is paid for, busy or
not (a server finishing a job past its shift end, ``at_shift_end: finish``, is not counted).
The cost KPIs are per day of the arrival window (warm-up end → horizon), the window the
throughput is measured over: ``cost.staff_hours`` and ``cost.equipment_hours`` (server-hours a
day), ``cost.per_day`` (pools plus locks) and ``cost.per_declaration`` (the cost of the arrival
window over the releases in it). Only the last varies between replications.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from simulation.cost_schema import Costs, ResourceCost

if TYPE_CHECKING:
    from simulation.scenario_schema import Resource, Scenario

__all__ = ["Costs", "ResourceCost", "cost_kpis", "daily_cost", "server_hours"]


def server_hours(resource: Resource, start_h: float, end_h: float) -> float:
    """The pool's scheduled capacity integrated over ``[start_h, end_h]`` (hours)."""
    if resource.schedule is None:
        return float(resource.capacity or 0) * (end_h - start_h)
    period = resource.period_hours
    steps = resource.schedule
    total = 0.0
    for k in range(math.floor(start_h / period), math.ceil(end_h / period) + 1):
        for i, step in enumerate(steps):
            begin = k * period + step.from_hour
            finish = k * period + (steps[i + 1].from_hour if i + 1 < len(steps) else period)
            overlap = min(finish, end_h) - max(begin, start_h)
            if overlap > 0:
                total += overlap * step.capacity
    return total


def daily_cost(scenario: Scenario) -> float:
    """Pools and locks per day of the arrival window; NaN without a ``costs:`` section."""
    costs = scenario.costs
    if costs is None:
        return math.nan
    start, end = scenario.warmup_hours, scenario.horizon_hours
    days = (end - start) / 24
    pools = sum(
        cost.per_hour * server_hours(scenario.resources[name], start, end)
        for name, cost in costs.resources.items()
    )
    locks = sum(
        per_day * scenario.lock_pools[name].size for name, per_day in costs.lock_per_day.items()
    )
    return pools / days + locks


def cost_kpis(scenario: Scenario, throughput_per_hour: float) -> dict[str, float]:
    """The cost KPIs of a replication (none without a ``costs:`` section)."""
    costs = scenario.costs
    if costs is None:
        return {}
    start, end = scenario.warmup_hours, scenario.horizon_hours
    days = (end - start) / 24
    hours = {"staff": 0.0, "equipment": 0.0}
    for name, cost in costs.resources.items():
        hours[cost.kind] += server_hours(scenario.resources[name], start, end)
    per_day = daily_cost(scenario)
    released_per_day = throughput_per_hour * 24
    return {
        "cost.staff_hours": hours["staff"] / days,
        "cost.equipment_hours": hours["equipment"] / days,
        "cost.per_day": per_day,
        "cost.per_declaration": per_day / released_per_day if released_per_day > 0 else math.nan,
    }
