"""The compiled build of the pipeline's hot modules, and whether this process uses it.

The modules in ``COMPILED`` are ordinary, type-checked Python. ``tools/build_native.py`` (which
``make`` runs) compiles them with mypyc into extension modules beside their sources, and
Python imports an extension module in place of a source of the same name. The pipeline's own
Python (identify, rules, reconciliation, the report) then runs about twice as fast; parsing
and the schema, already in libxml2, do not change.

A build must never hide an edit. It records a hash of every source it compiled in
``_native.json``; a process whose sources no longer match (or that lacks a module of the
build, or runs another Python) imports the sources instead, as it does when
``DANCHUANG_NATIVE=0`` is set. ``STATE`` says which, and why. This module is imported by the
package's ``__init__`` before anything else, and is itself never compiled.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

# The modules validate() runs through for every document, in import order of no importance.
COMPILED: tuple[str, ...] = (
    "declarations.messages",
    "declarations.findings",
    "declarations.document",
    "declarations.parsing",
    "declarations.identify",
    "declarations.rules",
    "declarations.rules.sequences",
    "declarations.rules._common",
    "declarations.rules.lines",
    "declarations.rules.limits",
    "declarations.rules.order",
    "declarations.rules.inventory",
    "declarations.reconcile",
    "declarations.pipeline",
)

PACKAGE = Path(__file__).resolve().parent
MANIFEST = PACKAGE / "_native.json"
SWITCH = "DANCHUANG_NATIVE"  # "0" runs the sources even where a build is current


class State(NamedTuple):
    compiled: bool
    why: str  # one line, for the benchmark's header and for logs


def source_of(module: str) -> Path:
    """The source file of one of ``COMPILED``."""
    path = PACKAGE.joinpath(*module.split(".")[1:])
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_state() -> State:
    """Whether a current build is present: one whose every module is there, and was compiled
    for this Python from the sources as they are now."""
    try:
        build = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return State(False, "no compiled build: running the sources")
    except (OSError, ValueError):
        return State(False, f"{MANIFEST.name} is unreadable: running the sources")
    if build.get("cache_tag") != sys.implementation.cache_tag:
        return State(False, "the build is for another Python: running the sources")
    for file in build.get("files", []):
        if not (PACKAGE.parent / file).is_file():
            return State(False, f"{file} is missing from the build: running the sources")
    sources = build.get("sources", {})
    for module in COMPILED:
        if sources.get(module) != digest(source_of(module)):
            name = source_of(module).relative_to(PACKAGE.parent)
            return State(False, f"{name} changed since the build: running the sources")
    # The compiled modules share one library, which lies beside the package: it must be
    # importable from where this process looks (the checkout's folder, on sys.path).
    library = build.get("library", "")
    if not library or importlib.util.find_spec(library) is None:
        return State(
            False, f"{library or 'the shared library'} is not importable: running the sources"
        )
    return State(True, f"{len(COMPILED)} modules compiled with mypyc {build.get('mypy', '?')}")


class _Sources:
    """Finds the modules of ``COMPILED`` as sources, passing over their extension modules. (A
    meta path finder needs only ``find_spec``; ``importlib.abc``'s base class would import
    ``importlib.resources`` and with it some 50 ms of modules, on every start.)"""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in COMPILED:
            return None
        source = source_of(fullname)
        package = [str(source.parent)] if source.name == "__init__.py" else None
        return importlib.util.spec_from_file_location(
            fullname, source, submodule_search_locations=package
        )


def _activate() -> State:
    if os.environ.get(SWITCH, "").strip() == "0":
        state = State(False, f"{SWITCH}=0: running the sources")
    else:
        state = build_state()
    if not state.compiled and not any(isinstance(f, _Sources) for f in sys.meta_path):
        sys.meta_path.insert(0, _Sources())
    return state


STATE = _activate()
