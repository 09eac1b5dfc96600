"""Browser tests: Debian's Chromium driven by Playwright against a real ``danchuang serve``.

The server is a subprocess on a free loopback port with its own temp folder (SQLite database,
scenario job outputs), so the pages are exercised exactly as ``make run`` serves them. Chromium
is never downloaded: the tests skip, saying why, when ``/usr/bin/chromium`` is absent (CI
installs it with apt). Every test saves screenshots under ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import ADMIN_KEY, Server
from live_server import free_port, stop, wait_until_healthy

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--disable-quic"]  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        pytest.skip(f"no browser: {CHROMIUM} is absent (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {
        **os.environ,
        "DANCHUANG_DATABASE_URL": f"sqlite:///{folder / 'danchuang.db'}",
        "DANCHUANG_ADMIN_KEY": ADMIN_KEY,
        "DANCHUANG_ENVIRONMENT": "development",
        # 300x: the built-in site's ~20 simulated minutes pass in a few seconds, slowly
        # enough to watch a declaration move through its states on the live page.
        "DANCHUANG_CLOCK_SPEED": "300",
        "DANCHUANG_DASHBOARD_JOBS_DIR": str(folder / "jobs"),
        "DANCHUANG_DASHBOARD_REFRESH_MS": "400",
        "DANCHUANG_DEMO_KEYS_FILE": str(folder / "demo-keys.json"),
        "DANCHUANG_LOG_FORMAT": "json",
    }
    danchuang = Path(sys.executable).parent / "danchuang"
    log = folder / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(danchuang), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=folder,  # no .env of the checkout, and ./var stays in the temp folder
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log)
        yield Server(url, folder, log)
    finally:
        stop(process)


# Module scope, not session: Playwright's sync API keeps an asyncio loop marked as running for as
# long as it is open, which would break every async test collected after this folder.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"no browser: {CHROMIUM} is absent (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    # The pages must load nothing from elsewhere: any request off this server fails the test.
    outside: list[str] = []
    context.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith((server.url, "data:", "about:"))
            else None
        ),
    )
    page = context.new_page()
    yield page
    context.close()
    assert not outside, f"the page requested other servers: {outside}"
