"""Transport envelopes: enterprises register their DXP id; documents keep their envelope

Revision ID: 0008
Revises: 0007

A message may come inside a DxpMsg or DxpMsgSv (CEB spec 202205 §4-5). Its TransInfo/SenderId
must be the sending enterprise's registered DXP id (``enterprises.dxp_id``), and its receipts
are answered in a DxpMsg addressed to it: the document keeps the envelope's kind, CopMsgId and
SenderId. A webhook may ask for each receipt's CEB receipt message too (``webhooks.xml``),
which comes in a DxpMsg to the sender of an enveloped document.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ADD COLUMN and a unique index: SQLite would rebuild a table to add a constraint, and
# rebuilding ``enterprises`` trips the documents' foreign keys.
def upgrade() -> None:
    op.add_column("enterprises", sa.Column("dxp_id", sa.String(length=16), nullable=True))
    op.create_index("ix_enterprises_dxp_id", "enterprises", ["dxp_id"], unique=True)
    op.add_column("documents", sa.Column("envelope", sa.String(length=8), nullable=True))
    op.add_column("documents", sa.Column("cop_msg_id", sa.String(length=255), nullable=True))
    op.add_column("documents", sa.Column("dxp_sender", sa.String(length=16), nullable=True))
    op.add_column("webhooks", sa.Column("xml", sa.Boolean(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch_op:
        batch_op.drop_column("xml")
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_column("dxp_sender")
        batch_op.drop_column("cop_msg_id")
        batch_op.drop_column("envelope")
    op.drop_index("ix_enterprises_dxp_id", table_name="enterprises")
    with op.batch_alter_table("enterprises") as batch_op:
        batch_op.drop_column("dxp_id")
