"""Parameter sweeps: a grid of scenario variants, each run with the same replication seeds.

Public API::

    parse_vary("resources.xray_lanes.capacity=1,2,4") -> Variation   # SweepError if malformed
    parameter_paths(scenario) -> list[str]           # every dotted path a sweep may vary
    apply_overrides(scenario, {path: value}) -> Scenario              # SweepError if invalid
    build_grid(scenario, variations) -> list[GridPoint]               # every variant, checked
    run_sweep(points, replications, seed, *, executor=None, progress=None) -> list[PointResult]
    local_executor(workers) / dask_executor(address)  # context managers yielding an Executor

**Paths** follow the scenario file: mapping keys joined by dots, and list items by the item's
``name`` where it has one (flows) or else by position. So ``resources.xray_lanes.capacity``,
``lock_pools.huahu.size``, ``flows.export-9610.arrivals.rate_per_hour``,
``stages.machine_check.service.mean``, ``resources.inspectors.schedule.1.capacity``.

**Seeds.** Replication *i* of every grid point draws from
``numpy.random.SeedSequence(seed, spawn_key=(i,))``, which is
``SeedSequence(seed).spawn(replications)[i]`` — the seeds ``runner.run`` uses — so a point's
result depends on (scenario, overrides, seed, i) only, never on which worker ran it, and
variants share common random numbers (their differences are sharper).

**Executors** are plain ``concurrent.futures.Executor`` objects: a ``ProcessPoolExecutor`` on
local cores, or a Dask client's ``get_executor(pure=False)`` (Dask is the optional ``dask``
extra, imported only when asked for). Every (point, replication) pair is one task, so a
cluster is kept busy even when the grid is small and replications are many.
"""

from __future__ import annotations

import difflib
import importlib
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from simulation.plan import RunPlan, plan_run
from simulation.runner import ReplicationResult, RunResult, run_replication, summarise
from simulation.scenario import Scenario, field_path

Scalar = bool | int | float | str | None


class SweepError(ValueError):
    """A sweep that cannot run (bad ``--vary``, an invalid variant); ``str()`` says why."""


@dataclass(frozen=True)
class Variation:
    """One varied parameter: a dotted path and the values it takes."""

    path: str
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class GridPoint:
    index: int
    overrides: dict[str, Scalar]
    scenario: Scenario


@dataclass
class PointResult:
    point: GridPoint
    result: RunResult = field(repr=False)


# --- paths ---------------------------------------------------------------------------------


def _item_key(item: Any, position: int) -> str:
    """How a list item is addressed: its ``name`` if it has one (flows), else its position."""
    if isinstance(item, Mapping) and isinstance(item.get("name"), str):
        return str(item["name"])
    return str(position)


def path_children(node: Any) -> Iterator[tuple[str, Any]]:
    """The (key, value) children of a scenario's data as ``--vary`` paths name them: mapping
    keys, and list items by their ``name`` (else their position). The report's parameter table
    names parameters the same way."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield str(key), value
    elif isinstance(node, list):
        for position, item in enumerate(node):
            yield _item_key(item, position), item


def _leaves(node: Any, prefix: str) -> Iterator[str]:
    children = list(path_children(node))
    if not children and prefix:
        yield prefix
    for key, value in children:
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping | list) and value:
            yield from _leaves(value, path)
        else:
            yield path


# Free text and provenance: varying these changes no result.
_NOT_PARAMETERS = ("name", "description", "sources", "assumptions")


def parameter_paths(scenario: Scenario) -> list[str]:
    """Every dotted path of a scalar in the scenario (what ``--vary`` may name)."""
    data = scenario.model_dump(mode="json")
    return [
        path
        for path in _leaves(data, "")
        if path.split(".")[0] not in _NOT_PARAMETERS and not path.endswith(".name")
    ]


def _unknown_path(path: str, valid: list[str]) -> SweepError:
    # Name the paths that share the longest valid prefix, so the planner sees the choices
    # at the point where the typo is (e.g. every resource when the resource name is wrong).
    parts = path.split(".")
    near: list[str] = []
    for cut in range(len(parts) - 1, -1, -1):
        prefix = ".".join(parts[:cut])
        near = [p for p in valid if not prefix or p.startswith(prefix + ".")]
        if near:
            break
    close = difflib.get_close_matches(path, valid, n=3, cutoff=0.6)
    if len(near) > 25:  # too many leaves: name the groups one level down instead
        depth = len(prefix.split(".")) + 1 if prefix else 1
        groups = [
            ".".join(p.split(".")[:depth]) + (".*" if p.count(".") >= depth else "") for p in near
        ]
        near = list(dict.fromkeys(groups))
    message = f"unknown parameter {path!r}"
    if close:
        message += f"; did you mean {', '.join(close)}?"
    message += "\nvalid parameters here: " + ", ".join(near)
    message += " (list every one with --list-params)"
    return SweepError(message)


def _set(data: Any, parts: list[str], value: Scalar) -> bool:
    """Set the value at ``parts`` inside the dumped scenario; False if the path is not there."""
    node = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, dict):
            key = next((k for k in node if str(k) == part), None)
            if key is None:
                return False
            if last:
                if isinstance(node[key], dict | list) and node[key]:
                    return False  # a whole sub-tree is not a scalar parameter
                node[key] = value
                return True
            node = node[key]
        elif isinstance(node, list):
            position = next((i for i, item in enumerate(node) if _item_key(item, i) == part), None)
            if position is None or last:
                return False
            node = node[position]
        else:
            return False
    return False


def apply_overrides(scenario: Scenario, overrides: Mapping[str, Scalar]) -> Scenario:
    """A copy of ``scenario`` with each dotted path set to its value, validated again."""
    if not overrides:
        return scenario
    data = scenario.model_dump(mode="python")
    for path, value in overrides.items():
        if not _set(data, path.split("."), value):
            raise _unknown_path(path, parameter_paths(scenario))
    try:
        variant = Scenario.model_validate(data)
    except ValidationError as exc:
        setting = ", ".join(f"{k}={v}" for k, v in overrides.items())
        problems = "; ".join(dict.fromkeys(f"{field_path(e)}: {e['msg']}" for e in exc.errors()))
        raise SweepError(f"{setting} makes an invalid scenario: {problems}") from None
    # Trace files are found relative to the original file's folder.
    variant._base_dir = scenario._base_dir
    variant._traces = scenario._traces  # keyed by file: a variant naming another reads it
    return variant


# --- --vary and the grid -------------------------------------------------------------------


def _scalar(text: str) -> Scalar:
    """A value as YAML reads it: ``4`` → 4, ``0.5`` → 0.5, ``null`` → None, else the text."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return text


def parse_vary(text: str) -> Variation:
    """``NAME=V1,V2,...`` → a ``Variation`` (values parsed as YAML scalars)."""
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise SweepError(
            f"--vary {text!r}: expected NAME=V1,V2,... (e.g. lock_pools.huahu.size=4,8)"
        )
    items = [v.strip() for v in values.split(",")]
    if not values.strip() or any(not v for v in items):
        raise SweepError(f"--vary {text!r}: give one or more comma-separated values after '='")
    parsed = tuple(_scalar(v) for v in items)
    if len(set(map(repr, parsed))) != len(parsed):
        raise SweepError(f"--vary {text!r}: a value is repeated")
    return Variation(name, parsed)


def build_grid(scenario: Scenario, variations: Sequence[Variation]) -> list[GridPoint]:
    """The full factorial grid, first variation slowest; every variant is validated now, so
    a bad value fails before anything runs."""
    paths = [v.path for v in variations]
    if len(set(paths)) != len(paths):
        raise SweepError("a parameter is varied twice; give all its values in one --vary")
    valid = parameter_paths(scenario)
    known = set(valid)
    for path in paths:
        if path not in known:
            raise _unknown_path(path, valid)
    points = []
    for index, values in enumerate(itertools.product(*(v.values for v in variations))):
        overrides = dict(zip(paths, values, strict=True))
        points.append(GridPoint(index, overrides, apply_overrides(scenario, overrides)))
    return points


# --- running -------------------------------------------------------------------------------


def replication_seed(seed: int, index: int) -> np.random.SeedSequence:
    """The seed of replication ``index``: equal to ``SeedSequence(seed).spawn(n)[index]``.

    Built afresh for every task because the model spawns its samplers' streams from it, which
    advances the object: a SeedSequence reused for a second grid point would give new numbers.
    """
    return np.random.SeedSequence(seed, spawn_key=(index,))


def _replicate(plan: RunPlan, seed: int, point: int, index: int) -> tuple[int, ReplicationResult]:
    # Module-level so that process pools and Dask can pickle it by reference; only the plan
    # (the scenario and its traces) and plain numbers cross to the worker, so nothing it does
    # can leak into another task.
    return point, run_replication(plan, replication_seed(seed, index), index=index)


def run_sweep(
    points: Sequence[GridPoint],
    replications: int,
    seed: int,
    *,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[PointResult]:
    """Run every (point, replication) pair; ``None`` runs them in this process in order."""
    if replications < 1:
        raise ValueError("replications must be at least 1")
    tasks = [(p, i) for p in range(len(points)) for i in range(replications)]
    done: dict[int, list[ReplicationResult]] = {p: [] for p in range(len(points))}
    total = len(tasks)

    def collect(point: int, result: ReplicationResult) -> None:
        done[point].append(result)
        if progress is not None:
            progress(sum(len(r) for r in done.values()), total)

    plans = [plan_run(point.scenario) for point in points]  # traces read once per point
    if executor is None:
        for p, i in tasks:
            collect(*_replicate(plans[p], seed, p, i))
    else:
        futures = [executor.submit(_replicate, plans[p], seed, p, i) for p, i in tasks]
        for future in as_completed(futures):
            collect(*future.result())
    return [
        PointResult(point, summarise(point.scenario.name, seed, done[p], plans[p]))
        for p, point in enumerate(points)
    ]


@contextmanager
def local_executor(workers: int) -> Iterator[Executor | None]:
    """Local processes; ``workers == 1`` runs in this process (no pool at all)."""
    if workers <= 1:
        yield None
        return
    pool = ProcessPoolExecutor(workers)
    try:
        yield pool
    except BaseException:
        # Ctrl-C or a failed task: drop the queued replications instead of waiting for them.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


@contextmanager
def dask_executor(address: str, timeout_s: float = 10.0) -> Iterator[Executor]:
    """An executor on the Dask scheduler at ``address`` (``HOST:PORT`` or ``tcp://HOST:PORT``);
    ``SweepError`` if none answers within ``timeout_s``.

    ``pure=False``: Dask would otherwise treat equal-looking calls as one task and run it once.
    """
    try:
        distributed = importlib.import_module("distributed")
    except ImportError:
        raise SweepError(
            "the Dask executor needs dask.distributed: pip install 'danchuang[dask]'"
        ) from None
    target = address if "://" in address else f"tcp://{address}"
    try:
        client = distributed.Client(target, timeout=f"{timeout_s}s")
    except OSError as exc:
        raise SweepError(f"cannot reach the Dask scheduler at {target}: {exc}") from None
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
