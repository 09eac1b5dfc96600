"""The national day: every site of a national file run as one job, merged into national KPIs.

Public API::

    run_national(national, *, replications=None, seed=None, executor=None, progress=None)
        -> NationalResult
    site_seed(seed, site, index, offset=0) -> numpy.random.SeedSequence
    NationalResult.national   # a RunResult: national KPIs, t-intervals over replications
    NationalResult.sites      # one SiteRun per site: its own RunResult, as ``simulate`` gives

**Tasks.** One task per (site, replication), submitted site by site in the file's order (list
the largest sites first, so that none is left to run alone at the end), on any
``concurrent.futures.Executor``: local processes or a Dask client's executor, as the capacity
planner and sweeps use them (``simulation.sweep.local_executor``, ``dask_executor``); ``None``
runs them one after another in this process. A task sends back its replication's
``ReplicationResult`` and a ``Digest`` (``simulation.national_merge``), both small: the model
and its declarations stay in the worker and are dropped when the task ends, so a worker holds
one site at a time, and the model itself keeps no declaration after it leaves.

**Seeds.** Replication *i* of site *k* draws from
``SeedSequence(seed + seed_offset_k, spawn_key=(k, i))`` (``site_seed``): it depends on the
seed, the site's place in the file and *i*, never on the worker or the executor, so local
processes and Dask give identical results.

**Statistics.** Each site is summarised as a single-site run is (``runner.summarise``). The
national KPIs of replication *i* merge the sites' replication *i* (``national_merge``: totals
summed, means and shares weighted by their counts, percentiles of the pooled observations);
across replications they get the same Student-t intervals as a site's KPIs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulation.model import ClearanceModel
from simulation.national_file import National, SiteEntry
from simulation.national_merge import Digest, digest, merge, national_kpis
from simulation.plan import RunPlan, plan_run
from simulation.runner import ReplicationResult, RunResult, run_replication, summarise

FORMAT = "danchuang-national"
FORMAT_VERSION = 1


@dataclass
class SiteRun:
    """One site of the national day and its run."""

    entry: SiteEntry
    result: RunResult  # with its plan: the site's scenario as run

    @property
    def parcels(self) -> float:
        """Declarations lodged in the day (the whole arrival window), mean over replications."""
        return float(np.mean([r.arrived for r in self.result.replications]))


@dataclass
class NationalResult:
    name: str
    seed: int
    national: RunResult  # the national KPIs (no series)
    sites: list[SiteRun]
    wall_seconds: float  # informational only; never asserted

    @property
    def parcels(self) -> float:
        return sum(site.parcels for site in self.sites)

    def to_json_dict(self) -> dict[str, Any]:
        """The national result as ``danchuang national --json`` writes it (NaN as null)."""
        national = self.national.to_json_dict()
        national.pop("series", None)
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "name": self.name,
            "seed": self.seed,
            "replications": len(self.national.replications),
            "parcels": self.parcels,
            "national": national,
            "sites": [
                {
                    "name": s.entry.name,
                    "scenario": s.entry.scenario_name,
                    "scale": s.entry.scale,
                    "seed_offset": s.entry.seed_offset,
                    "parcels": s.parcels,
                    "result": s.result.to_json_dict(),
                }
                for s in self.sites
            ],
        }


def site_seed(seed: int, site: int, index: int, offset: int = 0) -> np.random.SeedSequence:
    """The seed of replication ``index`` of the site at position ``site`` (module docstring)."""
    return np.random.SeedSequence(seed + offset, spawn_key=(site, index))


def _site_task(
    plan: RunPlan, seed: np.random.SeedSequence, site: int, index: int
) -> tuple[int, ReplicationResult, Digest]:
    # Module-level so that process pools and Dask pickle it by reference. The model stays in
    # this function: only the replication's summary and its digest go back.
    taken: list[Digest] = []

    def take(model: ClearanceModel) -> None:
        taken.append(digest(model))

    result = run_replication(plan, seed, index=index, inspect=take)
    (found,) = taken
    found.add_kpis(result.kpis)
    return site, result, found


def _national_replication(index: int, parts: list[tuple[ReplicationResult, Digest]]) -> Any:
    finished: dict[int, int] = {}
    for result, _ in parts:
        for status, count in result.finished.items():
            finished[status] = finished.get(status, 0) + count
    return ReplicationResult(
        index=index,
        kpis=national_kpis(merge(d for _, d in parts)),
        series={},
        series_times_h=[],
        arrived=sum(r.arrived for r, _ in parts),
        finished=finished,
        in_system=sum(r.in_system for r, _ in parts),
        unreleased=sum(r.unreleased for r, _ in parts),
        conservation_ok=all(r.conservation_ok for r, _ in parts),
        events=sum(r.events for r, _ in parts),
        wall_seconds=sum(r.wall_seconds for r, _ in parts),
    )


def run_national(
    national: National,
    *,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> NationalResult:
    """Run every site's replications as one job and merge them (module docstring).
    ``replications`` and ``seed`` default to the file's."""
    started = time.perf_counter()
    replications = national.replications if replications is None else replications
    seed = national.seed if seed is None else seed
    if replications < 1:
        raise ValueError("replications must be at least 1")
    plans = [plan_run(site.scenario, national.horizon_hours) for site in national.sites]
    tasks = [
        (plans[k], site_seed(seed, k, i, site.seed_offset), k, i)
        for k, site in enumerate(national.sites)
        for i in range(replications)
    ]
    done: list[list[tuple[ReplicationResult, Digest]]] = [[] for _ in national.sites]

    def collect(site: int, result: ReplicationResult, found: Digest) -> None:
        done[site].append((result, found))
        if progress is not None:
            progress(sum(len(d) for d in done), len(tasks))

    if executor is None:
        for task in tasks:
            collect(*_site_task(*task))
    else:
        futures = [executor.submit(_site_task, *task) for task in tasks]
        for future in as_completed(futures):
            collect(*future.result())
    sites = [
        SiteRun(entry, summarise(entry.name, seed, [r for r, _ in done[k]], plans[k]))
        for k, entry in enumerate(national.sites)
    ]
    by_index = [
        _national_replication(i, [part for parts in done for part in parts if part[0].index == i])
        for i in range(replications)
    ]
    return NationalResult(
        national.name,
        seed,
        summarise(national.name, seed, by_index),
        sites,
        time.perf_counter() - started,
    )
