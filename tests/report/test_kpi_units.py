"""Values read in their KPI's unit, from the KPI table, whatever words the scenario's own names
hold: a flow called "shared-parcels" has cycle times in seconds, not a share."""

from __future__ import annotations

from pathlib import Path

import lxml.html
from typer.testing import CliRunner

from app.cli import cli
from app.report import render_report
from app.report.format import format_value, headline
from simulation.runner import run
from simulation.scenario import parse_scenario

SMALL_SITE = Path(__file__).parents[1] / "simulation" / "data" / "small-site.yaml"
# Names holding words of other KPIs' names: "share" (shares) and "queue" (counts).
LOOKALIKES = (
    SMALL_SITE.read_text(encoding="utf-8")
    .replace("name: 9610-import", "name: shared-parcels")
    .replace("huahu", "queue")
    .replace("horizon_hours: 48", "horizon_hours: 8")
)


def test_values_read_in_the_units_of_the_kpi_table() -> None:
    assert format_value("cycle_time.flow.shared-parcels.mean", 90.0) == "90.0 s"
    assert format_value("locks.queue.wait.mean", 300.0) == "5.0 min"
    assert format_value("locks.queue.utilisation", 0.5) == "50.0 %"
    assert format_value("stage.review.queue.max", 1234.0) == "1,234.00"
    assert format_value("throughput_per_hour", 12.5) == "12.50"
    # A name the table does not know (a file from another version) is a plain number.
    assert format_value("share.of_something_new", 0.25) == "0.25"
    assert format_value("cycle_time.all.mean", None) == "–"


def test_headline_kpis_are_the_tables() -> None:
    assert headline("locks.queue.wait.mean") and headline("stage.review.wait.mean")
    assert not headline("cycle_time.flow.shared-parcels.mean")
    assert not headline("locks.queue.wait.p50") and not headline("share.of_something_new")


def test_the_report_and_compare_show_a_lookalike_flows_cycle_time_in_seconds(
    tmp_path: Path,
) -> None:
    scenario = parse_scenario(LOOKALIKES)
    result = run(scenario, replications=2, seed=4)
    name = "cycle_time.flow.shared-parcels.mean"
    mean = result.kpis[name].mean
    assert mean > 1.0  # tens of seconds: the interval is not cut at 1 as a share's would be
    assert result.kpis[name].high >= mean
    page = lxml.html.fromstring(render_report(result, scenario))
    (row,) = page.xpath(f'//*[@id="kpi-table"]//tr[@data-kpi="{name}"]')
    text = row.xpath('td[@data-field="mean"]')[0].text_content()
    assert text == format_value(name, mean) and text.endswith((" s", " min", " h"))
    files = [tmp_path / "a.json", tmp_path / "b.json"]
    for file in files:
        file.write_text(result.to_json(), encoding="utf-8")
    shown = CliRunner().invoke(cli, ["compare", "--all", *map(str, files)])
    assert shown.exit_code == 0
    (line,) = [line for line in shown.stdout.splitlines() if name in line]
    assert format_value(name, mean) in line and f"{100 * mean:.1f} %" not in line
