"""Which package may import which: the layers of docs/architecture.md ("Layers").

Imports are read with ``ast``, module-level and inside functions alike (also those under
``if TYPE_CHECKING:``): a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import declarations

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {"fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn", "app"}

# The layers of app/, top to bottom. A module may import its own layer and the layers below
# it, never one above. Each entry names packages or modules (a package holds its submodules);
# the core (declarations/, simulation/) lies below them all and any layer may use it.
APP_LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("entry", ("app.main", "app.cli")),
    ("transport", ("app.api", "app.dashboard")),
    (
        "service",
        (
            "app.services",
            "app.engine",
            "app.webhooks",
            "app.receipts",
            "app.feed",
            "app.accounts",
            "app.security",
            "app.quota",
            "app.demo",
            "app.conformance",
            "app.report",
        ),
    ),
    ("persistence", ("app.db",)),
    (
        "foundation",
        ("app", "app.errors", "app.settings", "app.logging", "app.metrics", "app.states"),
    ),
)
# The report and the conformance runner use the core, not the service.
CORE_ONLY = ("app.report", "app.conformance")
# Only the layers that speak HTTP may import the web framework.
WEB = {"fastapi", "starlette", "uvicorn"}
WEB_LAYERS = {"entry", "transport"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


APP_MODULES = {module_name(p): p for p in sorted((REPO / "app").rglob("*.py"))}
CORE_MODULES = {
    module_name(p)
    for package in ("declarations", "simulation")
    for p in (REPO / package).rglob("*.py")
}
# What code outside declarations/ may import of it: the package's ``__all__``, and the two tools
# built on it (docs/architecture.md, "The public core").
DECLARATIONS_PUBLIC = {
    "declarations",
    "declarations.samples",
    "declarations.sample_followups",
    "declarations.sample_export_followups",
    "declarations.dictionary",
}


def imports(module: str, source: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, imported module) for every import in ``source``, relative ones resolved.

    ``from app.db import models`` is ``app.db.models``; ``from app.db.models import Document``
    is ``app.db.models``.
    """
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                known = submodule in APP_MODULES or submodule in CORE_MODULES
                found.append((node.lineno, submodule if known else base))
    return sorted(found)


def imports_of(path: Path) -> list[tuple[int, str]]:
    source = path.read_text(encoding="utf-8")
    return imports(module_name(path), source, path.name == "__init__.py")


def owner(module: str, entries: tuple[str, ...]) -> str | None:
    """The longest entry that ``module`` is or lies in (``app`` itself only as itself)."""
    matches = [e for e in entries if module == e or (e != "app" and module.startswith(e + "."))]
    return max(matches, key=len, default=None)


def layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (length of the matching entry, layer index)
    for index, (_, entries) in enumerate(APP_LAYERS):
        entry = owner(module, entries)
        if entry is not None and (best is None or len(entry) > best[0]):
            best = (len(entry), index)
    return best[1] if best else None


def breaches(module: str, found: list[tuple[int, str]]) -> list[str]:
    """Every import ``found`` in ``module`` that the layers forbid, as a sentence naming the
    rule."""
    here = layer_of(module)
    assert here is not None, f"{module} belongs to no layer: add it to APP_LAYERS"
    here_name = APP_LAYERS[here][0]
    core_only = owner(module, CORE_ONLY)
    problems = []
    for line, target in found:
        top = target.split(".")[0]
        where = f"{module} (line {line}) imports {target}"
        if top in WEB and here_name not in WEB_LAYERS:
            problems.append(f"{where}: only the entry and transport layers use {top}")
        if top != "app":
            continue
        if core_only is not None and owner(target, (core_only,)) is None:
            problems.append(f"{where}: {core_only} uses the core only, nothing else of app/")
        there = layer_of(target)
        if there is not None and there < here:
            problems.append(
                f"{where}: the {here_name} layer may not import the "
                f"{APP_LAYERS[there][0]} layer above it"
            )
    return problems


def test_every_app_module_belongs_to_a_layer() -> None:
    lost = [m for m in APP_MODULES if layer_of(m) is None]
    assert lost == [], f"{lost}: add them to APP_LAYERS here and to docs/architecture.md (Layers)"


def test_no_app_module_imports_a_layer_above_it() -> None:
    problems = [
        problem
        for module, path in APP_MODULES.items()
        for problem in breaches(module, imports_of(path))
    ]
    assert problems == [], "imports against docs/architecture.md (Layers):\n" + "\n".join(problems)


def test_the_check_sees_upward_imports_at_module_and_function_level() -> None:
    source = (
        "from app.api import deps\n"
        "import app.main\n"
        "from ..api.deps import xml_body\n"
        "from app.db.models import Document\n"
        "def f():\n"
        "    from app.dashboard import queries\n"
        "    import fastapi\n"
    )
    problems = breaches(
        "app.services.submission", imports("app.services.submission", source, False)
    )
    assert [p.split(":")[0] for p in problems] == [
        "app.services.submission (line 1) imports app.api.deps",
        "app.services.submission (line 2) imports app.main",
        "app.services.submission (line 3) imports app.api.deps",
        "app.services.submission (line 6) imports app.dashboard.queries",
        "app.services.submission (line 7) imports fastapi",
    ]
    assert "the service layer may not import the transport layer above it" in problems[0]


def test_the_report_uses_the_core_only() -> None:
    found = imports("app.report.plots", "from app.db import models\n", False)
    assert breaches("app.report.plots", found) == [
        "app.report.plots (line 1) imports app.db.models: "
        "app.report uses the core only, nothing else of app/"
    ]


@pytest.mark.parametrize("package", ["declarations", "simulation"])
def test_core_package_stays_out_of_transport_and_persistence(package: str) -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(
            {target.split(".")[0] for _, target in imports_of(path)} & FORBIDDEN
        )
        for path in (REPO / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def private_uses(module: str, source: str, is_package: bool) -> list[str]:
    """Every import in ``source`` of a part of declarations/ that is not public: one of its
    modules, or a name of the package that ``__all__`` does not list."""
    problems = []
    for line, target in sorted(set(imports(module, source, is_package))):
        if target.split(".")[0] == "declarations" and target not in DECLARATIONS_PUBLIC:
            problems.append(f"{module} (line {line}) imports {target}, a private module")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "declarations" and not node.level:
            hidden = [
                a.name
                for a in node.names
                if a.name not in declarations.__all__
                and f"declarations.{a.name}" not in CORE_MODULES  # (a module: checked above)
            ]
            if hidden:
                problems.append(
                    f"{module} (line {node.lineno}) imports {', '.join(hidden)} from "
                    "declarations, which its __all__ does not export"
                )
    return problems


# (benchmarks/ may time the core's steps one by one: it measures the inside.)
OUTSIDE_DECLARATIONS = ("app", "simulation")


def test_outside_declarations_only_its_public_surface_is_imported() -> None:
    problems = [
        problem
        for top in OUTSIDE_DECLARATIONS
        for path in sorted((REPO / top).rglob("*.py"))
        for problem in private_uses(
            module_name(path), path.read_text(encoding="utf-8"), path.name == "__init__.py"
        )
    ]
    assert problems == [], "\n".join(problems)


def test_the_check_sees_a_private_part_of_the_core() -> None:
    source = (
        "from declarations import check, Facts\n"
        "from declarations.samples import generate_sets\n"
        "from declarations.pipeline import IDENTIFY_STEPS, Context\n"
        "from declarations import reconcile\n"
        "from declarations import _ERROR\n"
        "def f():\n"
        "    import declarations.rules.limits\n"
    )
    problems = private_uses("app.services.sets", source, False)
    assert [p.split(",")[0] for p in problems] == [
        "app.services.sets (line 3) imports declarations.pipeline",
        "app.services.sets (line 4) imports declarations.reconcile",
        "app.services.sets (line 7) imports declarations.rules.limits",
        "app.services.sets (line 5) imports _ERROR from declarations",
    ]
