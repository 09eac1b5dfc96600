"""Names the browser tests share (a plain module: test modules must not import conftest,
whose name every test folder uses)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
ADMIN_KEY = "browser-admin-key-0123456789abcdef0123456789"


@dataclass(frozen=True)
class Server:
    url: str
    folder: Path
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


def shot(page: Any, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@contextmanager
def offline_page(browser: Any, report: Path) -> Iterator[Any]:
    """The self-contained HTML file ``report`` open in a fresh 1280×900 page; on leaving, the
    page must have asked no other server for anything."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    context.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None,
    )
    page = context.new_page()
    page.goto(report.as_uri())
    yield page
    context.close()
    assert not outside, f"the report requested other servers: {outside}"


def top_to_bottom(page: Any, *ids: str) -> bool:
    """Whether the elements of ``ids`` stand on the page in that order, top to bottom."""
    tops = page.evaluate(
        f"{list(ids)!r}.map(id => document.getElementById(id).getBoundingClientRect().top)"
    )
    return bool(tops == sorted(tops))
