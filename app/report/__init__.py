"""HTML reports for planners: one self-contained file each (inline SVG plots, no network).

- ``render_report(result, scenario) -> str`` and ``write_report(result, scenario, path)``:
  a scenario run's plots, KPI table, sources, assumptions and parameters;
- ``app.report.compare``: runs side by side with significant differences marked;
- ``app.report.sweep_report``: every KPI of a sweep against the varied parameters.
"""

from __future__ import annotations

from app.report.scenario_report import PLOT_IDS, render_report, write_report

__all__ = ["PLOT_IDS", "render_report", "write_report"]
