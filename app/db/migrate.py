"""Alembic, driven from Python: the migration scripts ship inside the package (no alembic.ini).

``upgrade(engine)`` is what the service runs on start and what ``danchuang db upgrade`` and the
tests call; the scripts live in ``app/db/migrations``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from app.db.engine import BEGIN_IMMEDIATE

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x6463_6D67  # "dcmg": an arbitrary, fixed advisory-lock id


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        # env.py uses this engine instead of reading a URL from a file.
        config.attributes["engine"] = engine
        url = engine.url.render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser syntax
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to ``revision``, safe when several processes start at once (serve + worker).

    The whole upgrade runs in one transaction that first takes a lock — an advisory lock on
    PostgreSQL, the write lock (BEGIN IMMEDIATE) on SQLite — so a second process waits, then
    finds the schema already at head. Both backends have transactional DDL.
    """
    locking = engine.execution_options(**{BEGIN_IMMEDIATE: True})
    with locking.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK})
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


@cache  # the migration scripts ship with the code: reading them once per process is enough
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_at_head(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
