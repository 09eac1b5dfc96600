"""Signatures: enterprises' signing certificates and the sandbox's own keys

Revision ID: 0010
Revises: 0009

CEB spec 202205 §6 signs messages with X.509 certificates. ``signing_certificates`` holds the
certificates enterprises register; ``authority_keys`` the sandbox's test CA and the customs
key that signs receipts.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "signing_certificates",
        sa.Column("id", _ID, nullable=False),
        sa.Column("enterprise_id", _ID, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("key_type", sa.String(length=8), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_signing_certificates_enterprise_id_enterprises"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_certificates")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_signing_certificates_fingerprint")),
    )
    op.create_index(
        op.f("ix_signing_certificates_enterprise_id"), "signing_certificates", ["enterprise_id"]
    )
    op.create_table(
        "authority_keys",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("key_pem", sa.Text(), nullable=False),
        sa.Column("certificate_der", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_authority_keys")),
    )


def downgrade() -> None:
    op.drop_table("authority_keys")
    op.drop_index(op.f("ix_signing_certificates_enterprise_id"), table_name="signing_certificates")
    op.drop_table("signing_certificates")
