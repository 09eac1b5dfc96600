"""CLI commands of the service: serve, worker, seed-demo, db upgrade."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

import typer

from app.cli import cli, usage_error
from app.cli.help import Typer

if TYPE_CHECKING:
    from fastapi import FastAPI

    from app.db.engine import Database
    from app.engine.config import EngineSettings

# Everything heavy (SQLAlchemy, Alembic, FastAPI, uvicorn, httpx) is imported inside the
# commands that use it: the `danchuang` entry point loads every command module, and other
# commands (`danchuang validate` runs in integrators' CI loops) should start quickly.

db_cli = Typer(help="Database maintenance.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


def _database() -> Database:
    from app.db.engine import Database
    from app.settings import get_settings

    settings = get_settings()
    return Database.from_url(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)


def _engine_settings() -> EngineSettings:
    """The clearance engine's settings, or exit 2 with a one-line reason."""
    from app.engine.config import load_engine_settings

    try:
        return load_engine_settings()
    except ValueError as error:
        typer.echo(f"danchuang: {error}", err=True)
        raise typer.Exit(2) from None


# The threadpool that runs the routes and their database work (FastAPI's default: 40). Every
# thread holds a pooled connection while it works (``app.db.engine.POOL_SIZE``); more threads
# than cores x a few only add switching between threads that wait for the GIL.
DEFAULT_THREADS = 8


_THREADS_ENV = "DANCHUANG_SERVE_THREADS"  # handed to worker processes (--workers)


# glibc gives threads that allocate at once arenas of their own (up to 8 a core) and keeps what
# they free: in a 5-minute soak of the service (benchmarks/ingest.py --minutes 5) RSS grew
# 18.4 MB while the memory in use stayed flat, and malloc_trim gave back 119 MB. With two
# arenas the same soak grew 9.0 MB, from about 100 MB less.
_MALLOC_ARENAS = "MALLOC_ARENA_MAX"
_M_ARENA_MAX = -8  # mallopt's parameter number (glibc's malloc.h)


def cap_malloc_arenas() -> bool:
    """Two malloc arenas for this process (before its threads start) and the processes it
    starts (glibc reads the variable at start); nothing if the variable is set, or not glibc.
    Whether this process's allocator took the cap."""
    if _MALLOC_ARENAS in os.environ or not sys.platform.startswith("linux"):
        return False
    os.environ[_MALLOC_ARENAS] = "2"
    import ctypes

    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, 2))
    except (OSError, AttributeError):  # another C library (musl): its own allocator
        return False


@cli.command()
def serve(
    host: str = typer.Option(
        None, help="Address to listen on.", show_default="DANCHUANG_HOST, else 127.0.0.1"
    ),
    port: int = typer.Option(
        None, help="Port to listen on.", show_default="DANCHUANG_PORT, else 8000"
    ),
    no_engine: bool = typer.Option(
        False,
        "--no-engine",
        help="Run the API only: no clearance engine, no webhook delivery (a `worker` does them).",
    ),
    workers: int = typer.Option(
        1,
        min=1,
        help="API processes (PostgreSQL only). Each may start the background work; the engine "
        "lease lets one engine run.",
    ),
    threads: int = typer.Option(
        DEFAULT_THREADS, min=1, help="Threads per process for the routes' database work."
    ),
) -> None:
    """Run the API, dashboard, clearance engine and webhook delivery in one process."""
    cap_malloc_arenas()
    from app.settings import get_settings

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    if workers == 1:
        run_server(_service_app(no_engine=no_engine, threads=threads), host=host, port=port)
        return
    if settings.is_sqlite:
        # One SQLite file has one writer: processes would only queue on its lock.
        raise usage_error("serve", "--workers needs PostgreSQL (DANCHUANG_DATABASE_URL)")
    _engine_settings()  # a bad engine configuration stops us here, not in every worker
    # Worker processes build their app from the environment (the server imports
    # ``service_app``).
    os.environ[_THREADS_ENV] = str(threads)
    if no_engine:
        os.environ["DANCHUANG_RUN_BACKGROUND_IN_API"] = "false"
    import uvicorn

    uvicorn.run(_FACTORY, factory=True, workers=workers, host=host, port=port, **uvicorn_options())


# The HTTP server: uvicorn on uvloop's event loop with httptools' parser (both C), measured
# against uvicorn's pure-Python defaults (asyncio, h11) and against granian in
# docs/live-clearance.md ("The request path").
_FACTORY = "app.cli.serve:service_app"


def uvicorn_options() -> dict[str, Any]:
    """How ``serve`` runs uvicorn (also used by benchmarks/http_floor.py for its bare app)."""
    return {
        "loop": "asyncio" if sys.platform == "win32" else "uvloop",  # no uvloop on Windows
        "http": "httptools",
        "log_config": None,  # keep the logging set up by create_app (structlog for all)
        "access_log": False,  # app.api.middleware logs each request, with its route
    }


def run_server(app: Any, *, host: str, port: int) -> None:
    """Serve an ASGI app in this process, as ``serve`` does."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, **uvicorn_options())


def service_app() -> FastAPI:
    """The app of one ``serve --workers N`` process (a uvicorn factory)."""
    return _service_app(no_engine=False, threads=int(os.environ.get(_THREADS_ENV, DEFAULT_THREADS)))


def _service_app(*, no_engine: bool, threads: int) -> FastAPI:
    from app.main import create_app
    from app.settings import get_settings

    settings = get_settings()
    if no_engine:
        settings = settings.model_copy(update={"run_background_in_api": False})
    app = create_app(settings)
    if settings.run_background_in_api:
        app.state.engine_settings = _engine_settings()
    _size_threadpool(app, threads)
    return app


def _size_threadpool(app: FastAPI, threads: int) -> None:
    """Set the threadpool's size when the app starts (the pool belongs to the event loop)."""
    import anyio.to_thread

    lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def sized(app: FastAPI) -> AsyncIterator[Any]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        async with lifespan(app) as state:
            yield state

    app.router.lifespan_context = sized


@cli.command()
def worker() -> None:
    """Run the background work (clearance engine and webhook deliveries) without the API.

    Start `serve --no-engine` (or DANCHUANG_RUN_BACKGROUND_IN_API=false) beside it. Several
    workers may run: the engine lease lets one engine run at a time, the others stand by; with
    DANCHUANG_ENGINE_PARTITIONS above 1 they share the partitions (docs/deploy.md).
    """
    cap_malloc_arenas()
    from app.db import migrate
    from app.engine import ClearanceEngine
    from app.logging import configure_logging
    from app.settings import get_settings
    from app.webhooks.worker import DeliveryWorker

    settings = get_settings()
    engine_settings = _engine_settings()
    configure_logging(settings)
    database = _database()
    if settings.migrate_on_start:
        migrate.upgrade(database.engine)
    delivery = DeliveryWorker.from_settings(database, settings)
    engine = ClearanceEngine.from_settings(database, settings, engine_settings)

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        delivery.request_stop()  # the loop ends after its current round
        engine.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    typer.echo(
        f"danchuang worker: clearance engine and webhooks on {database.engine.url}", err=True
    )
    engine.start()
    delivery.run_forever()
    engine.stop()
    delivery.stop()
    database.dispose()
    typer.echo("danchuang worker: stopped", err=True)


@cli.command("seed-demo")
def seed_demo_command(
    rotate: bool = typer.Option(False, "--rotate", help="Revoke the demo keys and issue new ones."),
) -> None:
    """Register demo enterprises (platform, seller, payment, carrier, broker; import and export)
    and print their codes and API keys."""
    from rich.console import Console
    from rich.table import Table

    from app.db import migrate
    from app.demo import seed_demo
    from app.settings import get_settings

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
    from app.db import migrate

    database = _database()
    migrate.upgrade(database.engine, revision)
    typer.echo(f"database at revision {migrate.current_revision(database.engine)}")
    database.dispose()
