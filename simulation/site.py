"""The site: a scenario's places of work compiled for the model — server pools (with their
shifts), the clearance stages in front of them, e-lock pools and transit corridors.

    site = Site(env, scenario, rng)
    site.add_corridors(scenario, rng, departed=..., arrived=...)
    site.pools, site.stages, site.lock_pools, site.corridors
    site.reset(now)     # the end of the warm-up: statistics start again
    site.mark(now)      # the horizon: time averages are taken up to here

The declarations that move through it are the model's (``simulation.model``); the corridors
hand trucks back to the model through the two ports they are given (``simulation.transit``).
"""

from __future__ import annotations

from typing import Generic

import numpy as np
import simpy

from simulation.distributions import sampler
from simulation.resources import Pool
from simulation.runtime import StageRuntime
from simulation.scenario import Resource, Scenario, StageName
from simulation.transit import CorridorRuntime, Item, LockPoolRuntime, Port


class Site(Generic[Item]):
    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        rng: np.random.Generator,
        *,
        trace_pools: bool = False,
    ) -> None:
        """``trace_pools``: pools keep a trace of every start and end (invariant tests)."""
        self.env = env
        self.pools = {
            name: Pool(env, name, spec, trace=trace_pools)
            for name, spec in scenario.resources.items()
        }
        self.stages: dict[StageName, StageRuntime] = {}
        for name in StageName:
            spec = getattr(scenario.stages, name.value)
            if spec is None:
                continue
            pool = (
                self.pools[spec.resource]
                if spec.resource is not None
                else Pool(env, f"{name.value} (unlimited)", Resource())
            )
            by_flow = {f: sampler(d, rng) for f, d in spec.service_by_flow.items()}
            self.stages[name] = StageRuntime(name, pool, sampler(spec.service, rng), by_flow)
        self.lock_pools = {
            n: LockPoolRuntime(env, n, p.size) for n, p in scenario.lock_pools.items()
        }
        self.corridors: dict[str, CorridorRuntime[Item]] = {}

    def add_corridors(
        self,
        scenario: Scenario,
        rng: np.random.Generator,
        *,
        measured_from: float,
        departed: Port[Item],
        arrived: Port[Item],
    ) -> None:
        """The e-lock corridors (a second step: the model spawns its routing stream between
        the stages' samplers and the corridors', where it has always been, so that a seed gives
        the same numbers). ``measured_from``: the end of the warm-up, from which trucks are
        counted; ``departed`` / ``arrived``: the corridors' ports (``CorridorRuntime``)."""
        for name, spec in scenario.corridors.items():
            self.corridors[name] = CorridorRuntime(
                self.env,
                name,
                spec,
                self.lock_pools[spec.lock_pool],
                rng,
                seal_pool=self.pools.get(spec.seal_resource) if spec.seal_resource else None,
                measured_from=measured_from,
                departed=departed,
                arrived=arrived,
            )

    def reset(self, now: float) -> None:
        """The warm-up ends: levels and lock statistics start again from ``now``."""
        for pool in self.pools.values():
            pool.busy_level.reset(now)
            pool.capacity_level.reset(now)
        for stage in self.stages.values():
            stage.queue.reset(now)
            stage.pool.busy_level.reset(now)
        for locks in self.lock_pools.values():
            locks.reset(now)

    def mark(self, now: float) -> None:
        """The horizon: time averages of the arrival window end at ``now`` (the drain after
        it is measured apart)."""
        for pool in self.pools.values():
            pool.busy_level.mark(now)
            pool.capacity_level.mark(now)
        for stage in self.stages.values():
            stage.queue.mark(now)
        for locks in self.lock_pools.values():
            locks.in_use.mark(now)
