"""Names the dashboard tests share (a plain module: test modules must not import conftest,
whose name every test folder uses)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from declarations.messages import Direction, Regime

ADMIN_KEY = "dashboard-admin-key-0123456789abcdef01234"

# ``await send_set(regime, direction)`` -> the declaration's id (fixture ``send_set``)
SendSet = Callable[[Regime, Direction], Awaitable[int]]
