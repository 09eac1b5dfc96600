"""Migration 0007 rewrites the enterprises' credit classes to the model's spelling, and back."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from app.db import migrate
from app.db.engine import Database

BEFORE = {"1111111111": "AEO", "2222222222": "general", "3333333333": "low"}
AFTER = {"1111111111": "aeo", "2222222222": "general", "3333333333": "low_credit"}


def _classes(db: Database) -> dict[str, str]:
    with db.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT code, credit_class FROM enterprises"))
        return {code: credit for code, credit in rows}


def test_credit_classes_take_the_model_spelling_and_go_back_on_downgrade(db_url: str) -> None:
    db = Database.from_url(db_url)
    try:
        migrate.upgrade(db.engine, "0006")
        with db.engine.begin() as connection:
            for code, credit in BEFORE.items():
                connection.execute(
                    sa.text(
                        "INSERT INTO enterprises (code, name, roles, credit_class, created_at) "
                        "VALUES (:code, 'x', '[]', :credit, :now)"
                    ),
                    {"code": code, "credit": credit, "now": datetime.now(UTC)},
                )
        migrate.upgrade(db.engine, "0007")
        assert _classes(db) == AFTER
        migrate.downgrade(db.engine, "0006")
        assert _classes(db) == BEFORE
    finally:
        db.dispose()
