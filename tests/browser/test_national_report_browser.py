"""The national report in a real headless Chromium: the headline's answers first, every site
in the sites table with its headline numbers, nothing loaded from elsewhere. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from browser_support import offline_page, shot, top_to_bottom

from app.report.national_report import write_national
from simulation.national import run_national
from simulation.national_file import load_national

TINY = Path(__file__).resolve().parents[1] / "simulation" / "data" / "national" / "tiny-nation.yaml"


def test_the_national_report_opens_with_answers(browser: Any, tmp_path: Path) -> None:
    national = load_national(TINY)
    result = run_national(national)
    report = write_national(result, national, tmp_path / "national.html")
    with offline_page(browser, report) as page:
        headline = page.locator("#headline")
        for part in ("parcels", "demand", "within-target", "times", "slowest-site"):
            assert headline.locator(f'[data-headline="{part}"]').inner_text().strip()
        parcels = headline.locator('[data-headline="parcels"]').inner_text()
        assert f"{result.parcels:,.0f} over 3 sites" in parcels, parcels
        slowest = headline.locator('[data-headline="slowest-site"]').inner_text()
        assert any(slowest.startswith(s.entry.name) for s in result.sites), slowest
        # Every site is listed, with its parcels exactly as the run counted them.
        rows = page.locator("#sites tr[data-site]")
        assert rows.count() == 3
        for site in result.sites:
            row = page.locator(f'#sites tr[data-site="{site.entry.name}"]')
            value = row.locator('[data-field="parcels"]').get_attribute("data-value")
            assert value is not None and float(value) == site.parcels
            assert row.locator('[data-field="within"]').inner_text().strip() != "–"
        assert top_to_bottom(page, "headline", "sites", "kpi-table")
        shot(page, "report-national-headline", full_page=False)
        page.locator("#sites").scroll_into_view_if_needed()
        shot(page, "report-national-sites", full_page=False)
