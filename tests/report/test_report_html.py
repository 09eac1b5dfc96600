"""The scenario report: every plot, nothing from the network, numbers equal to the JSON."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import lxml.html
import pytest

from app.report import PLOT_IDS, render_report, write_report
from app.report.arrivals import expected_arrivals
from simulation.runner import RunResult, run
from simulation.scenario import Scenario, parse_scenario

# What a page may not do if it is to open offline: load a script, style, image or font.
NETWORK = [
    re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE),
    re.compile(r"<script[^>]*\bsrc\s*=", re.IGNORECASE),
    re.compile(r"@import", re.IGNORECASE),
    re.compile(r"url\(\s*['\"]?\s*(?:https?:)?//", re.IGNORECASE),
    re.compile(r"<link\b", re.IGNORECASE),
]


@pytest.fixture(scope="module")
def html(ezhou_run: RunResult, ezhou: Scenario) -> str:
    return render_report(ezhou_run, ezhou)


def test_every_plot_is_there_with_an_inline_svg(html: str) -> None:
    page = lxml.html.fromstring(html)
    for plot in PLOT_IDS:
        (figure,) = page.xpath(f'//figure[@data-plot="{plot}"]')
        assert figure.get("id") == f"plot-{plot}"
        # Ezhou has queues, shifts, regimes and an e-lock pool: every plot has a drawing.
        assert figure.xpath(".//*[local-name()='svg']"), f"plot {plot} has no SVG"
    # The queue plot names every stage with a limited pool.
    queues = page.xpath('//figure[@data-plot="queues"]')[0].text_content()
    assert {"review", "machine_check", "manual_inspection"} <= set(queues.split())


def test_the_page_loads_nothing_from_the_network(html: str) -> None:
    for pattern in NETWORK:
        assert not pattern.search(html), pattern.pattern
    # The SVGs come without their XML prolog, DOCTYPE (an external DTD) or metadata.
    assert "<!DOCTYPE svg" not in html and "<?xml" not in html and "<metadata" not in html


def test_kpi_table_equals_the_json(html: str, ezhou_run: RunResult) -> None:
    expected = json.loads(ezhou_run.to_json())["kpis"]
    rows = lxml.html.fromstring(html).xpath('//*[@id="kpi-table"]//tr[@data-kpi]')
    assert sorted(row.get("data-kpi") for row in rows) == sorted(expected)  # each KPI once
    for row in rows:
        estimate = expected[row.get("data-kpi")]
        for field in ("mean", "low", "high", "half_width"):
            (cell,) = row.xpath(f'td[@data-field="{field}"]')
            written = cell.get("data-value")
            if estimate[field] is None:
                assert written == "" and cell.text_content() == "–"
            else:
                assert float(written) == estimate[field]  # exact, not approximately
        assert int(row.xpath('td[@data-field="n"]')[0].get("data-value")) == estimate["n"]
    # The human-readable text follows the unit of the KPI.
    share = next(r for r in rows if r.get("data-kpi") == "resource.xray_lanes.utilisation")
    mean = expected["resource.xray_lanes.utilisation"]["mean"]
    assert share.xpath('td[@data-field="mean"]')[0].text_content() == f"{100 * mean:.1f} %"


def test_sources_assumptions_and_parameters(html: str, ezhou: Scenario) -> None:
    page = lxml.html.fromstring(html)
    claims = [td.text_content() for td in page.xpath('//table[@id="sources"]//tr/td[1]')]
    assert claims == [s.claim for s in ezhou.sources]
    items = [li.text_content() for li in page.xpath('//ul[@id="assumptions"]/li')]
    assert items == ezhou.assumptions
    settings = dict(
        (row[0].text_content(), row[1].text_content())
        for row in page.xpath('//table[@id="parameters"]//tr')
    )
    assert settings["resources.xray_lanes"] == "capacity: 8"
    assert "lock_pools.huahu" in settings
    run_info = " ".join(page.xpath('//*[@id="run-info"]')[0].text_content().split())
    assert run_info.startswith("3 replications, seed 11; horizon 4.0 h (warm-up 2.0 h")


def test_write_report_writes_the_page(
    tmp_path: Path, ezhou_run: RunResult, ezhou: Scenario
) -> None:
    path = write_report(ezhou_run, ezhou, tmp_path / "ezhou.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and 'data-plot="locks"' in text


MINIMAL = """
name: mm1
horizon_hours: 6
warmup_hours: 1
resources: {server: {capacity: 1}}
stages:
  audit: {resource: server, service: {dist: exponential, mean: 40}}
flows:
  - name: parcels
    channel: express
    arrivals: {kind: poisson, rate_per_hour: 60}
risk: {general: {}}
"""


def test_a_site_without_locks_says_so_instead_of_drawing() -> None:
    scenario = parse_scenario(MINIMAL)
    page = lxml.html.fromstring(render_report(run(scenario, 2, seed=1), scenario))
    locks = page.xpath('//figure[@data-plot="locks"]')[0]
    assert not locks.xpath(".//*[local-name()='svg']")
    assert "no e-lock pools" in locks.text_content()
    assert page.xpath('//figure[@data-plot="queues"]//*[local-name()="svg"]')
    assert "The scenario declares no sources." in page.text_content()


def test_horizon_override_moves_the_end_of_arrivals(ezhou: Scenario) -> None:
    shorter = render_report(run(ezhou, 2, seed=11, horizon_hours=3.5), ezhou)
    assert "horizon 3.5 h" in shorter


def test_expected_arrivals_integrate_the_rate(ezhou: Scenario) -> None:
    edges, counts = expected_arrivals(ezhou)
    assert edges.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    # Hour 0 by hand: Poisson flows rate × profile[0] × peak, batch flows their mean sizes.
    by_hand = 2500 * 0.4 * 2.5 + 100 * 0.2 + 80 * 0.2 + 600 * 2.0 * 2.5
    assert math.isclose(counts[0], by_hand)
    # Hour 1: plus the Wuhan batch at 01:00 (uniform 500-1500, mean 1000).
    by_hand = 2500 * 0.3 * 2.5 + 100 * 0.2 + 80 * 0.2 + 600 * 1.4 * 2.5 + 1000
    assert math.isclose(counts[1], by_hand)
