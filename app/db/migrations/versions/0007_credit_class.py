"""One credit-class spelling: the simulation model's (``aeo``, ``general``, ``low_credit``)

Revision ID: 0007
Revises: 0006

Enterprises were stored as ``AEO`` / ``general`` / ``low`` while scenarios name the classes
``aeo`` / ``general`` / ``low_credit``; the engine translated between them. Both now use
``simulation.scenario.CreditClass``, and the stored ratings are rewritten to its values.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# old spelling -> new spelling
_RENAMES = {"AEO": "aeo", "low": "low_credit"}


def _rename(pairs: dict[str, str]) -> None:
    enterprises = sa.table("enterprises", sa.column("credit_class", sa.String()))
    for old, new in pairs.items():
        op.execute(
            enterprises.update().where(enterprises.c.credit_class == old).values(credit_class=new)
        )


def upgrade() -> None:
    _rename(_RENAMES)


def downgrade() -> None:
    _rename({new: old for old, new in _RENAMES.items()})
