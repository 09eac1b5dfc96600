"""A webhook may take several receipts in one POST (``webhooks.receipts_per_post``)

Revision ID: 0016
Revises: 0015

Each receipt was a POST of its own. A set's receipts reach every party's webhooks, about 57
deliveries a set, and a POST cost the delivering process 0.4 ms of its 0.6 ms a delivery
(docs/performance.md, "A delivery costs more than the rest of its set"). A webhook registered
with ``receipts_per_post`` above 1 is sent its due receipts together, up to that many a POST
(docs/api.md, "Webhooks"). Existing webhooks keep one receipt a POST.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "webhooks",
        sa.Column("receipts_per_post", sa.Integer(), nullable=False, server_default="1"),
    )


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch_op:
        batch_op.drop_column("receipts_per_post")
