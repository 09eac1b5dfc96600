"""The outbox's due index holds the pending deliveries only, in the order they are claimed

Revision ID: 0015
Revises: 0014

The delivery worker claims the earliest due deliveries (``ORDER BY next_attempt_at, id
LIMIT n``). The index on (delivered_at, failed_at, next_attempt_at) found the due rows but
not in that order: PostgreSQL joined and sorted every due row to return 50 (61 ms a claim
with 40,000 waiting, most of the database's CPU under load). A partial index on
(next_attempt_at, id) over the rows still pending is read in order and stops at the limit;
delivered and abandoned rows leave it. It also holds ``delivered_at`` and ``failed_at`` (always
empty in it): SQLite reads a partial index alone only when it holds every column a query names,
its own condition's too, and without them counting the pending deliveries (``/metrics``) read
the table a row at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("delivered_at IS NULL AND failed_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_due")
        batch.create_index(
            "ix_deliveries_due",
            ["next_attempt_at", "id", "delivered_at", "failed_at"],
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_due")
        batch.create_index("ix_deliveries_due", ["delivered_at", "failed_at", "next_attempt_at"])
