"""Property tests: for any small scenario, declarations are conserved, pools and lock fleets
stay within their capacity, and observing a run does not change it."""

from __future__ import annotations

import json

import numpy as np
import simpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.model import ClearanceModel
from simulation.runner import run_replication
from simulation.scenario import Scenario

probability = st.floats(0, 1)
small_probability = st.floats(0, 0.3)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    steps = draw(st.lists(st.integers(0, 4), min_size=1, max_size=4))
    schedule = [{"from_hour": 6 * i, "capacity": c} for i, c in enumerate(steps)]
    risk = {
        credit: {
            "reject": draw(small_probability),
            "review": draw(probability),
            "inspect_direct": draw(probability),
            "inspect_after_review": draw(probability),
            "manual_after_machine": draw(probability),
            "detain": draw(small_probability),
            "return_goods": draw(small_probability),
        }
        for credit in ("aeo", "general", "low_credit")
    }
    return Scenario.model_validate(
        {
            "name": "property",
            "horizon_hours": 12,
            "warmup_hours": draw(st.sampled_from([0, 2])),
            "drain_hours": draw(st.sampled_from([0, 6])),
            "resources": {
                "officers": {
                    "schedule": schedule,
                    "at_shift_end": draw(st.sampled_from(["finish", "preempt"])),
                },
                "lanes": {"capacity": draw(st.integers(1, 3))},
            },
            "stages": {
                "audit": {"service": {"dist": "exponential", "mean": 5}},
                "review": {"resource": "officers", "service": {"dist": "exponential", "mean": 300}},
                "machine_check": {
                    "resource": "lanes",
                    "service": {"dist": "uniform", "low": 10, "high": 90},
                },
                "manual_inspection": {
                    "resource": "officers",
                    "service": {"dist": "lognormal", "mean": 600, "sd": 300},
                },
                "release": {"service": {"dist": "deterministic", "value": 1}},
            },
            "risk": risk,
            "flows": [
                {
                    "name": "imports",
                    "regime": "9610",
                    "arrivals": {"kind": "poisson", "rate_per_hour": draw(st.integers(1, 60))},
                    "credit_mix": {"aeo": 1, "general": 2, "low_credit": 1},
                    "transit": {"corridor": "out", "share": draw(probability)},
                },
                {
                    "name": "exports",
                    "regime": "9710",
                    "direction": "export",
                    "arrivals": {
                        "kind": "batch",
                        "times_of_day": [1, 7],
                        "size": {"dist": "empirical", "values": [5, 20]},
                    },
                    "goods_arrival": {"dist": "exponential", "mean": 30, "unit": "min"},
                    "departure": {"dist": "uniform", "low": 1, "high": 3, "unit": "h"},
                },
            ],
            "lock_pools": {"home": {"size": draw(st.integers(1, 3))}},
            "corridors": {
                "out": {
                    "destination": "elsewhere",
                    "lock_pool": "home",
                    "truck_capacity": draw(st.integers(1, 30)),
                    "max_wait": {"dist": "deterministic", "value": 30, "unit": "min"},
                    "seal_mode": draw(st.sampled_from(["automatic", "officer"])),
                    "seal_resource": "officers",
                    "seal": {"dist": "deterministic", "value": 60},
                    "travel": {"dist": "exponential", "mean": 1, "unit": "h"},
                    "alarms": [{"kind": "tamper", "probability": draw(small_probability)}],
                    "alarm_inspection": {"dist": "deterministic", "value": 20, "unit": "min"},
                    "unseal": {"dist": "deterministic", "value": 10},
                    "lock_return": {"dist": "exponential", "mean": 1, "unit": "h"},
                }
            },
        }
    )


@settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_conservation_and_capacity_hold_for_any_scenario(scenario: Scenario, seed: int) -> None:
    env = simpy.Environment()
    model = ClearanceModel(env, scenario, np.random.default_rng(seed), trace_pools=True)
    planned = model.start()
    env.run(until=(scenario.horizon_hours + scenario.drain_hours) * 3600)
    model.settle()
    assert model.arrived == planned
    assert planned == sum(model.finished.values()) + len(model.live)
    assert all(not d.status.is_final for d in model.live.values())
    for pool in model.pools.values():
        assert pool.trace is not None
        starts_ok = all(busy <= cap for _t, e, busy, cap in pool.trace if e == "start")
        assert starts_ok
        if pool.preempt:
            assert all(busy <= cap for _t, _e, busy, cap in pool.trace)
    locks = model.lock_pools["home"]
    assert 0 <= locks.in_use.maximum <= locks.size


@settings(
    max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_observing_never_changes_results(scenario: Scenario, seed: int) -> None:
    quiet = run_replication(scenario, seed)
    observed = run_replication(scenario, seed, on_transition=lambda *_: None)
    assert json.dumps(quiet.kpis) == json.dumps(observed.kpis)
    assert quiet.finished == observed.finished and quiet.conservation_ok
