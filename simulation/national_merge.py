"""What a site's replication hands to the national merge, and the merge itself.

``digest(model)`` reads a finished model (in the worker, before it is dropped) into a
``Digest``: small, whatever the site's volume. ``merge(digests)`` adds the digests of the sites'
same-numbered replications, and ``national_kpis(merged)`` turns the sum into the national
KPIs of that replication, named as a site's are (``simulation.kpi_table``). The rule:

- **totals** — counts, rates and daily costs add up over the sites: ``throughput_per_hour``,
  ``arrived_after_warmup``, ``drain.released``, ``drain.throughput_per_hour``,
  ``stage.STAGE.served``, ``stage.STAGE.queue.mean`` (the national waiting line), and
  ``cost.staff_hours``, ``cost.equipment_hours``, ``cost.per_day`` when every site is costed;
- **means and shares** — weighted by their counts, exactly (the sum of the observations over
  the sum of the counts): ``….mean`` of the cycle-time, end-to-end, TRS and stage
  distributions, ``stage.STAGE.wait.mean``, ``released_within_target`` (each site's releases
  within its own ``target_hours``, over its eligible declarations), ``share.review``,
  ``share.inspection``; ``cost.per_declaration`` is the national cost a day over the national
  releases a day;
- **percentiles** (p50 … p99) of the pooled observations, as ``numpy.percentile`` defines
  them, from log-spaced histograms with bins 1 % wide (``EDGES``): within 1 % of the exact
  percentile of all the sites' observations together (values under 1 ms within 1 ms);
- **by regime**: ``cycle_time.regime.LABEL.*`` pools every site's flows of that regime.

Pool, corridor and lock KPIs belong to their site and are not merged (the site results keep
them). Nothing here depends on which process ran a site.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from simulation.runtime import PathCounts
from simulation.stats import PERCENTILES

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from simulation.model import ClearanceModel

EDGES = np.concatenate(([0.0], np.geomspace(1e-3, 1e8, int(math.log(1e11) / math.log(1.01)))))
"""Histogram bin edges in seconds: 0, then 1 ms to about three years, each bin 1 % wide."""

_ADDED = {
    "throughput_per_hour",
    "arrived_after_warmup",
    "drain.released",
    "drain.throughput_per_hour",
}
_COSTS = ("cost.staff_hours", "cost.equipment_hours", "cost.per_day")


@dataclass
class Digest:
    """One replication of one site (or their sum): totals, (sum, count) tallies for exact
    means and shares, and histograms for percentiles."""

    totals: dict[str, float] = field(default_factory=dict)
    tallies: dict[str, tuple[float, float]] = field(default_factory=dict)
    histograms: dict[str, np.ndarray] = field(default_factory=dict)
    sites: int = 1
    costed: int = 0  # of the sites, those with a costs: section

    def add_samples(self, name: str, values: Sequence[float] | np.ndarray) -> None:
        data = np.asarray(values, dtype=float)
        self.tally(f"{name}.mean", float(data.sum()), float(data.size))
        counts, _ = np.histogram(np.clip(data, 0.0, EDGES[-1]), bins=EDGES)
        old = self.histograms.get(name)
        self.histograms[name] = counts if old is None else old + counts

    def tally(self, name: str, total: float, count: float) -> None:
        old = self.tallies.get(name, (0.0, 0.0))
        self.tallies[name] = (old[0] + total, old[1] + count)

    def add_kpis(self, kpis: dict[str, float]) -> None:
        """Take the totals that are KPIs already (``simulation.kpis``) from a site's KPIs."""
        for name, value in kpis.items():
            if name in _ADDED or (name.startswith("stage.") and name.endswith(".queue.mean")):
                self.totals[name] = value
        if all(name in kpis for name in _COSTS):
            self.totals.update({name: kpis[name] for name in _COSTS})
            self.costed = 1


def digest(model: ClearanceModel) -> Digest:
    """The observations of a finished replication (its KPIs are added with ``add_kpis``)."""
    out = Digest()
    out.tally("released_within_target", model.released_in_target, model.target_eligible)
    by_label: dict[str, list[np.ndarray]] = {}
    for flow in model.flows:
        by_label.setdefault(flow.label, []).append(np.asarray(flow.cycle, dtype=float))
    for label, parts in by_label.items():
        out.add_samples(f"cycle_time.regime.{label}", np.concatenate(parts))
    for name, attribute in (
        ("cycle_time.all", "cycle"),
        ("end_to_end.all", "end_to_end"),
        ("trs.to_decision", "to_decision"),
        ("trs.decision_to_release", "decision_to_release"),
    ):
        arrays = [np.asarray(getattr(f, attribute), dtype=float) for f in model.flows]
        out.add_samples(name, np.concatenate(arrays) if arrays else np.empty(0))
    for stage_name, stage in model.stages.items():
        prefix = f"stage.{stage_name.value}"
        out.totals[f"{prefix}.served"] = float(len(stage.sojourn))
        out.add_samples(f"{prefix}.sojourn", stage.sojourn)
        waits = np.asarray(stage.waits, dtype=float)
        out.tally(f"{prefix}.wait.mean", float(waits.sum()), float(waits.size))
    paths = PathCounts()
    for flow in model.flows:
        for counts in flow.path_counts:
            paths.add(counts)
    out.tally("share.review", paths.reviewed, paths.decided)
    out.tally("share.inspection", paths.inspected, paths.decided)
    return out


def merge(digests: Iterable[Digest]) -> Digest:
    """The sum of ``digests`` (the sites' same-numbered replications)."""
    out = Digest(sites=0)
    for part in digests:
        out.sites += part.sites
        out.costed += part.costed
        for name, value in part.totals.items():
            out.totals[name] = out.totals.get(name, 0.0) + value
        for name, (total, count) in part.tallies.items():
            out.tally(name, total, count)
        for name, counts in part.histograms.items():
            old = out.histograms.get(name)
            out.histograms[name] = counts.copy() if old is None else old + counts
    return out


def percentile(counts: np.ndarray, q: float) -> float:
    """The ``q``-th percentile of the observations histogrammed in ``counts`` (over
    ``EDGES``), as ``numpy.percentile`` defines it (linear between the order statistics around
    rank q/100 · (n − 1)), each order statistic placed evenly within its bin; NaN without
    observations."""
    total = int(counts.sum())
    if total == 0:
        return math.nan
    cumulative = np.cumsum(counts)
    rank = q / 100.0 * (total - 1)
    below = math.floor(rank)

    def order_statistic(k: int) -> float:
        index = int(np.searchsorted(cumulative, k + 1, side="left"))
        before = float(cumulative[index - 1]) if index > 0 else 0.0
        fraction = (k - before + 0.5) / float(counts[index])
        low, high = float(EDGES[index]), float(EDGES[index + 1])
        return low + fraction * (high - low)

    value = order_statistic(below)
    if rank > below:
        value += (rank - below) * (order_statistic(below + 1) - value)
    return value


def national_kpis(merged: Digest) -> dict[str, float]:
    """The national KPIs of one replication from the merged digest (the module's rule)."""
    sites_costed = merged.costed == merged.sites
    kpis = {
        name: value for name, value in merged.totals.items() if sites_costed or name not in _COSTS
    }
    for name, (total, count) in merged.tallies.items():
        kpis[name] = total / count if count > 0 else math.nan
    for name, counts in merged.histograms.items():
        for p in PERCENTILES:
            kpis[f"{name}.p{p}"] = percentile(counts, p)
    if sites_costed and "cost.per_day" in kpis:
        releases_a_day = kpis["throughput_per_hour"] * 24.0
        kpis["cost.per_declaration"] = (
            kpis["cost.per_day"] / releases_a_day if releases_a_day > 0 else math.nan
        )
    return dict(sorted(kpis.items()))
