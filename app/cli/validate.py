"""CLI commands: validate (to be written)."""

from __future__ import annotations

from app.cli import cli as _cli  # noqa: F401
