"""The scenario report in a real headless Chromium: it opens with the headline's answers, its
KPI groups are collapsed until opened (no JavaScript), and it loads nothing from elsewhere.
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from browser_support import offline_page, shot, top_to_bottom

from app.report import write_report
from simulation.headline import headline as headline_of
from simulation.paths import find_scenario
from simulation.runner import run
from simulation.scenario import load_scenario
from simulation.sensitivity import best_changes
from simulation.sweep import apply_overrides


def test_the_ezhou_report_opens_with_answers(browser: Any, tmp_path: Path) -> None:
    ezhou = apply_overrides(
        load_scenario(find_scenario("ezhou-huahu")), {"horizon_hours": 8, "drain_hours": 2}
    )
    result = run(ezhou, 2, seed=1)
    assert result.plan is not None
    changes = best_changes(result, result.plan.scenario, replications=2)
    report = write_report(result, ezhou, tmp_path / "ezhou.html", changes)
    with offline_page(browser, report) as page:
        headline = page.locator("#headline")
        for part in ("demand", "within-target", "times", "bottleneck", "best-change"):
            assert headline.locator(f'[data-headline="{part}"]').inner_text().strip()
        # The bottleneck part names the pool the headline found; the best-change part names the
        # change the sensitivity run measured best (a cut, or "the most hopeful" when none cuts).
        found = headline_of(result, result.plan.scenario).bottleneck
        assert found is not None
        part = headline.locator('[data-headline="bottleneck"]').inner_text()
        assert found.name in part, part
        best = headline.locator('[data-headline="best-change"]').inner_text()
        assert changes[0].pool.name in best and changes[0].description in best, best
        # The headline comes before the plots and the KPI table.
        assert top_to_bottom(page, "headline", "plot-queues", "kpi-table")
        shot(page, "report-ezhou-headline", full_page=False)
        group = page.locator("#kpi-table details").first
        row = group.locator("tr[data-kpi]").first
        assert not row.is_visible()  # collapsed
        group.locator("summary").click()
        assert row.is_visible()
        assert row.locator(".description").inner_text().strip()  # meaning and unit from the table
        group.scroll_into_view_if_needed()
        shot(page, "report-ezhou-kpi-group", full_page=False)
