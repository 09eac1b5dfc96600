"""Our XSD files: they compile, each on its own, hold the right roots and match their tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ceb_cases import REPO, ROOTS, SCHEMA_FILES, XSD
from lxml import etree
from schema_support import SchemaLoader, compile_schema

XS = "{http://www.w3.org/2001/XMLSchema}"
CEB = "{http://www.chinaport.gov.cn/ceb}"


@pytest.mark.parametrize(
    "path",
    [f"{regime}/{direction}.xsd" for regime, direction in SCHEMA_FILES]
    + ["common/ceb-common.xsd", "common/xmldsig.xsd"],
)
def test_every_schema_compiles_on_its_own(path: str) -> None:
    schema = compile_schema(XSD / path)
    assert isinstance(schema, etree.XMLSchema)


@pytest.mark.parametrize(("regime", "direction"), SCHEMA_FILES)
def test_roots_are_exactly_the_covered_messages(regime: str, direction: str) -> None:
    tree = etree.parse(str(XSD / regime / f"{direction}.xsd"))
    roots = {e.get("name") for e in tree.getroot().iterchildren(f"{XS}element")}
    assert roots == {f"{code}Message" for code in ROOTS[direction]}


@pytest.mark.parametrize(("regime", "direction"), SCHEMA_FILES)
def test_a_minimal_receipt_is_valid_and_its_guid_length_is_enforced(
    ours: SchemaLoader, regime: str, direction: str
) -> None:
    """A receipt built from scratch, not from a sample: the schema is usable without them."""
    code = "CEB312" if direction == "import" else "CEB304"  # both: an OrderReturn per order
    guid = "A" * 36
    root = etree.Element(f"{CEB}{code}Message", guid=guid, version="1.0")
    record = etree.SubElement(root, f"{CEB}OrderReturn")
    values = {"guid": guid, "returnStatus": "120", "returnTime": "2" * 17, "returnInfo": "ok"}
    fields = ["guid", "ebpCode", "ebcCode", "orderNo", "returnStatus", "returnTime", "returnInfo"]
    for name in fields:
        etree.SubElement(record, f"{CEB}{name}").text = values.get(name, "X1")
    schema = ours(regime, direction)
    assert schema.validate(root), schema.error_log
    root.set("guid", guid[:-1])
    assert not schema.validate(root)
    assert "guid" in schema.error_log[0].message


def test_the_committed_xsds_are_what_the_tables_generate(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "xsd" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_generator_writes_the_same_files_into_an_empty_folder(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "tools" / "xsd" / "generate.py"), "--out", str(tmp_path)],
        capture_output=True,
        check=True,
    )
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.xsd"))
    expected = ["common/ceb-common.xsd"] + [f"{r}/{d}.xsd" for r, d in SCHEMA_FILES]
    assert written == sorted(expected)
    for relative in written:
        assert (tmp_path / relative).read_bytes() == (XSD / relative).read_bytes(), relative


@pytest.mark.parametrize(("regime", "direction"), SCHEMA_FILES)
def test_every_field_is_documented_for_integrators(regime: str, direction: str) -> None:
    tree = etree.parse(str(XSD / regime / f"{direction}.xsd"))
    undocumented = [
        f"{complex_type.get('name')}/{element.get('name')}"
        for complex_type in tree.getroot().iterchildren(f"{XS}complexType")
        for element in complex_type.iter(f"{XS}element")
        # a child node is documented on its own type
        if not element.get("type", "").endswith("Type")
        and element.find(f"{XS}annotation/{XS}documentation") is None
    ]
    assert undocumented == []
