"""The core packages never import the transport or the database (docs/architecture.md, "Layers")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {"fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn", "app"}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", ["declarations", "simulation"])
def test_core_package_stays_out_of_transport_and_persistence(package: str) -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(imported_top_levels(path) & FORBIDDEN)
        for path in (REPO / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_simulation_uses_declarations_for_codes_only() -> None:
    # simulation/ may import declarations for receipt codes and message names, nothing heavier.
    allowed = {
        "declarations",
        "declarations.codes",
        "declarations.messages",
        "declarations.lifecycle",
    }
    for path in (REPO / "simulation").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("declarations")
            ):
                assert node.module in allowed, f"{path}: imports {node.module}"
