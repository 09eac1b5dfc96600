"""CLI commands: serve (placeholder until the service lands)."""

from __future__ import annotations

import typer

from app.cli import cli


@cli.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the API, dashboard and clearance engine in one process."""
    typer.echo("the service is not written yet", err=True)
    raise typer.Exit(2)
