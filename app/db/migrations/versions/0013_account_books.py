"""Bonded account books (账册) a 1210 import release draws on

Revision ID: 0013
Revises: 0012

A 1210 import 清单 names its zone warehouse's account book (emsNo) and each line's item
(itemRecordNo), CEB spec 202205 §3.9.4 pp. 82-84; danchuang keeps the books enterprises
register, their stock and every move.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)
_QTY = sa.Numeric(19, 5)


def upgrade() -> None:
    op.create_table(
        "account_books",
        sa.Column("id", _ID, nullable=False),
        sa.Column("ems_no", sa.String(length=30), nullable=False),
        sa.Column("owner_id", _ID, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["enterprises.id"],
            name=op.f("fk_account_books_owner_id_enterprises"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_books")),
        sa.UniqueConstraint("ems_no", name=op.f("uq_account_books_ems_no")),
    )
    op.create_index(op.f("ix_account_books_owner_id"), "account_books", ["owner_id"])
    op.create_table(
        "account_book_items",
        sa.Column("id", _ID, nullable=False),
        sa.Column("book_id", _ID, nullable=False),
        sa.Column("item_record_no", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("stock", _QTY, nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["account_books.id"],
            name=op.f("fk_account_book_items_book_id_account_books"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_book_items")),
        sa.UniqueConstraint("book_id", "item_record_no", name="book_item"),
    )
    op.create_table(
        "account_book_moves",
        sa.Column("id", _ID, nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("declaration_id", _ID, nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("quantity", _QTY, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["account_book_items.id"],
            name=op.f("fk_account_book_moves_item_id_account_book_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["declarations.id"],
            name=op.f("fk_account_book_moves_declaration_id_declarations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_book_moves")),
    )
    op.create_index(
        "ix_account_book_moves_declaration_id", "account_book_moves", ["declaration_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_account_book_moves_declaration_id", table_name="account_book_moves")
    op.drop_table("account_book_moves")
    op.drop_table("account_book_items")
    op.drop_index(op.f("ix_account_books_owner_id"), table_name="account_books")
    op.drop_table("account_books")
