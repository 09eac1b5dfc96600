"""Names the dashboard tests share (a plain module: test modules must not import conftest,
whose name every test folder uses)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from declarations.messages import Direction, Regime

ADMIN_KEY = "dashboard-admin-key-0123456789abcdef01234"

# ``await send_set(regime, direction)`` -> the declaration's id (fixture ``send_set``)
SendSet = Callable[[Regime, Direction], Awaitable[int]]

# An address that would make the browser fetch something from elsewhere.
EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def assert_self_contained(html: str) -> None:
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert not re.search(r"<script[^>]+src\s*=\s*[\"']?http", html, re.IGNORECASE)
    assert "@import" not in html
