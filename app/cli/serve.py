"""CLI commands of the service: serve, worker, seed-demo, db upgrade."""

from __future__ import annotations

import signal
from types import FrameType
from typing import TYPE_CHECKING

import typer

from app.cli import cli

if TYPE_CHECKING:
    from app.db.engine import Database

# Everything heavy (SQLAlchemy, Alembic, FastAPI, uvicorn, httpx) is imported inside the
# commands that use it: the `danchuang` entry point loads every command module, and other
# commands (`danchuang validate` runs in integrators' CI loops) should start quickly.

db_cli = typer.Typer(help="Database maintenance.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


def _database() -> Database:
    from app.db.engine import Database  # noqa: PLC0415
    from app.settings import get_settings  # noqa: PLC0415

    settings = get_settings()
    return Database.from_url(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)


@cli.command()
def serve(
    host: str = typer.Option(None, help="Address to listen on [default: settings, 127.0.0.1]"),
    port: int = typer.Option(None, help="Port to listen on [default: settings, 8000]"),
) -> None:
    """Run the API, dashboard and clearance engine in one process."""
    import uvicorn  # noqa: PLC0415

    from app.main import create_app  # noqa: PLC0415
    from app.settings import get_settings  # noqa: PLC0415

    settings = get_settings()
    app = create_app(settings)
    # log_config=None: keep the logging set up by create_app (structlog for every logger).
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        access_log=False,
    )


@cli.command()
def worker() -> None:
    """Run the background work (webhook deliveries; later the clearance engine) without the API.

    Start `serve` with DANCHUANG_RUN_BACKGROUND_IN_API=false when a worker runs beside it.
    """
    from app.db import migrate  # noqa: PLC0415
    from app.logging import configure_logging  # noqa: PLC0415
    from app.settings import get_settings  # noqa: PLC0415
    from app.webhooks.worker import DeliveryWorker  # noqa: PLC0415

    settings = get_settings()
    configure_logging(settings)
    database = _database()
    if settings.migrate_on_start:
        migrate.upgrade(database.engine)
    delivery = DeliveryWorker.from_settings(database, settings)

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        delivery.request_stop()  # the loop ends after its current round

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    typer.echo(f"danchuang worker: delivering webhooks from {database.engine.url}", err=True)
    delivery.run_forever()
    delivery.stop()
    database.dispose()
    typer.echo("danchuang worker: stopped", err=True)


@cli.command("seed-demo")
def seed_demo_command(
    rotate: bool = typer.Option(False, "--rotate", help="Revoke the demo keys and issue new ones."),
) -> None:
    """Register demo enterprises (platform, seller, payment, carrier, broker; import and export)
    and print their codes and API keys."""
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    from app.db import migrate  # noqa: PLC0415
    from app.demo import seed_demo  # noqa: PLC0415
    from app.settings import get_settings  # noqa: PLC0415

    settings = get_settings()
    database = _database()
    migrate.upgrade(database.engine)
    seeded = seed_demo(database, settings.demo_keys_file, rotate=rotate)
    database.dispose()

    table = Table(title="danchuang demo enterprises", show_lines=False)
    for column in ("direction", "code", "roles", "credit", "name", "API key"):
        table.add_column(column, overflow="fold")
    for s in seeded:
        mark = " (new)" if s.new_key else ""
        table.add_row(
            s.demo.direction,
            s.demo.code,
            ",".join(s.demo.roles),
            s.demo.credit_class.value,
            s.demo.name,
            s.key + mark,
        )
    Console(width=200).print(table)
    typer.echo(f"keys are kept in {settings.demo_keys_file} (mode 0600)")


@db_cli.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply the migrations up to REVISION (default: the latest)."""
    from app.db import migrate  # noqa: PLC0415

    database = _database()
    migrate.upgrade(database.engine, revision)
    typer.echo(f"database at revision {migrate.current_revision(database.engine)}")
    database.dispose()
