"""Starting and stopping a real ``danchuang serve`` on loopback, for the tests that need one
(a plain module: test modules must not import conftest)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(
    url: str, process: subprocess.Popen[bytes], log: Path, *, seconds: float = 60
) -> None:
    """Wait for ``url``/healthz to answer 200; fail the test, with the server's log, when the
    process exits first or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"danchuang serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"danchuang serve did not become healthy in {seconds:.0f} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server: SIGTERM, then SIGKILL after 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


DANCHUANG = Path(sys.executable).with_name("danchuang")
ADMIN = "live-server-admin-key-0123456789abcdef0123"


class Server:
    """`danchuang serve` as a subprocess on a free loopback port, with fast engine and webhook
    timings; ``kill`` is SIGKILL, no goodbye."""

    def __init__(self, db_url: str, workdir: Path, clock_speed: str = "150") -> None:
        self.port = free_port()
        self.workdir = workdir
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DANCHUANG_")},
            "DANCHUANG_DATABASE_URL": db_url,
            "DANCHUANG_ADMIN_KEY": ADMIN,
            "DANCHUANG_CLOCK_SPEED": clock_speed,
            "DANCHUANG_LOG_FORMAT": "json",
            "DANCHUANG_ENGINE_LEASE_S": "2",
            "DANCHUANG_ENGINE_TICK_S": "0.1",
            "DANCHUANG_WEBHOOK_POLL_INTERVAL_S": "0.2",
            "DANCHUANG_WEBHOOK_TIMEOUT_S": "2",
            "DANCHUANG_WEBHOOK_LEASE_S": "3",
            "DANCHUANG_WEBHOOK_BACKOFF_BASE_S": "0.5",
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        log = self.workdir / f"server-{self.starts}.log"
        self.process = subprocess.Popen(
            [str(DANCHUANG), "serve", "--port", str(self.port)],
            cwd=self.workdir,
            env=self.env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        wait_until_healthy(self.base_url, self.process, log, seconds=30)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop(self.process)

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.workdir.glob("server-*.log"))
        )


def register_over_http(client: httpx.Client, code: str, role: str) -> str:
    """Register an enterprise through the admin API (if new) and return a fresh API key."""
    admin = {"Authorization": f"Bearer {ADMIN}"}
    answer = client.post(
        "/api/v1/enterprises",
        json={"code": code, "name": f"Test {code}", "roles": [role]},
        headers=admin,
    )
    assert answer.status_code in (201, 409), answer.text
    key = client.post(f"/api/v1/enterprises/{code}/keys", headers=admin)
    assert key.status_code == 201, key.text
    return str(key.json()["key"])
