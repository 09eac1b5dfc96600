"""docs/quickstart.md works as written: its ``bash`` blocks, run literally, clear two declarations.

The page's first block starts the service (``DANCHUANG_CLOCK_SPEED=instant make run``); the test
starts the same thing itself — ``danchuang serve`` with that clock, as ``make run`` does — as a
subprocess on loopback, and runs every other block, unchanged, in one bash session, the way a
reader pastes them into a second terminal. The one substitution: the page's address
``127.0.0.1:8000`` becomes the free port the test's server listens on (the page tells its
readers to do the same when 8000 is taken).

Both run in a temporary folder that stands for a fresh checkout: ``.venv`` is a link to the
project's, and ``var/`` (the SQLite database, the demo keys) starts empty. No ``DANCHUANG_*``
variable of the caller's environment reaches either process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import free_port, stop, wait_until_healthy

from app.db.models import Role
from app.demo import DEMO_ENTERPRISES

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "quickstart.md"
START_BLOCK = "DANCHUANG_CLOCK_SPEED=instant make run"
DOC_ADDRESS = "127.0.0.1:8000"


def bash_blocks(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^```bash\n(.*?)^```$", text, re.M | re.S)]


def clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("DANCHUANG_")}


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A folder standing for a fresh checkout: the project's ``.venv``, nothing else."""
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    return tmp_path


@pytest.fixture
def served(checkout: Path) -> Iterator[str]:
    """What the page's first block starts: the service with the instant clock, on loopback."""
    port = free_port()
    env = clean_environment() | {"DANCHUANG_CLOCK_SPEED": "instant"}
    serve = [str(checkout / ".venv/bin/danchuang"), "serve", "--host", "127.0.0.1"]
    log = (checkout / "server.log").open("wb")  # read back when the script fails
    server = subprocess.Popen(
        [*serve, "--port", str(port)], cwd=checkout, env=env, stdout=log, stderr=log
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base, server, checkout / "server.log")
        yield base
    finally:
        stop(server)
        log.close()


def test_the_page_starts_the_service_as_make_run_does() -> None:
    blocks = bash_blocks(PAGE.read_text(encoding="utf-8"))
    assert blocks[0].strip() == START_BLOCK
    assert "make run" not in "".join(blocks[1:])
    # what the test's server stands for: `make run` serves on 127.0.0.1:8000
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "danchuang serve --host $(HOST) --port $(PORT)" in makefile
    assert "HOST   ?= 127.0.0.1" in makefile and "PORT   ?= 8000" in makefile


@pytest.mark.slow
def test_the_page_clears_an_import_and_an_export_declaration(checkout: Path, served: str) -> None:
    blocks = bash_blocks(PAGE.read_text(encoding="utf-8"))[1:]
    address = served.removeprefix("http://")
    script = "set -euo pipefail\n" + "\n".join(b.replace(DOC_ADDRESS, address) for b in blocks)
    run = subprocess.run(
        ["bash", "-c", script],
        check=False,
        cwd=checkout,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    server_log = (checkout / "server.log").read_text(encoding="utf-8", errors="replace")
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}\n--- server ---\n{server_log[-4000:]}"
    assert "declaration 1: cleared" in run.stdout, run.stdout
    assert "declaration 2 cleared 899" in run.stdout, run.stdout

    # Seen from the service, not from the script's own words: both declarations are at 899,
    # and each of the four senders (seller, payer, carrier, broker) sent its own document of it,
    # so each lists it among its declarations.
    keys = json.loads((checkout / "var/demo-keys.json").read_text(encoding="utf-8"))
    senders = [d for d in DEMO_ENTERPRISES if Role.EBP not in d.roles]
    assert len(senders) == 8
    for sender in senders:
        request = urllib.request.Request(
            f"{served}/api/v1/declarations",
            headers={"Authorization": f"Bearer {keys[sender.code]}"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            declarations = json.load(answer)["declarations"]
        assert [
            (d["regime"], d["direction"], d["state"], d["return_status"]) for d in declarations
        ] == [("9610", sender.direction, "cleared", 899)], sender.name
