"""Server pools: shifts never over capacity (except the documented finish overlap),
pre-empted work resumes with its remaining time, priorities order the queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import simpy

from simulation.model import ClearanceModel
from simulation.monitor import Level
from simulation.resources import Pool
from simulation.scenario import Resource, ShiftEnd, load_scenario

SHIFTS = [
    {"from_hour": 0, "capacity": 3},
    {"from_hour": 1, "capacity": 1},
    {"from_hour": 2, "capacity": 0},
    {"from_hour": 3, "capacity": 4},
]


def _busy_pool(mode: ShiftEnd, seed: int = 1) -> tuple[Pool, list[tuple[Any, float, float]]]:
    """A pool on a 4-hour shift cycle fed with more work than it can take."""
    env = simpy.Environment()
    spec = Resource(schedule=SHIFTS, period_hours=4, at_shift_end=mode)  # type: ignore[arg-type]
    pool = Pool(env, "officers", spec, trace=True)
    rng = np.random.default_rng(seed)
    done: list[tuple[Any, float, float]] = []
    queue = Level()

    def feed() -> Any:
        for job in range(3000):
            yield env.timeout(rng.exponential(10.0))
            service = float(rng.exponential(25.0))
            pool.request(job, job % 3, service, lambda j, w: done.append((j, w, env.now)), queue)

    env.process(feed())
    env.run(until=12 * 3600)
    return pool, done


def test_preempt_never_exceeds_capacity() -> None:
    pool, done = _busy_pool(ShiftEnd.PREEMPT)
    assert pool.trace
    assert all(busy <= capacity for _t, _e, busy, capacity in pool.trace)
    assert pool.preemptions > 0
    # Nobody works in the zero-capacity hour (2 h to 3 h of each 4 h cycle).
    assert not [t for t, event, _b, _c in pool.trace if event == "start" and 2 <= t / 3600 % 4 < 3]
    assert done


def test_finish_overlap_only_after_a_drop_and_never_on_a_start() -> None:
    pool, _ = _busy_pool(ShiftEnd.FINISH)
    assert pool.trace is not None
    # A job starts only when a server is free under the current capacity.
    assert all(busy <= capacity for _t, event, busy, capacity in pool.trace if event == "start")
    # Over capacity only while the jobs in hand when the shift ended finish.
    over = [(t, busy, c) for t, event, busy, c in pool.trace if busy > c]
    assert over, "the busy pool should overlap at some shift end"
    assert pool.preemptions == 0
    excess = 0
    capacity = 3.0
    for _t, event, busy, cap in pool.trace:
        if event == "capacity":
            excess = max(0, busy - int(cap))
            capacity = cap
        elif busy > capacity:
            assert busy - capacity <= excess  # the overlap only shrinks
            excess = int(busy - capacity)


def test_preempted_job_resumes_with_remaining_time() -> None:
    env = simpy.Environment()
    spec = Resource(
        schedule=[{"from_hour": 0, "capacity": 1}, {"from_hour": 1, "capacity": 0}],  # type: ignore[list-item]
        period_hours=2,
        at_shift_end=ShiftEnd.PREEMPT,
    )
    pool = Pool(env, "lane", spec)
    finished: list[float] = []
    env.timeout(3000).callbacks.append(  # type: ignore[union-attr]
        lambda _e: pool.request("x", 0, 1200.0, lambda _j, _w: finished.append(env.now), Level())
    )
    env.run(until=3 * 3600)
    # 600 s served before the 1 h shift end, the other 600 s after the 2 h restart.
    assert finished == [7200.0 + 600.0]


def test_finish_mode_completes_the_job_in_hand() -> None:
    env = simpy.Environment()
    spec = Resource(
        schedule=[{"from_hour": 0, "capacity": 1}, {"from_hour": 1, "capacity": 0}],  # type: ignore[list-item]
        period_hours=2,
    )
    pool = Pool(env, "lane", spec)
    finished: list[float] = []
    for start in (3000.0, 3100.0):
        env.timeout(start).callbacks.append(  # type: ignore[union-attr]
            lambda _e: pool.request(
                "x", 0, 1200.0, lambda _j, _w: finished.append(env.now), Level()
            )
        )
    env.run(until=3 * 3600)
    # The first finishes past the shift end (4200 s); the second waits for the next shift.
    assert finished == [4200.0, 7200.0 + 1200.0]


def test_priority_orders_the_queue_fifo_within_a_class() -> None:
    env = simpy.Environment()
    pool = Pool(env, "one", Resource(capacity=1))
    order: list[str] = []
    queue = Level()
    for name, prio in [("first", 1), ("low-a", 2), ("high", 0), ("low-b", 2), ("mid", 1)]:
        pool.request(name, prio, 10.0, lambda j, _w: order.append(j), queue)
    assert queue.value == 4
    env.run()
    assert order == ["first", "high", "mid", "low-a", "low-b"]
    assert queue.value == 0 and queue.maximum == 4


def test_unlimited_pool_is_a_pure_delay() -> None:
    env = simpy.Environment()
    pool = Pool(env, "audit", Resource())
    ends: list[float] = []
    for _ in range(1000):
        pool.request(None, 0, 5.0, lambda _j, w: ends.append(env.now + w), Level())
    assert pool.busy == 1000
    env.run()
    assert ends == [5.0] * 1000 and pool.busy == 0


def test_pools_inside_the_full_model_respect_their_shifts() -> None:
    scenario = load_scenario(Path(__file__).parent / "data" / "small-site.yaml")
    env = simpy.Environment()
    model = ClearanceModel(env, scenario, np.random.default_rng(2), trace_pools=True)
    model.start()
    env.run(until=48 * 3600)
    xray, officers = model.pools["xray"], model.pools["officers"]
    assert xray.preempt and not officers.preempt
    assert xray.trace and officers.trace
    assert all(busy <= cap for _t, _e, busy, cap in xray.trace)  # pre-emptive: always
    assert all(busy <= cap for _t, e, busy, cap in officers.trace if e == "start")
    # The scheduled capacities were applied at the scheduled hours.
    changes = [(t / 3600, cap) for t, e, _b, cap in officers.trace if e == "capacity"]
    assert changes[:3] == [(8.0, 5), (20.0, 3), (24.0, 2)]
