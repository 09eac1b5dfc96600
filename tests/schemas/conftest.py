"""Fixtures of the schema tests: our XSDs and the official ones, each compiled once per session.

A compiled ``etree.XMLSchema`` keeps the error log of its last call; these tests run in one
thread, so sharing one instance per schema is safe here (it would not be across threads).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from ceb_cases import XSD
from lxml import etree
from schema_support import SchemaLoader, compile_schema


@pytest.fixture(scope="session")
def ours() -> SchemaLoader:
    """``ours("9610", "import")``: our compiled schema, compiled on first use."""
    cache: dict[tuple[str, str], etree.XMLSchema] = {}

    def load(regime: str, direction: str) -> etree.XMLSchema:
        if (regime, direction) not in cache:
            cache[regime, direction] = compile_schema(XSD / regime / f"{direction}.xsd")
        return cache[regime, direction]

    return load


@pytest.fixture(scope="session")
def official(official_dir: Path) -> Callable[[str], etree.XMLSchema]:
    """``official("import")``: the official 202205 schema of a direction."""
    cache: dict[str, etree.XMLSchema] = {}

    def load(direction: str) -> etree.XMLSchema:
        if direction not in cache:
            cache[direction] = compile_schema(official_dir / "xsd" / f"ceb-{direction}-202205.xsd")
        return cache[direction]

    return load


@pytest.fixture(scope="session")
def sample(official_dir: Path) -> Callable[[str, str], etree._ElementTree]:
    """``sample("import", "CEB311")``: a fresh parse of an official sample (they start with a BOM;
    libxml2 reads the BOM from the bytes, so they are parsed from the file, never decoded)."""

    def load(direction: str, code: str) -> etree._ElementTree:
        path = official_dir / "samples" / direction / f"{code}Message.xml"
        return etree.parse(str(path), etree.XMLParser(no_network=True, resolve_entities=False))

    return load
