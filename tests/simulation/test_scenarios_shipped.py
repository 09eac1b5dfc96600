"""Every shipped scenario loads, says where its numbers come from, and runs with the
conservation check (arrived = finished + in system) true in every replication."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from simulation.paths import scenarios_root
from simulation.runner import run
from simulation.scenario import Scenario, load_scenario

ROOT = scenarios_root()
SITES = sorted(ROOT.glob("*.yaml"))
VALIDATION = sorted((ROOT / "validation").glob("*.yaml"))
EXPECTED_SITES = {
    "ezhou-huahu",
    "alashankou",
    "yueyang-chenglingji",
    "huzhou-export-park",
    "chenzhou-six-in-one",
}


def ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def short(scenario: Scenario) -> float:
    """A horizon long enough to get past the warm-up and the first batches, short enough to
    run every file in a few seconds."""
    return scenario.warmup_hours + 4.0


def test_the_expected_files_are_shipped() -> None:
    assert {p.stem for p in SITES} >= EXPECTED_SITES
    assert {"mm1", "mmc", "open-network"} <= {p.stem for p in VALIDATION}


def test_readme_lists_every_scenario() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in SITES + VALIDATION:
        assert path.relative_to(ROOT).as_posix() in readme, path


@pytest.mark.parametrize("path", SITES, ids=ids(SITES))
def test_site_states_its_sources_and_assumptions(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.description
    assert len(scenario.sources) >= 3
    for source in scenario.sources:
        assert source.claim.strip()
        cited = source.source
        assert "http" in cited or "CEB spec 202205 §" in cited, cited
    assert scenario.assumptions, "every site lists the numbers that are assumptions"


@pytest.mark.parametrize("path", SITES + VALIDATION, ids=ids(SITES) + ids(VALIDATION))
def test_scenario_runs_and_conserves_declarations(path: Path) -> None:
    scenario = load_scenario(path)
    result = run(scenario, 2, 20261122, horizon_hours=short(scenario))
    assert len(result.replications) == 2
    for replication in result.replications:
        assert replication.arrived > 0
        assert replication.conservation_ok
        assert replication.arrived == sum(replication.finished.values()) + replication.in_system
        assert replication.events > replication.arrived
    throughput = result.kpis["throughput_per_hour"]
    assert math.isfinite(throughput.mean) and throughput.mean > 0


@pytest.mark.slow
@pytest.mark.parametrize("path", SITES, ids=ids(SITES))
def test_site_full_horizon_is_sane(path: Path) -> None:
    """One replication over the file's own horizon: conserved, mostly released, and no pool
    saturated on average (a site file describes a working site, not a collapse)."""
    scenario = load_scenario(path)
    result = run(scenario, 1, 7)
    replication = result.replications[0]
    assert replication.conservation_ok
    assert replication.finished.get(899, 0) / replication.arrived > 0.9  # closed by the end
    for key, value in replication.kpis.items():
        if key.startswith("resource.") and key.endswith(".utilisation"):
            assert value < 0.95, (key, value)
    assert 0.5 < replication.kpis["released_within_target"] <= 1.0
