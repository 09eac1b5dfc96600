"""Alembic environment: migrate the engine handed over by ``app.db.migrate``.

``render_as_batch`` makes autogenerate write SQLite-safe "copy and move" table changes (SQLite
has almost no ALTER TABLE); on PostgreSQL batch operations are plain ALTERs.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from app.db.engine import make_engine
from app.db.models import Base
from app.settings import get_settings

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    # Set by app.db.migrate; absent when a developer runs the alembic CLI with alembic.ini.
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:  # app.db.migrate.upgrade: its locked transaction
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine: Engine | None = config.attributes.get("engine")
    if engine is None:
        engine = make_engine(database_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
