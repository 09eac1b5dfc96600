"""The dashboard's Jinja environment: templates and static files ship inside the package."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import jinja2
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app.dashboard.codes import meaning

HERE = Path(__file__).resolve().parent

# Autoescape everything: Starlette's default escapes only *.html/*.xml names, and these
# templates end in .j2 — while they show XML that enterprises and visitors sent.
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=False
    )
)


def _when(moment: datetime | str | None) -> str:
    """UTC to the second; the dashboard is read by people, not parsers (the API gives ISO)."""
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


templates.env.filters["when"] = _when
templates.env.globals["meaning"] = meaning


def static_files() -> StaticFiles:
    return StaticFiles(directory=HERE / "static")
