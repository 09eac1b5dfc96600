"""The KPI table (simulation/kpi_table.py) names every KPI a run reports, and no other; the
units and ranges come from it, not from words inside a KPI's name; the documentation's table
is the table."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from simulation.kpi_table import KPIS, STATISTICS, find_kpi, kpi_range, kpi_unit
from simulation.runner import run, run_replication
from simulation.scenario import load_scenario, parse_scenario
from simulation.stats import PERCENTILES
from simulation.sweep import apply_overrides

ROOT = Path(__file__).resolve().parents[2]
SMALL_SITE = Path(__file__).parent / "data" / "small-site.yaml"
# Every feature on (shifts, pre-emption, review and inspection, e-locks, a corridor with
# alarms), and a drain so the drain's KPIs are there too.
SHORT = {"horizon_hours": 10, "drain_hours": 3}


def test_the_table_names_every_kpi_a_run_reports_and_no_other() -> None:
    scenario = apply_overrides(load_scenario(SMALL_SITE), SHORT)
    names = run_replication(scenario, 3).kpis
    matched: set[str] = set()
    for name in names:
        entries = [kpi.name for kpi in KPIS.values() if kpi.pattern.fullmatch(name)]
        assert len(entries) == 1, (name, entries)  # each KPI has exactly one entry
        matched.update(entries)
    assert sorted(set(KPIS) - matched) == []  # and each entry is a KPI the run reports
    assert ("mean", *(f"p{p}" for p in PERCENTILES)) == STATISTICS


# Names a scenario may choose that hold words of other KPIs' names ("share", "queue").
LOOKALIKES = (
    SMALL_SITE.read_text(encoding="utf-8")
    .replace("name: 9610-import", "name: shared-parcels")
    .replace("huahu", "queue")
    .replace("horizon_hours: 48", "horizon_hours: 10\ndrain_hours: 2")
)


def test_a_kpis_unit_and_range_do_not_depend_on_the_scenarios_names() -> None:
    result = run(parse_scenario(LOOKALIKES), replications=2, seed=4)
    cycle = "cycle_time.flow.shared-parcels.mean"
    lock_wait = "locks.queue.wait.mean"
    assert kpi_unit(cycle) == kpi_unit(lock_wait) == "seconds"
    assert kpi_range(cycle) == (0.0, math.inf)
    # A cycle time of tens of seconds: its interval is not cut at 1 as a share's would be.
    estimate = result.kpis[cycle]
    assert estimate.mean > 1.0 and estimate.low <= estimate.mean <= estimate.high
    assert kpi_unit("locks.queue.utilisation") == "share"
    assert kpi_unit("stage.review.queue.mean") == "count"


def test_a_name_the_table_does_not_know_is_not_guessed() -> None:
    assert find_kpi("cycle_time.all.p42") is None
    assert find_kpi("share.of_something_new") is None
    with pytest.raises(KeyError, match=r"not in simulation/kpi_table\.py"):
        kpi_unit("cycle_time.all.p42")


# --- the documentation ------------------------------------------------------------------------


def _meaning(description: str) -> str:
    return re.sub(r" \((mean|median|\d+th percentile)\)$", "", description)


def _documented_table() -> str:
    """The KPI table as docs/simulation.md shows it: a duration's five statistics on one row."""
    lines = ["| name | unit | better | meaning |", "|---|---|---|---|"]
    seen: set[str] = set()
    for kpi in KPIS.values():
        stem, _, last = kpi.name.rpartition(".")
        if last in STATISTICS and all(f"{stem}.{s}" in KPIS for s in STATISTICS):
            if stem in seen:
                continue
            seen.add(stem)
            name = f"{stem}.{{{','.join(STATISTICS)}}}"
        else:
            name = kpi.name
        better = kpi.better or "–"
        lines.append(f"| `{name}` | {kpi.unit} | {better} | {_meaning(kpi.description)} |")
    return "\n".join(lines) + "\n"


def test_the_documentation_lists_the_table() -> None:
    docs = (ROOT / "docs" / "simulation.md").read_text(encoding="utf-8")
    expected = _documented_table()
    assert expected in docs, "docs/simulation.md, 'KPI names', should read:\n" + expected
