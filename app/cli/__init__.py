"""The ``danchuang`` command: thin commands over the core packages, one module per group."""

from __future__ import annotations

import typer

from app.cli.help import Typer

cli = Typer(
    name="danchuang",
    help="danchuang (单窗): a sandbox of China's cross-border e-commerce single window.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def usage_error(command: str, message: str) -> typer.Exit:
    """Say what is wrong on stderr, each line named by its command, and exit 2 (the usage-error
    code). A message of several lines (a scenario's errors) stays one problem per line."""
    for line in message.splitlines() or [""]:
        typer.echo(f"danchuang {command}: {line}", err=True)
    return typer.Exit(2)


@cli.callback()
def _root() -> None:
    """danchuang (单窗): a sandbox of China's cross-border e-commerce single window."""


# Each module adds its commands to ``cli``; the imports are for that side effect.
from app.cli import (  # noqa: E402, F401
    capacity,
    conformance,
    national,
    planning,
    samples,
    serve,
    signing,
    simulate,
    validate,
)


def main() -> None:
    cli()
