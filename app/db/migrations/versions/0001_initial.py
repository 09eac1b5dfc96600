"""Initial schema: enterprises, keys, documents, declarations, receipts, quota, webhooks, outbox

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 22:34:58.890095
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# SQLite auto-increments only an INTEGER PRIMARY KEY (its rowid).
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "declarations",
        sa.Column("id", ID, nullable=False),
        sa.Column("regime", sa.String(length=4), nullable=True),
        sa.Column("direction", sa.String(length=6), nullable=False),
        sa.Column("order_no", sa.String(length=60), nullable=False),
        sa.Column("ebp_code", sa.String(length=18), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("return_status", sa.Integer(), nullable=True),
        sa.Column("forced_outcome", sa.String(length=30), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sim_declared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sim_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declarations")),
        sa.UniqueConstraint("direction", "ebp_code", "order_no", name="set_key"),
    )
    op.create_table(
        "enterprises",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("credit_class", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(code) BETWEEN 10 AND 18", name=op.f("ck_enterprises_code_length")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprises")),
        sa.UniqueConstraint("code", name=op.f("uq_enterprises_code")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", ID, nullable=False),
        sa.Column("enterprise_id", ID, nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_api_keys_enterprise_id_enterprises"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_table(
        "documents",
        sa.Column("id", ID, nullable=False),
        sa.Column("guid", sa.String(length=36), nullable=False),
        sa.Column("message_code", sa.String(length=10), nullable=False),
        sa.Column("direction", sa.String(length=6), nullable=False),
        sa.Column("regime", sa.String(length=4), nullable=True),
        sa.Column("app_type", sa.String(length=1), nullable=True),
        sa.Column("raw_xml", sa.LargeBinary(), nullable=False),
        sa.Column("order_no", sa.String(length=60), nullable=True),
        sa.Column("ebp_code", sa.String(length=18), nullable=True),
        sa.Column("logistics_no", sa.String(length=80), nullable=True),
        sa.Column("logistics_code", sa.String(length=18), nullable=True),
        sa.Column("pay_transaction_id", sa.String(length=60), nullable=True),
        sa.Column("invt_no", sa.String(length=20), nullable=True),
        sa.Column("sender_id", ID, nullable=False),
        sa.Column("declaration_id", ID, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_documents_declaration_id_declarations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["enterprises.id"], name=op.f("fk_documents_sender_id_enterprises")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("guid", name=op.f("uq_documents_guid")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_documents_declaration_id"), ["declaration_id"], unique=False
        )
        batch_op.create_index("ix_documents_invt_no", ["invt_no"], unique=False)
        batch_op.create_index(
            "ix_documents_logistics", ["logistics_code", "logistics_no"], unique=False
        )
        batch_op.create_index("ix_documents_order", ["ebp_code", "order_no"], unique=False)
        batch_op.create_index(
            "ix_documents_pay_transaction_id", ["pay_transaction_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_documents_sender_id"), ["sender_id"], unique=False)

    op.create_table(
        "quota_ledger",
        sa.Column("id", ID, nullable=False),
        sa.Column("buyer_id_number", sa.String(length=60), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("declaration_id", ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_quota_ledger_declaration_id_declarations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_ledger")),
    )
    with op.batch_alter_table("quota_ledger", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quota_ledger_buyer_year", ["buyer_id_number", "year"], unique=False
        )

    op.create_table(
        "webhooks",
        sa.Column("id", ID, nullable=False),
        sa.Column("enterprise_id", ID, nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_webhooks_enterprise_id_enterprises"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhooks_enterprise_id"), ["enterprise_id"], unique=False
        )

    op.create_table(
        "receipts",
        sa.Column("id", ID, nullable=False),
        sa.Column("declaration_id", ID, nullable=True),
        sa.Column("document_id", ID, nullable=True),
        sa.Column("message_code", sa.String(length=10), nullable=False),
        sa.Column("return_status", sa.Integer(), nullable=False),
        sa.Column("return_info", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sim_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "declaration_id IS NOT NULL OR document_id IS NOT NULL",
            name=op.f("ck_receipts_has_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_receipts_declaration_id_declarations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_receipts_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("declaration_id", "seq", name="declaration_seq"),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index("ix_receipts_document", ["document_id", "seq"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", ID, nullable=False),
        sa.Column("receipt_id", ID, nullable=False),
        sa.Column("webhook_id", ID, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["receipt_id"],
            ["receipts.id"],
            name=op.f("fk_deliveries_receipt_id_receipts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_deliveries_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("receipt_id", "webhook_id", name="receipt_webhook"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deliveries_due", ["delivered_at", "failed_at", "next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_deliveries_webhook_id"), ["webhook_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_webhook_id"))
        batch_op.drop_index("ix_deliveries_due")

    op.drop_table("deliveries")
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_receipts_document")

    op.drop_table("receipts")
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhooks_enterprise_id"))

    op.drop_table("webhooks")
    with op.batch_alter_table("quota_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_quota_ledger_buyer_year")

    op.drop_table("quota_ledger")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_sender_id"))
        batch_op.drop_index("ix_documents_pay_transaction_id")
        batch_op.drop_index("ix_documents_order")
        batch_op.drop_index("ix_documents_logistics")
        batch_op.drop_index("ix_documents_invt_no")
        batch_op.drop_index(batch_op.f("ix_documents_declaration_id"))

    op.drop_table("documents")
    op.drop_table("api_keys")
    op.drop_table("enterprises")
    op.drop_table("declarations")
