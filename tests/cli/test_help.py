"""Every command's ``--help`` reads as a command line's, not as Python: no type names
(``<list[Path]>``, ``<bool>``, ``{files}...``), and the defaults are shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from typer import _click
from typer.testing import CliRunner

from app.cli import cli

SHIPPED = sorted(p.stem for p in (Path(__file__).parents[2] / "scenarios").glob("*.yaml"))

runner = CliRunner()

# What Typer prints from Python annotations: ``<str>``, ``<int range>``, ``<list[Path]>``,
# ``<text|json|junit>``, and ``{files}`` for a required argument.
PYTHON_LOOK = re.compile(r"<(?:[a-z]+(?: range)?|list\[\w+\]|\w+(?:\|\w+)+)>|\{[a-z_]+\}|list\[")


def _commands(
    group: _click.Group | _click.Command, path: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in getattr(group, "commands", {}).items():
        found += _commands(command, (*path, name))
    return found


COMMANDS = _commands(typer.main.get_command(cli))


def _help(*path: str) -> str:
    result = runner.invoke(cli, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_command_is_checked() -> None:
    names = {" ".join(p) for p in COMMANDS}
    assert {"", "serve", "validate", "simulate", "sweep", "conformance", "db upgrade"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "danchuang")
def test_help_shows_no_python_type_names(path: tuple[str, ...]) -> None:
    text = _help(*path)
    assert not PYTHON_LOOK.findall(text), text


def test_help_names_arguments_and_value_kinds_as_a_command_line_does() -> None:
    validate = _help("validate")
    assert "Usage: danchuang validate [OPTIONS] FILES..." in validate
    assert "text|json|junit" in validate
    conformance = _help("conformance")
    assert "Usage: danchuang conformance [OPTIONS] [FOLDER]" in conformance
    assert re.search(r"--timeout\s+NUMBER", conformance)
    # A flag takes no value: nothing between its name and its help.
    assert re.search(r"--list-params\s+Print every parameter", _help("sweep"))


def test_serve_shows_the_default_address_and_port() -> None:
    text = _help("serve")
    assert "127.0.0.1" in text and "DANCHUANG_HOST" in text
    assert "8000" in text and "DANCHUANG_PORT" in text


def test_simulate_and_sweep_list_the_shipped_scenarios() -> None:
    assert "ezhou-huahu" in SHIPPED
    for command in ("simulate", "sweep"):
        flat = " ".join(_help(command).replace("│", " ").split())  # the help wraps lines
        for name in SHIPPED:
            assert name in flat, (command, name)
