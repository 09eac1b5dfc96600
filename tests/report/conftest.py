"""Runs shared by the report tests: the Ezhou scenario, short horizon, three replications."""

from __future__ import annotations

import pytest

from simulation.paths import find_scenario
from simulation.runner import RunResult, run
from simulation.scenario import Scenario, load_scenario
from simulation.sweep import apply_overrides

# Four hours: two of warm-up, two measured; the evening's drain cut to two hours.
SHORT = {"horizon_hours": 4, "drain_hours": 2}


@pytest.fixture(scope="session")
def ezhou() -> Scenario:
    return apply_overrides(load_scenario(find_scenario("ezhou-huahu")), SHORT)


@pytest.fixture(scope="session")
def ezhou_run(ezhou: Scenario) -> RunResult:
    return run(ezhou, replications=3, seed=11)
