"""The Dockerfile and the compose example work: the image's two stages, played without Docker.

There is no Docker engine on the build machines. So the build stage is played on the host: a
folder holding only what the Dockerfile COPYs is built into a wheel, as ``python -m build``
does in the image. The runtime stage runs that wheel with the image's environment and CMD, and
its HEALTHCHECK must pass against it. The image's own schemas validate the image's own samples.
What needs a real Docker engine (the base image, the non-root user's rights) is not covered.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import typer.main
import yaml

from app.cli import cli

REPO = Path(__file__).resolve().parents[1]
# How the runtime stage's ``danchuang`` console script starts, for an unpacked wheel.
DANCHUANG = [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())"]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    pairs = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        pairs.append((keyword.upper(), rest.strip()))
    return pairs


def command_words(arguments: str) -> list[str]:
    """Exec-form (JSON array) or shell-form arguments of CMD/ENTRYPOINT as words."""
    return json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)


def makefile_run_command() -> list[str]:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^run:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert match, "the Makefile has no run target"
    words = shlex.split(match.group(1))
    assert words[0].endswith("/danchuang")
    return ["danchuang", *words[1:]]


def assert_cli_accepts(words: list[str]) -> None:
    """The words form a valid danchuang invocation: the subcommand and every option exist."""
    assert words[0] == "danchuang"
    group = typer.main.get_command(cli)
    sub = group.commands.get(words[1])  # type: ignore[attr-defined]
    assert sub is not None, f"danchuang has no {words[1]!r} command"
    options = {opt for p in sub.params for opt in p.opts + p.secondary_opts}
    for word in words[2:]:
        if word.startswith("--"):
            assert word.split("=")[0] in options, f"danchuang {words[1]} has no {word} option"


def stages(instructions: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """The instructions of each named stage (``FROM … AS name``)."""
    named: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for keyword, arguments in instructions:
        if keyword == "FROM":
            current = named.setdefault(arguments.split()[-1], [])
        else:
            current.append((keyword, arguments))
    return named


def environment(stage: list[tuple[str, str]]) -> dict[str, str]:
    """The stage's ENV (``KEY=value`` pairs; ``$PATH`` kept as the host's)."""
    values: dict[str, str] = {}
    for keyword, arguments in stage:
        if keyword == "ENV":
            for pair in shlex.split(arguments):
                key, _, value = pair.partition("=")
                values[key] = value
    return values


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    return dockerfile_instructions()


@pytest.fixture(scope="module")
def image(instructions: list[tuple[str, str]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build stage, played: only what it COPYs, built into a wheel, unpacked as installed."""
    build = stages(instructions)["build"]
    source = tmp_path_factory.mktemp("context")
    for keyword, arguments in build:
        if keyword == "COPY":
            *paths, _destination = shlex.split(arguments)
            for path in paths:
                origin = REPO / path
                if origin.is_dir():
                    shutil.copytree(
                        origin, source / path, ignore=shutil.ignore_patterns("__pycache__")
                    )
                else:
                    shutil.copy2(origin, source / path)
    assert any("build --wheel" in arguments for kw, arguments in build if kw == "RUN")
    wheels = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(wheels),
            str(source),
        ],
        check=True,
    )
    (wheel,) = wheels.glob("danchuang-*.whl")
    site = tmp_path_factory.mktemp("site")
    zipfile.ZipFile(wheel).extractall(site)
    return site


def runtime_env(instructions: list[tuple[str, str]], image: Path, home: Path) -> dict[str, str]:
    """The runtime stage's ENV, with its database folder moved under ``home`` and the unpacked
    wheel in front of the checkout (the dependencies come from this virtualenv)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANCHUANG_")}
    for key, value in environment(stages(instructions)["runtime"]).items():
        if key != "PATH":
            env[key] = value.replace("/var/lib/danchuang", str(home))
    env["PYTHONPATH"] = str(image)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


@contextmanager
def container(
    command: list[str], env: dict[str, str], home: Path
) -> Iterator[subprocess.Popen[bytes]]:
    log = (home / "container.log").open("wb")
    process = subprocess.Popen(
        command, cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.mark.slow
def test_the_image_serves_on_its_port_and_passes_its_own_healthcheck(
    instructions: list[tuple[str, str]], image: Path, tmp_path: Path
) -> None:
    (cmd,) = [command_words(args) for kw, args in instructions if kw == "CMD"]
    (check,) = [args for kw, args in instructions if kw == "HEALTHCHECK"]
    (exposed,) = [args for kw, args in instructions if kw == "EXPOSE"]
    assert cmd[0] == "danchuang" and cmd[cmd.index("--port") + 1] == exposed
    probe = check.split(" CMD ", 1)[1]
    assert f"127.0.0.1:{exposed}/" in probe, "the healthcheck probes another port than the CMD's"

    port = str(free_port())  # the host's port 8000 may be taken: the same port everywhere
    command = [*DANCHUANG, *(port if word == exposed else word for word in cmd[1:])]
    env = runtime_env(instructions, image, tmp_path)
    probe = probe.replace(f"127.0.0.1:{exposed}/", f"127.0.0.1:{port}/")
    with container(command, env, tmp_path) as server:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (tmp_path / "container.log").read_text()
            result = subprocess.run(
                ["sh", "-c", probe], check=False, env=env, capture_output=True, timeout=30
            )
            if result.returncode == 0:
                break
            assert time.monotonic() < deadline, (tmp_path / "container.log").read_text()
            time.sleep(1)
    # It ran from the image's wheel and kept its database where the image's ENV says.
    assert (tmp_path / "danchuang.db").exists()


@pytest.mark.slow
def test_the_image_validates_its_own_samples_with_its_own_schemas(
    instructions: list[tuple[str, str]], image: Path, tmp_path: Path
) -> None:
    env = runtime_env(instructions, image, tmp_path)
    run = functools.partial(subprocess.run, cwd=tmp_path, env=env, capture_output=True, text=True)
    written = run([*DANCHUANG, "samples", "1210", "--out", "sets", "--count", "2"])
    assert written.returncode == 0, written.stderr
    checked = run([*DANCHUANG, "validate", "sets", "--regime", "1210"])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    locate = run([sys.executable, "-c", "import declarations.paths as d; print(d.xsd_root())"])
    assert Path(locate.stdout.strip()).is_relative_to(image)


def test_the_runtime_user_owns_the_database_folder(instructions: list[tuple[str, str]]) -> None:
    runtime = stages(instructions)["runtime"]
    users = [args for kw, args in runtime if kw == "USER"]
    assert users and users[-1] not in {"root", "0"}
    database = environment(runtime)["DANCHUANG_DATABASE_URL"].removeprefix("sqlite:///")
    folder = str(Path(database).parent)
    (setup,) = [args for kw, args in runtime if kw == "RUN" and "useradd" in args]
    assert f"chown {users[-1]} {folder}" in setup, "the database folder is not the user's"


def test_container_command_matches_make_run(instructions: list[tuple[str, str]]) -> None:
    (cmd,) = [command_words(args) for kw, args in instructions if kw == "CMD"]
    make_run = makefile_run_command()
    # Same subcommand and same options; only the values (bind address) may differ.
    assert cmd[:2] == make_run[:2] == ["danchuang", "serve"]
    assert [w for w in cmd if w.startswith("--")] == [w for w in make_run if w.startswith("--")]
    assert_cli_accepts(cmd)
    assert_cli_accepts(make_run)
    exposed = [args for kw, args in instructions if kw == "EXPOSE"]
    assert exposed == [cmd[cmd.index("--port") + 1]]


def test_compose_example_uses_real_commands() -> None:
    compose = yaml.safe_load((REPO / "deploy/compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"db", "api", "worker"} <= set(services)
    assert services["db"]["image"].startswith("postgres")
    for name in ("api", "worker"):
        assert_cli_accepts(services[name]["command"])
        url = services[name]["environment"]["DANCHUANG_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://")
    assert services["worker"]["command"][1] == "worker"
