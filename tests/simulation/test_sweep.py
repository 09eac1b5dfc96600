"""Sweeps: dotted-path overrides, the grid, and seeds that make results independent of workers."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor

import pytest

from simulation.runner import run
from simulation.scenario import Scenario, parse_scenario
from simulation.sweep import (
    SweepError,
    apply_overrides,
    build_grid,
    parameter_paths,
    parse_vary,
    run_sweep,
)

# A small site with every kind of path: resources, a shift list, distributions, a named flow,
# credit-class keys, integer keys (detention codes), a lock pool and a corridor.
SITE = """
name: sweep-site
horizon_hours: 5
warmup_hours: 1
drain_hours: 1
resources:
  officers:
    schedule: [{from_hour: 0, capacity: 2}, {from_hour: 3, capacity: 3}]
  xray: {capacity: 1}
stages:
  audit: {resource: null, service: {dist: deterministic, value: 2}}
  review: {resource: officers, service: {dist: exponential, mean: 3, unit: min}}
  machine_check: {resource: xray, service: {dist: exponential, mean: 50}}
  release: {resource: null, service: {dist: deterministic, value: 1}}
risk:
  general: {review: 0.2, inspect_direct: 0.3, detain: 0.1,
            detention_codes: {501: 1, 599: 1}}
flows:
  - name: parcels-9610
    regime: "9610"
    arrivals: {kind: poisson, rate_per_hour: 50}
    transit: {corridor: to-city, share: 1.0}
lock_pools:
  yard: {size: 2}
corridors:
  to-city:
    destination: City
    lock_pool: yard
    truck_capacity: 20
    max_wait: {dist: deterministic, value: 30, unit: min}
    seal: {dist: deterministic, value: 60}
    travel: {dist: exponential, mean: 40, unit: min}
    unseal: {dist: deterministic, value: 30}
    lock_return: {dist: exponential, mean: 40, unit: min}
"""


@pytest.fixture(scope="module")
def site() -> Scenario:
    return parse_scenario(SITE, "sweep-site.yaml")


def test_parse_vary_reads_yaml_scalars() -> None:
    variation = parse_vary("resources.xray.capacity = 1, 2,4")
    assert variation.path == "resources.xray.capacity" and variation.values == (1, 2, 4)
    assert parse_vary("x=0.5,null,true,preempt").values == (0.5, None, True, "preempt")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("resources.xray.capacity", "expected NAME=V1,V2,..."),
        ("=1,2", "expected NAME=V1,V2,..."),
        ("resources.xray.capacity=", "give one or more comma-separated values"),
        ("resources.xray.capacity=1,,2", "give one or more comma-separated values"),
        ("resources.xray.capacity=1,1", "a value is repeated"),
    ],
)
def test_parse_vary_errors(text: str, message: str) -> None:
    with pytest.raises(SweepError, match=message):
        parse_vary(text)


def test_parameter_paths_follow_the_file(site: Scenario) -> None:
    paths = parameter_paths(site)
    for path in (
        "horizon_hours",
        "resources.xray.capacity",
        "resources.officers.schedule.1.capacity",
        "stages.machine_check.service.mean",
        "risk.general.review",
        "risk.general.detention_codes.501",
        "flows.parcels-9610.arrivals.rate_per_hour",
        "lock_pools.yard.size",
        "corridors.to-city.truck_capacity",
    ):
        assert path in paths
    assert not any(p.startswith(("name", "sources", "assumptions")) for p in paths)
    assert "flows.parcels-9610.name" not in paths


def test_apply_overrides_sets_values_and_revalidates(site: Scenario) -> None:
    variant = apply_overrides(
        site,
        {
            "resources.officers.schedule.1.capacity": 7,
            "flows.parcels-9610.arrivals.rate_per_hour": 80,
            "risk.general.detention_codes.501": 3,
            "lock_pools.yard.size": 5,
            "resources.xray.capacity": None,  # unlimited
        },
    )
    assert variant.resources["officers"].schedule is not None
    assert variant.resources["officers"].schedule[1].capacity == 7
    assert variant.flows[0].arrivals.rate_per_hour == 80  # type: ignore[union-attr]
    assert variant.risk["general"].detention_codes == {501: 3.0, 599: 1.0}
    assert variant.lock_pools["yard"].size == 5
    assert variant.resources["xray"].capacity is None
    assert site.lock_pools["yard"].size == 2  # the original is untouched


def test_unknown_path_names_the_valid_ones(site: Scenario) -> None:
    with pytest.raises(SweepError) as caught:
        build_grid(site, [parse_vary("resources.xray_lanes.capacity=1,2")])
    message = str(caught.value)
    assert "unknown parameter 'resources.xray_lanes.capacity'" in message
    assert "did you mean resources.xray.capacity" in message
    assert "resources.xray.capacity, resources.officers.capacity" in message
    assert "--list-params" in message
    with pytest.raises(SweepError, match=r"valid parameters here: .*lock_pools\.\*"):
        build_grid(site, [parse_vary("locks.pool_size=4")])
    with pytest.raises(SweepError, match=r"unknown parameter 'resources\.xray'"):
        apply_overrides(site, {"resources.xray": 3})  # a whole resource is not a scalar


def test_invalid_value_fails_before_running(site: Scenario) -> None:
    with pytest.raises(SweepError, match=r"lock_pools\.yard\.size=0 makes an invalid scenario"):
        build_grid(site, [parse_vary("lock_pools.yard.size=2,0")])
    with pytest.raises(SweepError, match="varied twice"):
        build_grid(site, [parse_vary("horizon_hours=4"), parse_vary("horizon_hours=5")])


def test_grid_is_the_full_product_first_variation_slowest(site: Scenario) -> None:
    points = build_grid(
        site, [parse_vary("resources.xray.capacity=1,2"), parse_vary("lock_pools.yard.size=1,2,3")]
    )
    assert [p.index for p in points] == list(range(6))
    assert [tuple(p.overrides.values()) for p in points] == [
        (1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3),
    ]  # fmt: skip
    assert [p.scenario.lock_pools["yard"].size for p in points] == [1, 2, 3, 1, 2, 3]


def test_a_point_equals_a_plain_run_with_the_same_seed(site: Scenario) -> None:
    points = build_grid(site, [parse_vary("resources.xray.capacity=1,3")])
    results = run_sweep(points, replications=3, seed=42)
    for result in results:
        plain = run(result.point.scenario, 3, seed=42)
        assert json.loads(result.result.to_json()) | {"per_replication": None} == json.loads(
            plain.to_json()
        ) | {"per_replication": None}
        assert [r.kpis for r in result.result.replications] == [r.kpis for r in plain.replications]
    # Common random numbers: the arrivals are the same at every point.
    arrived = [[r.arrived for r in res.result.replications] for res in results]
    assert arrived[0] == arrived[1]
    # And the variation matters: three X-ray lanes wait less than one.
    waits = [res.result.kpis["stage.machine_check.wait.mean"].mean for res in results]
    assert waits[1] < waits[0]


def _kpis(results: list) -> list[str]:  # type: ignore[type-arg]
    return [json.dumps(json.loads(r.result.to_json())["per_replication"]) for r in results]


def test_process_pool_gives_the_same_results_as_inline(site: Scenario) -> None:
    points = build_grid(site, [parse_vary("lock_pools.yard.size=1,2")])
    inline = run_sweep(points, 2, seed=7)
    seen: list[tuple[int, int]] = []
    with ProcessPoolExecutor(2) as pool:
        pooled = run_sweep(
            points, 2, seed=7, executor=pool, progress=lambda d, t: seen.append((d, t))
        )
    strip = [
        {k: v for k, v in r.to_dict().items() if k != "wall_seconds"}
        for p in inline
        for r in p.result.replications
    ]
    strip_pooled = [
        {k: v for k, v in r.to_dict().items() if k != "wall_seconds"}
        for p in pooled
        for r in p.result.replications
    ]
    assert strip == strip_pooled
    assert [s for s, _ in seen] == [1, 2, 3, 4] and {t for _, t in seen} == {4}
