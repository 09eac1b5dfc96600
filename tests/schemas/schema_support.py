"""Names the schema tests share (a plain module: test modules must not import conftest, whose
module name is the same in every test folder)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lxml import etree

SchemaLoader = Callable[[str, str], etree.XMLSchema]


def compile_schema(path: Path) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(path), parser))
