"""Who may open the dashboard (the policy is in ``app.dashboard.config``).

Every dashboard route depends on ``require_access``. A visitor who is not let in is sent to the
login form (303) — an HTTP redirect, so it works through the app's ordinary error handler.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import HTTPException, Request

from app.dashboard.config import DashboardSettings, open_without_key
from app.settings import Settings

COOKIE = "danchuang_dashboard"


def dashboard_settings(request: Request) -> DashboardSettings:
    found: DashboardSettings = request.app.state.dashboard_settings
    return found


def _admin_key(settings: Settings) -> str:
    return settings.admin_key.get_secret_value() if settings.admin_key else ""


def is_admin_key(settings: Settings, presented: str) -> bool:
    admin = _admin_key(settings)
    return bool(admin) and hmac.compare_digest(presented.encode(), admin.encode())


def session_token(settings: Settings) -> str:
    """The login cookie's value: derived from the admin key, so the key itself is never
    stored in the browser; changing the key signs every browser out."""
    return hmac.new(
        _admin_key(settings).encode(), b"danchuang-dashboard", hashlib.sha256
    ).hexdigest()


def _signed_in(request: Request, settings: Settings) -> bool:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return is_admin_key(settings, header[7:].strip())
    cookie = request.cookies.get(COOKIE, "")
    return bool(_admin_key(settings)) and hmac.compare_digest(
        cookie.encode(), session_token(settings).encode()
    )


def is_open(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return open_without_key(dashboard_settings(request), settings)


def require_access(request: Request) -> None:
    settings: Settings = request.app.state.settings
    if is_open(request) or _signed_in(request, settings):
        return
    if not _admin_key(settings):
        raise HTTPException(404, "the dashboard is turned off (DANCHUANG_DASHBOARD_ENABLED)")
    raise HTTPException(303, "sign in with the admin key", headers={"Location": "/login"})
