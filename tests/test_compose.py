"""deploy/compose.yaml holds together: real commands, real settings, enough partitions and
connections, a load balancer that reaches the API replicas, and health checks that work.

``docker compose config`` checks the file itself when Docker Compose is installed. The rest
needs no Docker: the file is read with its variables at their defaults (as ``docker compose``
interpolates them), each service's command is parsed by the danchuang CLI, each setting by the
service's settings classes, and on PostgreSQL the services are played as processes (migrate,
then an API and a worker with the file's own environment) until their own health checks pass.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from live_server import DANCHUANG, free_port, stop
from postgres_support import throwaway_schema
from typer.exceptions import TyperException

from app.cli import cli
from app.db.engine import POOL_OVERFLOW, POOL_SIZE
from app.engine.config import EngineSettings
from app.settings import Settings

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "deploy" / "compose.yaml"
NGINX = REPO / "deploy" / "nginx.conf"
ADMIN_KEY = "compose-test-admin-key-0123456789abcdef"
# Compose's interpolation: ${NAME}, ${NAME:-default}, ${NAME:?error}.
_VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """``value`` (a parsed compose file or part of it) with its variables replaced as
    ``docker compose`` does, from ``env``; an unset required variable raises ``KeyError``."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        if env.get(name):
            return env[name]
        if operator == "?":
            raise KeyError(f"{name}: {argument}")
        return argument if operator == "-" else ""

    return _VARIABLE.sub(one, value)


def compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The compose file, its variables at their defaults (and the admin key given)."""
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    result: dict[str, Any] = interpolate(raw, {"DANCHUANG_ADMIN_KEY": ADMIN_KEY, **(env or {})})
    return result


def parse_cli(words: list[str]) -> tuple[str, dict[str, Any]]:
    """Parse ``words`` as the danchuang CLI does, without running the command: (the command's
    name, its parameters). An unknown command or option, or a bad value, raises the CLI's
    usage error (a ``TyperException``)."""
    assert words[0] == "danchuang", words
    command: Any = typer.main.get_command(cli)
    rest = words[1:]
    while rest and rest[0] in getattr(command, "commands", {}):
        command, rest = command.commands[rest[0]], rest[1:]
    assert not hasattr(command, "commands"), f"{words}: no such danchuang command"
    context = command.make_context(command.name, list(rest))
    return str(command.name), dict(context.params)


def option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def replicas(service: dict[str, Any]) -> int:
    return int(service.get("deploy", {}).get("replicas", 1))


def danchuang_settings() -> set[str]:
    """Every environment variable the service reads."""
    service = {f"DANCHUANG_{name.upper()}" for name in Settings.model_fields}
    engine = {f"DANCHUANG_ENGINE_{name.upper()}" for name in EngineSettings.model_fields}
    return service | engine


def nginx_upstream() -> tuple[str, list[str]]:
    """The upstream nginx proxies to and its ``server`` entries."""
    text = re.sub(r"#.*", "", NGINX.read_text(encoding="utf-8"))
    (passed,) = re.findall(r"proxy_pass\s+http://([\w.-]+)\s*;", text)
    block = re.search(r"upstream\s+" + re.escape(passed) + r"\s*\{([^}]*)\}", text)
    assert block, f"nginx.conf has no upstream {passed}"
    return passed, re.findall(r"^\s*server\s+([^;\s]+)", block.group(1), re.MULTILINE)


def test_every_command_is_a_real_danchuang_command() -> None:
    services = compose()["services"]
    commands = {n: s["command"] for n, s in services.items() if "danchuang" in s.get("command", [])}
    assert set(commands) == {"migrate", "api", "worker"}
    for words in commands.values():
        parse_cli(words)  # raises on an unknown command or option, or a bad value
    assert commands["migrate"][1:] == ["db", "upgrade"]
    assert commands["worker"][1:] == ["worker"]
    name, params = parse_cli(commands["api"])
    assert name == "serve" and params["no_engine"] is True and params["workers"] >= 2
    with pytest.raises(TyperException, match="no-such-option"):  # the check catches one
        parse_cli(["danchuang", "serve", "--no-such-option"])
    with pytest.raises(TyperException):
        parse_cli(["danchuang", "serve", "--workers", "0"])


def test_every_danchuang_variable_is_a_real_setting_with_a_valid_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = compose()["services"]
    known = danchuang_settings()
    text = COMPOSE.read_text(encoding="utf-8") + NGINX.read_text(encoding="utf-8")
    named = set(re.findall(r"\bDANCHUANG_[A-Z0-9_]+", text))
    assert named - known == set(), "not settings of app/settings.py or app/engine/config.py"
    environments = [
        s["environment"] for s in services.values() if "danchuang" in s.get("command", [])
    ]
    assert all(env == environments[0] for env in environments), "not one shared environment"
    for key in list(os.environ):
        if key.startswith("DANCHUANG_"):
            monkeypatch.delenv(key)
    for key, value in environments[0].items():
        monkeypatch.setenv(key, str(value))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    engine = EngineSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.environment == "production" and not settings.is_sqlite
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert not settings.migrate_on_start  # the migrate service has run them
    assert engine.partitions > 1  # the workers' health check reads their heartbeat rows
    # nginx lets through the largest body the service takes
    (limit,) = re.findall(r"client_max_body_size\s+(\d+)m;", NGINX.read_text(encoding="utf-8"))
    assert int(limit) * 1024 * 1024 >= max(settings.max_bundle_bytes, settings.max_document_bytes)


def test_the_admin_key_is_required_and_never_in_the_file() -> None:
    with pytest.raises(KeyError, match="DANCHUANG_ADMIN_KEY"):
        compose({"DANCHUANG_ADMIN_KEY": ""})
    assert ADMIN_KEY not in COMPOSE.read_text(encoding="utf-8")


def scaled_example() -> dict[str, str]:
    """The variables of the scaling example in the compose file's header comment."""
    found = re.search(r"^#\s+(API_REPLICAS=[^\n]*)", COMPOSE.read_text(encoding="utf-8"), re.M)
    assert found, "the compose file shows no scaling example"
    return dict(word.split("=", 1) for word in re.findall(r"\b[A-Z_]+=\S+", found.group(1)))


@pytest.mark.parametrize("example", ["defaults", "scaled"])
def test_partitions_and_connections_cover_the_processes(example: str) -> None:
    services = compose(scaled_example() if example == "scaled" else {})["services"]
    workers = replicas(services["worker"])
    partitions = int(services["worker"]["environment"]["DANCHUANG_ENGINE_PARTITIONS"])
    assert workers >= 2 and partitions >= workers and partitions % workers == 0
    api_processes = replicas(services["api"]) * int(option(services["api"]["command"], "--workers"))
    assert api_processes >= 2
    (setting,) = [w for w in services["db"]["command"] if w.startswith("max_connections=")]
    # each process's pool may open POOL_SIZE + POOL_OVERFLOW; 20 more for psql and the like
    processes = api_processes + workers
    assert int(setting.split("=")[1]) >= (POOL_SIZE + POOL_OVERFLOW) * processes + 20


def test_the_load_balancer_reaches_every_api_replica() -> None:
    services = compose()["services"]
    api, lb = services["api"], services["lb"]
    assert "ports" not in api, "replicas cannot share a published port: publish lb's"
    _name, servers = nginx_upstream()
    port = option(api["command"], "--port")
    assert servers == [f"api:{port}"]
    assert any(v.startswith("./nginx.conf:") for v in lb["volumes"])
    (published,) = lb["ports"]
    (listen,) = re.findall(r"^\s*listen\s+(\d+);", NGINX.read_text(encoding="utf-8"), re.M)
    assert published.rsplit(":", 1)[1] == listen
    assert lb["depends_on"]["api"]["condition"] == "service_healthy"
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def _docker_compose() -> list[str] | None:
    """How to run Docker Compose here, if at all."""
    docker = shutil.which("docker")
    if docker:
        plugin = subprocess.run([docker, "compose", "version"], check=False, capture_output=True)
        if plugin.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_accepts_the_file() -> None:
    command = _docker_compose()
    if command is None:
        pytest.skip("Docker Compose is not installed (no `docker compose`, no docker-compose)")
    config = [*command, "-f", str(COMPOSE), "config", "--quiet"]
    env = {**os.environ, "DANCHUANG_ADMIN_KEY": ADMIN_KEY}
    checked = subprocess.run(config, env=env, check=False, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    env.pop("DANCHUANG_ADMIN_KEY")
    refused = subprocess.run(config, env=env, check=False, capture_output=True, text=True)
    assert refused.returncode != 0 and "DANCHUANG_ADMIN_KEY" in refused.stderr


# -- the services played as processes on PostgreSQL ------------------------------------------


def _local(words: list[str], port: str) -> list[str]:
    """A container's command run here: its ``danchuang`` and ``python`` this virtualenv's, its
    API on 127.0.0.1:``port``."""
    found = {"danchuang": str(DANCHUANG), "python": sys.executable, "0.0.0.0": "127.0.0.1",
             "8000": port}  # fmt: skip
    return [found.get(w, w).replace("127.0.0.1:8000", f"127.0.0.1:{port}") for w in words]


def _healthy(check: list[str], env: dict[str, str], workdir: Path) -> bool:
    assert check[0] == "CMD"
    done = subprocess.run(check[1:], check=False, env=env, cwd=workdir, capture_output=True)
    return done.returncode == 0


def _wait_healthy(check: list[str], env: dict[str, str], workdir: Path, what: str) -> None:
    deadline = time.monotonic() + 60
    while not _healthy(check, env, workdir):
        assert time.monotonic() < deadline, f"{what} never passed its health check"
        time.sleep(0.5)


def _stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        stop(process)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with throwaway_schema() as url:
        yield url


@pytest.mark.slow
@pytest.mark.postgres
def test_the_services_pass_their_own_health_checks(pg_url: str, tmp_path: Path) -> None:
    services = compose()["services"]
    port = str(free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANCHUANG_")}
    env.update({k: str(v) for k, v in services["api"]["environment"].items()})
    env["DANCHUANG_DATABASE_URL"] = pg_url  # the db service's database, here
    migrate = _local(services["migrate"]["command"], port)
    migrated = subprocess.run(migrate, env=env, cwd=tmp_path, check=False, capture_output=True)
    assert migrated.returncode == 0, migrated.stderr
    api_check = _local(services["api"]["healthcheck"]["test"], port)
    worker_check = _local(services["worker"]["healthcheck"]["test"], port)
    assert not _healthy(worker_check, env, tmp_path), "healthy before any worker ran"

    started: list[subprocess.Popen[bytes]] = []
    with ExitStack() as logs:
        logs.callback(_stop_all, started)
        for name in ("api", "worker"):
            log = logs.enter_context((tmp_path / f"{name}.log").open("wb"))
            command = _local(services[name]["command"], port)
            started.append(subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=log))
        _wait_healthy(api_check, env, tmp_path, "the api")
        _wait_healthy(worker_check, env, tmp_path, "the worker")
        worker = started.pop()
        worker.send_signal(signal.SIGTERM)  # a clean stop ends its heartbeat at once
        worker.wait(30)
        assert not _healthy(worker_check, env, tmp_path), "healthy after the worker stopped"
