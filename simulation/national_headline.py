"""The national day's answers: the nation's demand, throughput and times, and each site's.

``national_headline(result)`` reads a finished ``simulation.national.NationalResult``. The
national numbers are the national KPIs' estimates (``simulation.national_merge`` says how the
sites merge); each site's row is its own run's headline (``simulation.headline``), so a site
reads the same here as in its own report. Demand is the sum of the sites' demand rates (each
site's lodgements after its warm-up per hour of its arrival window).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from simulation.headline import headline
from simulation.national import NationalResult
from simulation.stats import Estimate

_NONE = Estimate(math.nan, math.nan, math.nan, math.nan, math.nan, 0)


@dataclass(frozen=True)
class SiteRow:
    """One site's headline numbers (means over replications)."""

    name: str
    scenario: str  # the site scenario it scales
    scale: float
    parcels: float  # lodged in the day
    demand_per_hour: float
    throughput_per_hour: float
    released_within_target: float
    target_hours: float
    cycle_mean: float  # seconds, lodgement -> release
    cycle_p95: float
    bottleneck: str
    warnings: tuple[str, ...]


@dataclass
class NationalHeadline:
    name: str
    sites: list[SiteRow]
    parcels: float
    demand_per_hour: float
    throughput_per_hour: Estimate
    released_within_target: Estimate
    cycle: dict[str, Estimate]  # cycle_time.all.{mean,p95}, trs.*.mean
    slowest: SiteRow | None  # the lowest share released within its target
    warnings: list[str] = field(default_factory=list)  # each site's, named


def _mean(kpis: dict[str, Estimate], name: str) -> float:
    estimate = kpis.get(name)
    return estimate.mean if estimate is not None and estimate.n else math.nan


def national_headline(result: NationalResult) -> NationalHeadline:
    """The headline of a national run (module docstring)."""
    rows: list[SiteRow] = []
    warnings: list[str] = []
    for site in result.sites:
        assert site.result.plan is not None  # run_national keeps each site's plan
        scenario = site.result.plan.scenario
        head = headline(site.result, scenario)
        kpis = site.result.kpis
        rows.append(
            SiteRow(
                site.entry.name,
                site.entry.scenario_name,
                site.entry.scale,
                site.parcels,
                head.demand_per_hour.mean,
                head.throughput_per_hour.mean,
                _mean(kpis, "released_within_target"),
                scenario.target_hours,
                _mean(kpis, "cycle_time.all.mean"),
                _mean(kpis, "cycle_time.all.p95"),
                head.bottleneck_text(),
                tuple(head.warnings),
            )
        )
        warnings.extend(f"{site.entry.name}: {w}" for w in head.warnings)
    ranked = [r for r in rows if math.isfinite(r.released_within_target)]
    kpis = result.national.kpis
    return NationalHeadline(
        result.name,
        rows,
        result.parcels,
        sum(r.demand_per_hour for r in rows if math.isfinite(r.demand_per_hour)),
        kpis.get("throughput_per_hour", _NONE),
        kpis.get("released_within_target", _NONE),
        {
            name: kpis[name]
            for name in (
                "cycle_time.all.mean",
                "cycle_time.all.p95",
                "trs.to_decision.mean",
                "trs.decision_to_release.mean",
            )
            if name in kpis
        },
        min(ranked, key=lambda r: r.released_within_target) if ranked else None,
        warnings,
    )
