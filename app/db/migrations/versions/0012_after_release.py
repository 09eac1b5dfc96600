"""After the release: site entry, danchuang's delivery, tax bills, real senders

Revision ID: 0012
Revises: 0011

A 9610 import release waits for the goods' entry at the supervised site (CEB711, CEB spec
202205 §3.15); customs issues each released import 清单's electronic tax bill (CEB816/CEB818,
§3.17-3.18); danchuang plays the carrier and the site operator unless an enterprise says it
sends those messages itself (``real_senders``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("declarations") as batch:
        batch.add_column(sa.Column("site_entered_at", _TIME, nullable=True))
        batch.add_column(sa.Column("delivery_due_at", _TIME, nullable=True))
    op.create_index("ix_declarations_delivery_due_at", "declarations", ["delivery_due_at"])
    op.create_table(
        "tax_bills",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("declaration_id", _BIG_ID, nullable=False),
        sa.Column("tax_no", sa.String(length=50), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("bill", sa.JSON(), nullable=False),
        sa.Column("ent_duty_no", sa.String(length=50), nullable=True),
        sa.Column("fails_deduction", sa.Boolean(), nullable=False),
        sa.Column("issued_at", _TIME, nullable=False),
        sa.Column("due_at", _TIME, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_tax_bills_declaration_id_declarations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_bills")),
        sa.UniqueConstraint("declaration_id", name=op.f("uq_tax_bills_declaration_id")),
        sa.UniqueConstraint("tax_no", name=op.f("uq_tax_bills_tax_no")),
    )
    op.create_index("ix_tax_bills_state_due", "tax_bills", ["state", "due_at"])
    op.create_table(
        "real_senders",
        sa.Column("enterprise_id", _BIG_ID, nullable=False),
        sa.Column("message_code", sa.String(length=6), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_real_senders_enterprise_id_enterprises"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("enterprise_id", "message_code", name=op.f("pk_real_senders")),
    )


def downgrade() -> None:
    op.drop_table("real_senders")
    op.drop_index("ix_tax_bills_state_due", table_name="tax_bills")
    op.drop_table("tax_bills")
    op.drop_index("ix_declarations_delivery_due_at", table_name="declarations")
    with op.batch_alter_table("declarations") as batch:
        batch.drop_column("delivery_due_at")
        batch.drop_column("site_entered_at")
