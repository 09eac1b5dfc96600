"""The clearance engine's lease: one row per engine name, so that only one engine runs.

Revision ID: 0003
Revises: 0002

Note to the submission engineer (issue 4, part A): the engine needs no new column on
``declarations``. It takes declarations whose ``state`` is ``clearance_ready`` (set that when
a set is complete and reconciled), moves them to ``clearing``, and ends them in ``cleared``
(899), ``rejected`` (100 or a negative code), ``detained`` (501-503/599) or ``returned`` (700);
``return_status`` always holds the latest receipt's code (``app.states``). An outcome
forced by the declarant is kept in the existing ``forced_outcome`` column.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "engine_leases",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sim_clock", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_engine_leases")),
    )
    op.create_index(op.f("ix_declarations_state"), "declarations", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_declarations_state"), table_name="declarations")
    op.drop_table("engine_leases")
