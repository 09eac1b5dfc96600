"""What the dashboard's pages depend on: the service's database (``app.state.database``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.db.engine import Database


def _database(request: Request) -> Database:
    found: Database = request.app.state.database
    return found


DatabaseDep = Annotated[Database, Depends(_database)]
