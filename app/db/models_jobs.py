"""The dashboard's scenario jobs (migration 0004).

Kept beside ``app.db.models`` (which imports this module, so one ``Base.metadata`` holds every
table) to keep each module short.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base, BigId, utcnow


class ScenarioJob(Base):
    """A scenario run started from the dashboard (``app.dashboard.jobs``): queued → running →
    done / failed. ``parameters`` holds replications, seed, horizon_hours and the dotted-path
    overrides; the report and results are files in ``output_dir``."""

    __tablename__ = "scenario_jobs"
    __table_args__ = (Index("ix_scenario_jobs_state", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scenario: Mapped[str] = mapped_column(String(200))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    done: Mapped[int] = mapped_column(default=0)  # replications finished
    total: Mapped[int]  # replications asked for
    error: Mapped[str | None] = mapped_column(Text, default=None)
    output_dir: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
