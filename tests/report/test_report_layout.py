"""The report reads on a screen: long source URLs wrap, and the parameters are a compact table
(an hourly profile is one row, a distribution one row)."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from app.report import render_report
from simulation.runner import RunResult
from simulation.scenario import Scenario

CHROMIUM = Path("/usr/bin/chromium")
LONG_URL = "https://example.org/" + "a-very-long-path-segment-without-any-space/" * 6 + "x.html"


def _settings(html: str) -> dict[str, str]:
    page = lxml.html.fromstring(html)
    rows = page.xpath('//table[@id="parameters"]//tr')
    return {row[0].text_content(): row[1].text_content() for row in rows}


def test_an_hourly_profile_is_one_row(ezhou_run: RunResult, ezhou: Scenario) -> None:
    settings = _settings(render_report(ezhou_run, ezhou))
    flow = next(
        f for f in ezhou.flows if f.arrivals.kind == "poisson" and f.arrivals.hourly_profile
    )
    profile = settings[f"flows.{flow.name}.arrivals.hourly_profile"]
    assert profile.split(", ") == [str(float(v)) for v in flow.arrivals.hourly_profile]
    # A duration distribution is one row too, and the whole section stays short.
    assert settings["stages.machine_check.service"] == "dist: lognormal, mean: 30.0, sd: 15.0"
    assert len(settings) < 150
    assert not [
        path for path in settings if path.rsplit(".", 1)[-1].isdigit() and "profile" in path
    ]


def test_long_source_urls_wrap_inside_the_page(
    ezhou_run: RunResult, ezhou: Scenario, tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"no browser: {CHROMIUM} is absent (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    source = {"claim": "a claim whose source is one long URL", "source": f"Somebody, {LONG_URL}"}
    scenario = ezhou.model_copy(
        update={"sources": [*ezhou.sources, type(ezhou.sources[0])(**source)]}
    )
    page_file = tmp_path / "report.html"
    page_file.write_text(render_report(ezhou_run, scenario), encoding="utf-8")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1024, "height": 768})
            page.goto(page_file.as_uri())
            widths = page.evaluate(
                """() => ({
                    page: document.documentElement.clientWidth,
                    scroll: document.documentElement.scrollWidth,
                    body: document.body.getBoundingClientRect().right,
                    sources: document.getElementById('sources').getBoundingClientRect().right,
                    parameters: document.getElementById('parameters').getBoundingClientRect().right,
                })"""
            )
        finally:
            browser.close()
    assert widths["scroll"] <= widths["page"], widths  # no horizontal scrolling
    assert widths["sources"] <= widths["body"] + 1, widths
    assert widths["parameters"] <= widths["body"] + 1, widths
