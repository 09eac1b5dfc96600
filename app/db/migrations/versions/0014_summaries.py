"""The export summary declaration: summaries, the 报关单 they form, the 清单 summarised

Revision ID: 0014
Revises: 0013

A declarant summarises its closed export 清单 declared statisticsFlag B (CEB701, CEB spec
202205 §2.21); customs answers (CEB702, §2.22) and sends one summary result per 报关单 formed
(CEB792, §2.23). A 清单 enters one summary only (unique ``summary_lists.invt_no``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)
_WEIGHT = sa.Numeric(19, 5)


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "summaries",
        sa.Column("id", _ID, nullable=False),
        sa.Column("document_id", _ID, nullable=False),
        sa.Column("sender_id", _ID, nullable=False),
        sa.Column("sum_no", sa.String(length=18), nullable=False),
        sa.Column("customs_code", sa.String(length=4), nullable=False),
        sa.Column("agent_code", sa.String(length=18), nullable=False),
        sa.Column("ebc_code", sa.String(length=18), nullable=False),
        sa.Column("summary_flag", sa.String(length=1), nullable=False),
        sa.Column("item_name_flag", sa.String(length=1), nullable=True),
        sa.Column("by_range", sa.Boolean(), nullable=False),
        sa.Column("period_start", _TIME, nullable=False),
        sa.Column("period_end", _TIME, nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        _fk("summaries", "document_id", "documents"),
        _fk("summaries", "sender_id", "enterprises"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summaries")),
        sa.UniqueConstraint("document_id", name=op.f("uq_summaries_document_id")),
        sa.UniqueConstraint("sum_no", name=op.f("uq_summaries_sum_no")),
    )
    op.create_index(op.f("ix_summaries_sender_id"), "summaries", ["sender_id"])
    op.create_table(
        "summary_groups",
        sa.Column("id", _ID, nullable=False),
        sa.Column("summary_id", _ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("decl_seq_no", sa.String(length=18), nullable=False),
        sa.Column("dec_state", sa.String(length=3), nullable=False),
        sa.Column("head", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("gross_weight", _WEIGHT, nullable=False),
        sa.Column("net_weight", _WEIGHT, nullable=False),
        sa.Column("result_xml", sa.LargeBinary(), nullable=False),
        sa.Column("receipt_id", _ID, nullable=True),
        _fk("summary_groups", "summary_id", "summaries"),
        _fk("summary_groups", "receipt_id", "receipts", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_groups")),
        sa.UniqueConstraint("summary_id", "seq", name="summary_seq"),
        sa.UniqueConstraint("decl_seq_no", name=op.f("uq_summary_groups_decl_seq_no")),
        sa.UniqueConstraint("receipt_id", name=op.f("uq_summary_groups_receipt_id")),
    )
    op.create_table(
        "summary_lists",
        sa.Column("id", _ID, nullable=False),
        sa.Column("summary_id", _ID, nullable=False),
        sa.Column("group_id", _ID, nullable=False),
        sa.Column("invt_no", sa.String(length=20), nullable=False),
        sa.Column("declaration_id", _ID, nullable=False),
        sa.Column("closed_at", _TIME, nullable=False),
        _fk("summary_lists", "summary_id", "summaries"),
        _fk("summary_lists", "group_id", "summary_groups"),
        _fk("summary_lists", "declaration_id", "declarations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_lists")),
        sa.UniqueConstraint("invt_no", name=op.f("uq_summary_lists_invt_no")),
    )
    op.create_index(op.f("ix_summary_lists_summary_id"), "summary_lists", ["summary_id"])
    op.create_index(op.f("ix_summary_lists_declaration_id"), "summary_lists", ["declaration_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_summary_lists_declaration_id"), table_name="summary_lists")
    op.drop_index(op.f("ix_summary_lists_summary_id"), table_name="summary_lists")
    op.drop_table("summary_lists")
    op.drop_table("summary_groups")
    op.drop_index(op.f("ix_summaries_sender_id"), table_name="summaries")
    op.drop_table("summaries")
