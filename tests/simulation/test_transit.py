"""E-lock transit: a pool of k locks never has more than k in use; small pools make trucks wait."""

from __future__ import annotations

from typing import Any

import numpy as np
import simpy

from declarations.codes import ReturnStatus as S
from simulation.lifecycle import Milestone
from simulation.model import ClearanceModel
from simulation.monitor import Level
from simulation.runner import run_replication
from simulation.scenario import parse_scenario

M = Milestone  # short names keep the expected sequences readable

TRANSIT = """\
name: transit
horizon_hours: 72
warmup_hours: 2
resources:
  officers: {capacity: 2}
stages:
  audit: {service: {dist: deterministic, value: 2}}
risk:
  general: {}
flows:
  - name: parcels
    regime: "9610"
    arrivals: {kind: poisson, rate_per_hour: 400}
    transit: {corridor: to-wuhan, share: 0.5}
lock_pools:
  huahu: {size: LOCKS}
corridors:
  to-wuhan:
    destination: Wuhan Tianhe
    lock_pool: huahu
    truck_capacity: 100
    max_wait: {dist: deterministic, value: 2, unit: h}
    seal_mode: SEAL_MODE
    seal_resource: officers
    seal: {dist: deterministic, value: 2, unit: min}
    travel: {dist: lognormal, mean: 75, sd: 15, unit: min}
    alarms: [{kind: tamper, probability: 0.05}, {kind: low_battery, probability: 0.1}]
    alarm_inspection: {dist: deterministic, value: 40, unit: min}
    unseal: {dist: deterministic, value: 10}
    lock_return: {dist: deterministic, value: 90, unit: min}
"""


def _scenario(locks: int, seal_mode: str = "automatic") -> Any:
    return parse_scenario(TRANSIT.replace("LOCKS", str(locks)).replace("SEAL_MODE", seal_mode))


def test_lock_pool_never_exceeds_its_size_and_small_pools_wait() -> None:
    # 200 transit parcels/h in trucks of 100: two trucks an hour, each holding its lock for
    # ~75 min travel + 90 min return: about 5.5 locks busy on average.
    small = run_replication(_scenario(3), 4).kpis
    large = run_replication(_scenario(12), 4).kpis
    assert small["locks.huahu.in_use.max"] == 3
    assert large["locks.huahu.in_use.max"] <= 12
    assert small["locks.huahu.utilisation"] > 0.95
    assert small["locks.huahu.wait.mean"] > 3600  # the backlog of trucks keeps growing
    assert small["locks.huahu.waited_share"] > 0.5
    assert large["locks.huahu.wait.mean"] < small["locks.huahu.wait.mean"] / 10
    assert 0.3 < large["locks.huahu.utilisation"] < 0.6
    assert (
        large["corridor.to-wuhan.load.mean"] == 100
    )  # trucks fill (in ~30 min) long before max_wait
    # transit = seal + travel (+ alarm inspection) + unseal
    assert 75 * 60 < large["corridor.to-wuhan.transit.mean"] < 95 * 60


def test_locks_in_use_series_respects_the_pool() -> None:
    result = run_replication(_scenario(4, "officer"), 9)
    assert max(result.series["locks_in_use.huahu"]) <= 4
    assert result.kpis["resource.officers.busy.mean"] > 0  # officers did the sealing
    assert result.conservation_ok


def test_lock_level_checked_at_every_change() -> None:
    env = simpy.Environment()
    model = ClearanceModel(env, _scenario(2), np.random.default_rng(3))
    locks = model.lock_pools["huahu"]
    over: list[float] = []

    class Checked(Level):
        def change(self, now: float, delta: float) -> None:
            super().change(now, delta)
            if not 0 <= self.value <= locks.size:
                over.append(now)

    locks.in_use = Checked()
    model.start()
    env.run(until=24 * 3600)
    assert over == []
    assert locks.in_use.maximum == 2
    assert locks.waiting() > 0


def test_transit_milestones_between_release_and_exit() -> None:
    env = simpy.Environment()
    seen: list[tuple[int, S, M, float]] = []
    scenario = _scenario(5)
    model = ClearanceModel(
        env,
        scenario,
        np.random.default_rng(1),
        on_transition=lambda i, s, m, t, _: seen.append((i, s, m, t)),
    )
    model.start()
    env.run(until=6 * 3600)
    transit_ids = {i for i, _s, m, _t in seen if m is M.TRANSIT_START}
    assert transit_ids
    ident = min(transit_ids)
    steps = [(s, m) for i, s, m, _t in seen if i == ident]
    assert steps[-4:] == [
        (S.RELEASED, M.RELEASE),
        (S.RELEASED, M.TRANSIT_START),
        (S.RELEASED, M.TRANSIT_END),
        (S.CLOSED, M.EXIT),
    ]


def _samples(model: ClearanceModel) -> int:
    """How many samples the model's statistics hold: a few for every declaration and truck."""
    stages = sum(
        len(s.sojourn) + len(s.waits) + sum(map(len, s.by_credit_wait))
        for s in model.stages.values()
    )
    flows = sum(
        len(f.cycle) + len(f.to_decision) + len(f.decision_to_release) + len(f.end_to_end)
        for f in model.flows
    )
    trucks = sum(len(c.loads) + len(c.transit_times) for c in model.corridors.values())
    return stages + flows + trucks + sum(len(p.waits) for p in model.lock_pools.values())


def test_a_model_that_keeps_no_samples_does_not_grow_with_its_declarations() -> None:
    # The clearance engine's model (app.engine) runs as long as the service: its memory must
    # not grow with the declarations it clears (issue 15, the soak).
    def day(keep_samples: bool) -> ClearanceModel:
        env = simpy.Environment()
        rng = np.random.default_rng(5)
        model = ClearanceModel(env, _scenario(5), rng, keep_samples=keep_samples)
        model.start()
        env.run(until=24 * 3600)
        return model

    kept, unkept = day(True), day(False)
    assert unkept.released_total == kept.released_total > 5000  # the same run
    assert _samples(kept) > kept.released_total
    assert _samples(unkept) == 0
