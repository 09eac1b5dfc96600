"""The API's documentation page in a real headless Chromium: it renders with nothing loaded
from other servers (the ``page`` fixture fails a test on any such request), as on a network
without internet access."""

from __future__ import annotations

from typing import Any

import pytest
from browser_support import Server, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_swagger_ui_lists_the_operations(page: Any, server: Server) -> None:
    page.goto("/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = {
        p.replace("\u200b", "") for p in page.locator(".opblock-summary-path").all_inner_texts()
    }
    assert {"/api/v1/documents", "/api/v1/webhooks", "/healthz"} <= paths
    shot(page, "api-docs-swagger")
