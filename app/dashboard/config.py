"""The dashboard's own settings (``DANCHUANG_DASHBOARD_*``), beside ``app.settings``.

Who may open the dashboard (``docs/dashboard.md``):

- ``enabled`` unset ("auto"): open — a read-only view of every enterprise's data, no key — when
  the service is the local sandbox (an SQLite database, not ``environment=production``); closed
  otherwise.
- ``enabled=true`` / ``false``: open / closed whatever the database.
- A closed dashboard still opens for the operator who presents the admin key
  (``DANCHUANG_ADMIN_KEY``): as ``Authorization: Bearer …`` or through the ``/login`` form,
  which keeps it in an HttpOnly cookie. With no admin key configured, a closed dashboard is off.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.settings import Settings


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DANCHUANG_DASHBOARD_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    enabled: bool | None = None  # None = auto (see the module docstring)
    # Where scenario jobs write their results and reports (one folder per job).
    jobs_dir: Path = Path("./var/jobs")
    # Processes that run scenario replications. The live service shares the machine, so one
    # by default; raise it on a planner's workstation.
    job_workers: int = Field(default=1, ge=1, le=64)
    # Bounds on what a web form may ask for (a typo must not book the machine for a day).
    max_replications: int = Field(default=50, ge=1)
    max_horizon_hours: float = Field(default=24 * 14, gt=0)
    # How often (milliseconds) the live page and a job's page refresh themselves.
    refresh_ms: int = Field(default=2000, ge=200)


def open_without_key(dashboard: DashboardSettings, settings: Settings) -> bool:
    """Whether the dashboard shows its pages to anyone who can reach the port."""
    if dashboard.enabled is not None:
        return dashboard.enabled
    return settings.is_sqlite and settings.environment != "production"
