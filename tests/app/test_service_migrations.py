"""Migrations build the schema on a fresh database, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import functools

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from service_support import run_together
from sqlalchemy import inspect

from app.db import migrate
from app.db.engine import Database
from app.db.models import Base

TABLES = {
    "enterprises",
    "api_keys",
    "declarations",
    "documents",
    "receipts",
    "quota_ledger",
    "webhooks",
    "deliveries",
}


def test_upgrade_a_fresh_database_to_head_matches_the_models(db_url: str) -> None:
    db = Database.from_url(db_url)
    try:
        assert migrate.current_revision(db.engine) is None
        migrate.upgrade(db.engine)
        assert migrate.current_revision(db.engine) == migrate.head_revision()
        assert migrate.is_at_head(db.engine)
        assert set(inspect(db.engine).get_table_names()) >= TABLES
        # The models and the migrations describe the same schema (no pending autogenerate).
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        db.dispose()


def test_downgrade_to_base_and_up_again(db_url: str) -> None:
    db = Database.from_url(db_url)
    try:
        migrate.upgrade(db.engine)
        migrate.downgrade(db.engine, "base")
        assert migrate.current_revision(db.engine) is None
        assert not TABLES & set(inspect(db.engine).get_table_names())
        migrate.upgrade(db.engine)  # and upgrading twice is harmless
        migrate.upgrade(db.engine)
        assert migrate.is_at_head(db.engine)
    finally:
        db.dispose()


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: object) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path}/pragmas.db", busy_timeout_ms=1234)
    try:
        with db.engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA busy_timeout").scalar() == 1234
            assert pragma("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


def test_processes_starting_together_migrate_once(db_url: str) -> None:
    """`serve` and `worker` both upgrade on start; the migration lock makes that safe."""
    databases = [Database.from_url(db_url) for _ in range(3)]
    errors = run_together([functools.partial(migrate.upgrade, db.engine) for db in databases])
    try:
        assert errors == []
        assert all(migrate.is_at_head(db.engine) for db in databases)
    finally:
        for db in databases:
            db.dispose()
