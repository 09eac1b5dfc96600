"""The report and simulate's terminal open with the headline; a run that has not drained is
warned about; a costed scenario's headline gives its cost."""

from __future__ import annotations

from pathlib import Path

import lxml.html
from typer.testing import CliRunner

from app.cli import cli
from app.report import render_report
from simulation.runner import run
from simulation.scenario import load_scenario
from simulation.sweep import apply_overrides

DATA = Path(__file__).parents[1] / "simulation" / "data"
PLANTED = DATA / "planted-bottleneck.yaml"
runner = CliRunner()


def _headline(html: str) -> dict[str, str]:
    page = lxml.html.fromstring(html)
    return {
        dd.get("data-headline"): dd.text_content()
        for dd in page.xpath('//*[@id="headline"]//dd[@data-headline]')
    }


def test_simulate_prints_the_headline_and_the_report_opens_with_it(tmp_path: Path) -> None:
    report = tmp_path / "planted.html"
    args = ["simulate", str(PLANTED), "-n", "3", "--seed", "5", "-w", "1", "--report", str(report)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Bottleneck: resource auditors (audit)" in result.stdout
    assert "The change that helps most: resource auditors 1 → 2: cuts" in result.stdout
    html = report.read_text(encoding="utf-8")
    lines = _headline(html)
    assert list(lines) == ["demand", "within-target", "times", "bottleneck", "best-change"]
    assert "auditors" in lines["bottleneck"] and "auditors 1 → 2" in lines["best-change"]
    assert html.index('id="headline"') < html.index('id="plot-queues"') < html.index("kpi-table")
    # Every KPI group is collapsed, and every row says what it is.
    page = lxml.html.fromstring(html)
    assert page.xpath('//*[@id="kpi-table"]/details') and not page.xpath("//details[@open]")
    descriptions = page.xpath('//tr[@data-kpi]//*[@class="description"]')
    assert descriptions and all(d.text_content().strip() for d in descriptions)
    assert "<script" not in html


def test_without_the_sensitivity_run_the_headline_says_so() -> None:
    result = runner.invoke(cli, ["simulate", str(PLANTED), "-n", "2", "-w", "1", "--no-what-if"])
    assert result.exit_code == 0
    assert "The change that helps most: not measured" in result.stdout


def test_an_undrained_run_is_warned_about_and_a_costed_one_costed() -> None:
    small = apply_overrides(load_scenario(DATA / "small-site.yaml"), {"horizon_hours": 12})
    result = run(small, 2, seed=1)
    html = render_report(result, small)
    lines = _headline(html)
    assert "CNY a day" in lines["cost"] and "staff-hours" in lines["cost"]
    warnings = lxml.html.fromstring(html).xpath("//*[@data-warning]")
    # 12 h with no drain: ~170 declarations are still in the system at the end, ~6 of them not
    # released; the rest await departure, so the cycle-time KPIs (to release) are whole and
    # only the end-to-end ones miss them
    texts = [w.text_content() for w in warnings]
    assert any("Not left" in t for t in texts) and not any("Not drained" in t for t in texts)
