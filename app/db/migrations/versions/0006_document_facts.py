"""Documents keep what the core learnt of them on arrival (``documents.facts``)

Revision ID: 0006
Revises: 0004

Advancing a set, answering with receipts in XML and clearing a declaration read these facts
(``declarations.Facts``) instead of parsing the stored XML again. The upgrade works them out
once for the documents already stored, by checking their bytes as they were checked on arrival
(under the regime they were stored with); a message that could not be identified has none.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from declarations import check

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 500


def upgrade() -> None:
    op.add_column("documents", sa.Column("facts", sa.JSON(), nullable=True))
    documents = sa.table(
        "documents",
        sa.column("id", sa.BigInteger()),
        sa.column("message_code", sa.String()),
        sa.column("regime", sa.String()),
        sa.column("raw_xml", sa.LargeBinary()),
        sa.column("facts", sa.JSON()),
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(documents.c.id, documents.c.regime, documents.c.raw_xml)
            .where(documents.c.id > last, documents.c.message_code != "UNKNOWN")
            .order_by(documents.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        for row_id, regime, raw in rows:
            checked = check(bytes(raw), regime, source=f"document {row_id}")
            if checked.document is not None and len(checked.document.records()) == 1:
                connection.execute(
                    documents.update()
                    .where(documents.c.id == row_id)
                    .values(facts=checked.facts().to_json())
                )
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("facts")
