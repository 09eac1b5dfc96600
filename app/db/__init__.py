"""Persistence: engine and sessions, models, migrations."""

from app.db.engine import Database, make_engine

__all__ = ["Database", "make_engine"]
