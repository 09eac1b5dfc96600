"""The service's CLI commands: seed-demo (idempotent, --rotate), db upgrade, serve --help."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app import accounts
from app.cli import cli
from app.db import migrate
from app.db.engine import Database
from app.db.models import ApiKey, DocumentRow, Enterprise, Role, Webhook
from app.demo import DEMO_ENTERPRISES
from app.receipts import record_receipt
from app.settings import get_settings

runner = CliRunner()


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the CLI's settings at the test database; yields the demo keys file."""
    keys_file = tmp_path / "var" / "demo-keys.json"
    monkeypatch.setenv("DANCHUANG_DATABASE_URL", db_url)
    monkeypatch.setenv("DANCHUANG_DEMO_KEYS_FILE", str(keys_file))
    get_settings.cache_clear()
    yield keys_file
    get_settings.cache_clear()


def _keys(path: Path) -> dict[str, str]:
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_seed_demo_registers_every_party_and_is_idempotent(env: Path, db_url: str) -> None:
    first = runner.invoke(cli, ["seed-demo"])
    assert first.exit_code == 0, first.output
    keys = _keys(env)
    assert set(keys) == {d.code for d in DEMO_ENTERPRISES}
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    for code, key in keys.items():
        assert code in first.output and key in first.output

    second = runner.invoke(cli, ["seed-demo"])
    assert second.exit_code == 0, second.output
    assert _keys(env) == keys  # the same keys, printed again
    assert "(new)" not in second.output

    db = Database.from_url(db_url)
    try:
        with db.read() as session:
            assert session.scalar(select(func.count(Enterprise.id))) == len(DEMO_ENTERPRISES)
            assert session.scalar(select(func.count(ApiKey.id))) == len(DEMO_ENTERPRISES)
            roles = {e.code: set(e.roles) for e in session.scalars(select(Enterprise))}
            for code, key in keys.items():
                principal = accounts.authenticate(session, key)
                assert principal is not None and principal.code == code
        # Both directions have all five parties.
        for direction in ("import", "export"):
            held = set().union(
                *(roles[d.code] for d in DEMO_ENTERPRISES if d.direction == direction)
            )
            assert held == {"ebp", "ebc", "pay", "logistics", "agent"}
    finally:
        db.dispose()


def test_seed_demo_rotate_revokes_the_old_keys(env: Path, db_url: str) -> None:
    assert runner.invoke(cli, ["seed-demo"]).exit_code == 0
    old = _keys(env)
    rotated = runner.invoke(cli, ["seed-demo", "--rotate"])
    assert rotated.exit_code == 0, rotated.output
    new = _keys(env)
    assert set(new) == set(old) and not set(new.values()) & set(old.values())
    db = Database.from_url(db_url)
    try:
        with db.read() as session:
            assert all(accounts.authenticate(session, k) is None for k in old.values())
            assert all(accounts.authenticate(session, k) is not None for k in new.values())
    finally:
        db.dispose()


def test_db_upgrade_brings_a_fresh_database_to_head(env: Path, db_url: str) -> None:
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"revision {migrate.head_revision()}" in result.output
    db = Database.from_url(db_url)
    try:
        assert migrate.is_at_head(db.engine)
    finally:
        db.dispose()


def test_serve_and_worker_are_documented_commands() -> None:
    for command in ("serve", "worker"):
        result = runner.invoke(cli, [command, "--help"])
        assert result.exit_code == 0
    assert "--port" in runner.invoke(cli, ["serve", "--help"]).output


@pytest.mark.slow  # a real process: importing every CLI module takes seconds on a busy box
def test_the_worker_command_delivers_and_stops_on_sigterm(tmp_path: Path) -> None:
    """`danchuang worker` as its own process: it delivers a queued receipt, then exits cleanly
    on SIGTERM (what a process supervisor sends)."""
    delivered = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            delivered.set()

        def log_message(self, *args: object) -> None:
            pass

    url = f"sqlite:///{tmp_path / 'worker.db'}"
    db = Database.from_url(url)
    migrate.upgrade(db.engine)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        with db.write() as session:
            enterprise = accounts.create_enterprise(
                session, code="3301960101", name="p", roles=[Role.EBP]
            )
            session.add(
                Webhook(
                    enterprise_id=enterprise.id,
                    url=f"http://127.0.0.1:{server.server_address[1]}/",
                    secret="s" * 32,
                    events=[],
                )
            )
            document = DocumentRow(
                guid="GW", message_code="CEB311", direction="import", raw_xml=b"<x/>",
                sender_id=enterprise.id,
            )  # fmt: skip
            session.add(document)
            session.flush()
            record_receipt(session, message_code="CEB312", return_status=2, document_id=document.id)
        env = {
            **os.environ,
            "DANCHUANG_DATABASE_URL": url,
            "DANCHUANG_WEBHOOK_POLL_INTERVAL_S": "0.05",
        }
        worker = subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "worker"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            assert delivered.wait(60), "the worker did not deliver"
        finally:
            worker.send_signal(signal.SIGTERM)
            output, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0, output.decode()
        assert b"webhook.attempt" in output and b"stopped" in output
    finally:
        server.shutdown()
        server.server_close()
        db.dispose()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator (Linux)")
def test_serve_caps_the_malloc_arenas_for_itself_and_its_children() -> None:
    """``serve`` and ``worker`` start with two malloc arenas (app.cli.serve explains why); an
    operator's own MALLOC_ARENA_MAX is left as set."""
    script = (
        "import os; from app.cli.serve import cap_malloc_arenas; "
        "print(cap_malloc_arenas(), os.environ.get('MALLOC_ARENA_MAX'))"
    )
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}

    def run(env: dict[str, str]) -> list[str]:
        command = [sys.executable, "-c", script]
        return subprocess.run(
            command, env=env, capture_output=True, text=True, check=True
        ).stdout.split()

    assert run(environment) == ["True", "2"]
    assert run({**environment, "MALLOC_ARENA_MAX": "4"}) == ["False", "4"]
