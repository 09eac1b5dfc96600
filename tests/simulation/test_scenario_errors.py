"""A scenario file with several errors shows every one, each with file, line and field (in
the file's order), not the first and "(and 2 more errors)"."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from simulation.scenario import ScenarioError, load_scenario
from simulation.sweep import SweepError, apply_overrides

SITE = Path(__file__).parent / "data" / "small-site.yaml"


def _three_errors(tmp_path: Path) -> tuple[Path, list[tuple[int, str]]]:
    """small-site with three bad values; the (line, field) of each, in the file's order."""
    text = SITE.read_text(encoding="utf-8")
    text = text.replace("horizon_hours: 48", "horizon_hours: -48")
    text = text.replace("rate_per_hour: 300", "rate_per_hour: -300")
    text = text.replace("credit_mix: {general: 1}", "credit_mix: {general: 1, platinum: 1}", 1)
    bad = tmp_path / "three-errors.yaml"
    bad.write_text(text, encoding="utf-8")
    lines = text.splitlines()

    def line_of(fragment: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if fragment in line)

    return bad, [
        (line_of("horizon_hours: -48"), "horizon_hours"),
        (line_of("rate_per_hour: -300"), "flows.0.arrivals.poisson.rate_per_hour"),
        (line_of("platinum"), "flows.2.credit_mix.platinum"),
    ]


def test_every_error_is_reported_with_its_line_and_field(tmp_path: Path) -> None:
    bad, expected = _three_errors(tmp_path)
    with pytest.raises(ScenarioError) as info:
        load_scenario(bad)
    problems = info.value.problems
    assert [(p.line, p.field) for p in problems] == expected
    assert all(p.file == str(bad) for p in problems)
    # The first problem is also the error's own file/line/field, as for a single error.
    assert (info.value.line, info.value.field) == expected[0]
    lines = str(info.value).splitlines()
    assert [line.split(": ")[:2] for line in lines] == [
        [f"{bad}:{line}", field] for line, field in expected
    ]
    assert "more error" not in str(info.value)


def test_simulate_prints_each_error_on_its_own_line(tmp_path: Path) -> None:
    bad, expected = _three_errors(tmp_path)
    result = CliRunner().invoke(cli, ["simulate", str(bad)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == len(expected)
    for text, (line, field) in zip(lines, expected, strict=True):
        assert text.startswith(f"danchuang simulate: {bad}:{line}: {field}: "), text
    assert "Traceback" not in result.output


def test_a_sweep_variant_with_several_errors_names_them_all() -> None:
    spec = load_scenario(SITE)
    overrides = {"horizon_hours": -1, "warmup_hours": -1}
    with pytest.raises(SweepError) as info:
        apply_overrides(spec, overrides)
    message = str(info.value)
    assert "horizon_hours=-1, warmup_hours=-1 makes an invalid scenario" in message
    assert "horizon_hours: Input should be greater than 0" in message
    assert "warmup_hours: Input should be greater than or equal to 0" in message
