"""The scenario loader: valid files load; broken ones name file, line and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulation.durations import Exponential, mean_seconds
from simulation.scenario import (
    ScenarioError,
    load_scenario,
    parse_scenario,
    scenario_json_schema,
)

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]

MINIMAL = """\
name: mm1
horizon_hours: 10
resources:
  server: {capacity: 1}
stages:
  audit: {resource: server, service: {dist: exponential, mean: 1, unit: min}}
flows:
  - name: parcels
    channel: express
    arrivals: {kind: poisson, rate_per_hour: 30}
risk:
  general: {}
"""


def test_small_site_loads_with_every_feature() -> None:
    scenario = load_scenario(DATA / "small-site.yaml")
    assert [f.name for f in scenario.flows] == ["9610-import", "1210-import", "b2b-9710", "mail"]
    assert scenario.flows[3].label == "mail"
    assert scenario.flows[2].label == "9710-export"
    assert scenario.resources["officers"].schedule is not None
    assert scenario.corridors["to-wuhan"].lock_pool == "huahu"
    assert scenario.sources and scenario.assumptions


def test_minimal_mm1_parses_and_units_convert() -> None:
    scenario = parse_scenario(MINIMAL)
    audit = scenario.stages.audit
    assert audit is not None and isinstance(audit.service, Exponential)
    assert mean_seconds(audit.service) == 60.0
    assert scenario.stages.review is None


def _error(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "site.yaml")
    return info.value


def test_bad_value_names_file_line_and_field() -> None:
    error = _error(MINIMAL.replace("mean: 1, unit: min", "mean: -1, unit: min"))
    assert error.file == "site.yaml"
    assert error.line == 6
    assert error.field == "stages.audit.service.exponential.mean"
    assert "greater than 0" in str(error)
    assert str(error).startswith("site.yaml:6: stages.audit.service.exponential.mean:")


def test_unknown_key_is_an_error_on_its_line() -> None:
    error = _error(MINIMAL.replace("  server: {capacity: 1}", "  server: {capacity: 1, lanes: 2}"))
    assert error.line == 4
    assert error.field == "resources.server.lanes"


def test_error_inside_a_list_item() -> None:
    text = MINIMAL.replace("rate_per_hour: 30", "rate_per_hour: lots")
    error = _error(text)
    assert error.line == 10
    assert error.field.startswith("flows.0.arrivals.poisson.rate_per_hour")


def test_missing_field_points_at_its_parent() -> None:
    error = _error(MINIMAL.replace("horizon_hours: 10\n", ""))
    assert error.field == "horizon_hours"
    assert "Field required" in error.message


def test_cross_reference_errors_are_clear() -> None:
    error = _error(MINIMAL.replace("resource: server", "resource: officers"))
    assert "unknown resource 'officers'" in str(error)


def test_yaml_syntax_error_has_a_line() -> None:
    error = _error(MINIMAL.replace("  server: {capacity: 1}", "  server: {capacity: 1"))
    assert error.line is not None and error.line >= 4
    assert "not valid YAML" in str(error)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read the file"):
        load_scenario(tmp_path / "absent.yaml")


def test_bad_trace_is_reported_when_the_scenario_loads(tmp_path: Path) -> None:
    (tmp_path / "trace.csv").write_text("time,credit_class\n1,aeo\n2,platinum\n")
    text = MINIMAL.replace(
        "arrivals: {kind: poisson, rate_per_hour: 30}", "arrivals: {kind: trace, file: trace.csv}"
    )
    (tmp_path / "site.yaml").write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "site.yaml")
    assert info.value.file.endswith("trace.csv")
    assert info.value.line == 3
    assert info.value.field == "credit_class"


def test_committed_json_schema_is_current() -> None:
    committed = REPO / "scenarios" / "scenario.schema.json"
    current = scenario_json_schema()
    assert json.loads(committed.read_text(encoding="utf-8")) == current, (
        "regenerate with: danchuang simulate --schema > scenarios/scenario.schema.json"
    )
    assert "flows" in current["properties"]


def test_trace_credit_class_needs_a_risk_profile(tmp_path: Path) -> None:
    (tmp_path / "trace.csv").write_text("time,credit_class\n1,general\n2,aeo\n")
    text = MINIMAL.replace(
        "arrivals: {kind: poisson, rate_per_hour: 30}", "arrivals: {kind: trace, file: trace.csv}"
    )
    (tmp_path / "site.yaml").write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "site.yaml")
    assert (info.value.line, info.value.field) == (3, "credit_class")
    assert "no risk profile for 'aeo'" in str(info.value)
