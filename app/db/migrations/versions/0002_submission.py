"""Submission: each document's own status and whether it is the one held for its key

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 23:20:00

Note to the engine engineer (issue 4, part B): the submission side answers every document
with 2 → 3 → 120 itself, except the 清单: it gets 2 → 3, and when its set is complete and
reconciled the declaration moves to ``state = "clearance_ready"`` with ``return_status = 3``
(``app.states.CLEARANCE_READY``); the engine records 120 and onwards for the 清单
(CEB622/CEB604) with ``declaration_id`` set. A set refused here (reconciliation, annual quota,
incomplete past the window) ends in ``state = "rejected"``. The current 清单 of a declaration
is the document with ``current`` true and a CEB621/CEB603 ``message_code``; its ``invt_no`` is
assigned on arrival. When the engine ends a declaration in ``rejected`` or ``returned`` it
should call ``app.services.sets.release_quota(session, declaration_id)`` to give the buyer's
annual quota back. Please also run the incomplete-set expiry periodically (e.g. once a minute of
wall time): ``app.services.expiry.expire_incomplete_sets(database, now=datetime.now(UTC),
window=incomplete_window(settings))``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_status", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("current", sa.Boolean(), nullable=False, server_default="1"))
    op.create_index("ix_declarations_direction_order_no", "declarations", ["direction", "order_no"])


def downgrade() -> None:
    op.drop_index("ix_declarations_direction_order_no", table_name="declarations")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("current")
        batch_op.drop_column("return_status")
