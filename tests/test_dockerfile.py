"""The Dockerfile and the compose example stay true to the Makefile and the CLI.

There is no Docker engine on the build machines, so the image is never built here: these tests
read the files and check what can be checked without one.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import typer.main
import yaml

from app.cli import cli

REPO = Path(__file__).resolve().parents[1]


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


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    return dockerfile_instructions()


def test_multi_stage_build_runs_as_non_root(instructions: list[tuple[str, str]]) -> None:
    stages = [args for kw, args in instructions if kw == "FROM"]
    assert len(stages) >= 2, "expected a build stage and a runtime stage"
    users = [args for kw, args in instructions if kw == "USER"]
    assert users and users[-1] not in {"root", "0"}


def test_schemas_and_scenarios_are_baked_in(instructions: list[tuple[str, str]]) -> None:
    copied = " ".join(args for kw, args in instructions if kw == "COPY")
    assert "xsd" in copied and "scenarios" in copied


def test_healthcheck_probes_the_health_endpoint(instructions: list[tuple[str, str]]) -> None:
    checks = [args for kw, args in instructions if kw == "HEALTHCHECK"]
    assert len(checks) == 1 and "/healthz" in checks[0]


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
