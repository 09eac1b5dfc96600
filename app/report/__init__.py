"""HTML reports for planners: one self-contained file each (inline SVG plots, no network).

- ``render_report(result, scenario) -> str`` and ``write_report(result, scenario, path)``:
  a scenario run's plots, KPI table, sources, assumptions and parameters;
- ``app.report.compare``: runs side by side with significant differences marked;
- ``app.report.sweep_report``: every KPI of a sweep against the varied parameters.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PLOT_IDS", "render_report", "write_report"]


def __getattr__(name: str) -> Any:
    # Loaded on first use: the report pulls in matplotlib, which the CLI's other commands (and
    # ``app.report.format``, shared with the terminal tables) should not pay for.
    if name in __all__:
        from app.report import scenario_report  # noqa: PLC0415

        return getattr(scenario_report, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
