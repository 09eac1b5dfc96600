"""Entrustments: an express operator or postal enterprise sends orders and payments for others

Revision ID: 0009
Revises: 0008

The official import structure names 受委托的快件运营人、邮政企业 among the senders of CEB311 and
CEB411. ``entrustments`` records who entrusted whom, for which message.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "entrustments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "principal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_code", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["enterprises.id"], name=op.f("fk_entrustments_agent_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["enterprises.id"],
            name=op.f("fk_entrustments_principal_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entrustments")),
        sa.UniqueConstraint("principal_id", "agent_id", "message_code", name="pair"),
    )
    op.create_index("ix_entrustments_agent_id", "entrustments", ["agent_id"])


def downgrade() -> None:
    op.drop_index("ix_entrustments_agent_id", table_name="entrustments")
    op.drop_table("entrustments")
