"""Dashboard: scenario runs started from the web page (``scenario_jobs``)

Revision ID: 0004
Revises: 0003 (the clearance engine's migration)

A job row is the persisted state of one background scenario run, so that a page reload (or a
restarted service) still shows it: ``app.dashboard.jobs`` claims queued rows, runs them in a
process pool and writes progress back here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scenario_jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("scenario", sa.String(length=200), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("output_dir", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenario_jobs")),
    )
    op.create_index("ix_scenario_jobs_state", "scenario_jobs", ["state"])


def downgrade() -> None:
    op.drop_index("ix_scenario_jobs_state", table_name="scenario_jobs")
    op.drop_table("scenario_jobs")
