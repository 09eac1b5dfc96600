"""Differential test: our schemas and the official 202205 XSDs give the same verdict.

Mutants of the official samples (see ``ceb_mutations`` and ``ceb_sweep``) are validated by the
official schema of their direction and by ours; the verdicts (valid / invalid) must be equal on
every mutant. The only allowed disagreements are the regime rules listed in ``DIFFERENCES``
below, where ours is deliberately stricter — and then only one way: official valid, ours
invalid, every error of ours on a listed field. So a document the official structure rejects is
always rejected by ours.

The bases are the samples made valid under both: the export data samples lose their repeated
``BaseTransfer`` (an error of the samples, see test_schema_samples.py), the data messages gain
the optional BaseSubscribe and ExtendMessage the samples leave out, and the listed fields are
given the regime's value. The 9610 schemas are the official structure; the 1210, 9710 and
9810 schemas run the same check with their own, longer lists.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from ceb_cases import COVERED, SCHEMA_FILES
from ceb_mutations import Mutant, mutants, with_optional_envelope
from ceb_sweep import first_record_only, sweep
from lxml import etree
from schema_support import SchemaLoader

pytestmark = pytest.mark.official

Sample = Callable[[str, str], etree._ElementTree]
Official = Callable[[str], etree.XMLSchema]
NS = {"ceb": "http://www.chinaport.gov.cn/ceb"}
XS = "{http://www.w3.org/2001/XMLSchema}"
MUTANTS_PER_MESSAGE = {"9610": 70, "1210": 25, "9710": 20, "9810": 20}


@dataclass(frozen=True)
class Difference:
    """One field where a regime schema is deliberately stricter than the official structure."""

    code: str  # the message type
    node: str
    field: str
    why: str
    allowed: str | None  # the single value the regime accepts; None = any non-empty text
    counter_example: str | None  # officially valid but refused by us; None = leave it out


def _identity(regime: str) -> tuple[Difference, ...]:
    why = "buyer and payer identified by identity card, CEB spec §3.1.4, §3.3.4, §3.9.4"
    return (
        Difference("CEB311", "OrderHead", "orderType", "import orders are type I, §3.1", "I", "E"),
        Difference("CEB311", "OrderHead", "buyerIdType", why, "1", "2"),
        Difference("CEB411", "PaymentHead", "payerIdType", why, "1", "2"),
        Difference("CEB621", "InventoryHead", "buyerIdType", why, "1", "2"),
        Difference(
            "CEB621",
            "InventoryHead",
            "tradeMode",
            f"the {regime} 清单, §3.9.4",
            *_modes(regime),
        ),
    )


def _modes(regime: str) -> tuple[str, str]:
    """The regime's trade mode, and a trade mode of another regime as the counter-example."""
    return regime, "1210" if regime != "1210" else "9610"


def _export(regime: str, order_type: str) -> tuple[Difference, ...]:
    counter = "B" if order_type != "B" else "E"
    return (
        Difference(
            "CEB303",
            "OrderHead",
            "orderType",
            f"{regime} orders are type {order_type}, §2.1.4",
            order_type,
            counter,
        ),
        Difference(
            "CEB603", "InventoryHead", "tradeMode", f"the 清单 of {regime}, §2.11", *_modes(regime)
        ),
    )


_BONDED = "1210 bonded import, CEB spec §3.9.4"
_ZONE = "1210 export from a special zone, CEB spec §2.11.4"
DIFFERENCES: dict[tuple[str, str], tuple[Difference, ...]] = {
    ("9610", "import"): _identity("9610"),
    ("1210", "import"): (
        *_identity("1210"),
        Difference("CEB621", "InventoryHead", "emsNo", _BONDED, None, None),
        Difference("CEB621", "InventoryHead", "areaCode", _BONDED, None, None),
        Difference("CEB621", "InventoryHead", "areaName", _BONDED, None, None),
        Difference("CEB621", "InventoryHead", "country", _BONDED + ": from China", "142", "116"),
        Difference("CEB621", "InventoryList", "itemRecordNo", _BONDED, None, None),
    ),
    ("9610", "export"): _export("9610", "E"),
    ("1210", "export"): (
        *_export("1210", "E"),
        Difference("CEB603", "InventoryHead", "iacCode", _ZONE, None, None),
        Difference("CEB603", "InventoryHead", "iacName", _ZONE, None, None),
        Difference("CEB603", "InventoryHead", "emsNo", _ZONE, None, None),
        Difference("CEB603", "InventoryList", "itemRecordNo", _ZONE, None, None),
    ),
    ("9710", "export"): _export("9710", "B"),
    ("9810", "export"): _export("9810", "W"),
}


def base_document(sample: Sample, regime: str, direction: str, code: str) -> etree._ElementTree:
    """The official sample, made valid under both the official schema and the regime's."""
    tree = sample(direction, code)
    root = tree.getroot()
    repair_flawed_sample(root, code)
    for extra in root.xpath("ceb:BaseTransfer", namespaces=NS)[1:]:
        root.remove(extra)
    if root.find("ceb:BaseTransfer", namespaces=NS) is not None:
        tree = with_optional_envelope(tree, direction)
        root = tree.getroot()
    for difference in DIFFERENCES[regime, direction]:
        if difference.code != code:
            continue
        found = root.xpath(f".//ceb:{difference.node}/ceb:{difference.field}", namespaces=NS)
        assert found, f"{code} sample has no {difference.node}/{difference.field} to set"
        for element in found:
            if difference.allowed is not None:
                element.text = difference.allowed
            elif not element.text:
                element.text = "X1"
    return tree


def repair_flawed_sample(root: etree._Element, code: str) -> None:
    """Mend the two samples with errors of their own (``ceb_cases.FLAWED_SAMPLES``): CEB214's
    root and stray appSenderId, CEB792's missing gseqno (given the line's gnum)."""
    if code == "CEB214":
        root.tag = f"{{{NS['ceb']}}}CEB214Message"
        for stray in root.xpath("//ceb:appSenderId", namespaces=NS):
            stray.getparent().remove(stray)
    elif code == "CEB792":
        for line in root.xpath("//ceb:SummaryResultList", namespaces=NS):
            gnum = line.find("ceb:gnum", namespaces=NS)
            gseqno = etree.Element(f"{{{NS['ceb']}}}gseqno")
            gseqno.text = gnum.text
            gnum.addprevious(gseqno)


_STEP = re.compile(r"(?:\w+:)?(\w+)(?:\[\d+\])?$")
_EXPECTED = re.compile(r"Expected is (?:one of )?\( (.*) \)")


def blamed_fields(entry: etree._LogEntry) -> set[tuple[str, str]]:
    """(node, field) pairs an error is about: the element itself, or what was expected instead.

    libxml2 reports a missing element on the next sibling ("not expected. Expected is ( x )")
    or, at the end of a node, on the node itself ("Missing child element(s)").
    """
    steps = [m.group(1) for m in map(_STEP.search, entry.path.split("/")[1:]) if m]
    element, parent = steps[-1], steps[-2] if len(steps) > 1 else ""
    expected = _EXPECTED.search(entry.message)
    if expected:
        names = {name.rsplit("}", 1)[-1] for name in expected.group(1).split(", ")}
        node = element if "Missing child" in entry.message else parent
        return {(node, name) for name in names}
    return {(parent, element)}


def check_agreement(
    theirs: etree.XMLSchema,
    ours: etree.XMLSchema,
    mutant: Mutant,
    allowed: set[tuple[str, str]],
    what: str,
) -> bool:
    """Assert the two verdicts agree, or differ only as a listed difference; the official one."""
    theirs_valid = theirs.validate(mutant.tree)
    ours_valid = ours.validate(mutant.tree)
    if theirs_valid != ours_valid:
        what = f"{what}: {mutant.description}"
        assert theirs_valid, f"{what}: ours accepts a document the official schema rejects"
        blamed = set().union(*(blamed_fields(e) for e in ours.error_log))
        assert blamed <= allowed, f"{what}: ours refuses it for {blamed - allowed}"
    return theirs_valid


def allowed_fields(regime: str, direction: str, code: str) -> set[tuple[str, str]]:
    return {(d.node, d.field) for d in DIFFERENCES[regime, direction] if d.code == code}


@pytest.mark.parametrize(("regime", "direction"), SCHEMA_FILES)
def test_verdicts_equal_the_official_schema_on_mutated_samples(
    ours: SchemaLoader, official: Official, sample: Sample, regime: str, direction: str
) -> None:
    theirs_schema, ours_schema = official(direction), ours(regime, direction)
    verdicts: dict[str, set[bool]] = {}
    checked = 0
    for code in COVERED[direction]:
        base = base_document(sample, regime, direction, code)
        assert theirs_schema.validate(base), theirs_schema.error_log
        assert ours_schema.validate(base), ours_schema.error_log
        allowed = allowed_fields(regime, direction, code)
        seed = zlib.crc32(f"{regime}/{code}".encode())
        for mutant in mutants(base, MUTANTS_PER_MESSAGE[regime], seed):
            verdict = check_agreement(
                theirs_schema, ours_schema, mutant, allowed, f"{regime} {direction} {code}"
            )
            verdicts.setdefault(code, set()).add(verdict)
            checked += 1
    assert checked == MUTANTS_PER_MESSAGE[regime] * len(COVERED[direction])
    assert checked >= 500 or regime != "9610"  # the official structure gets the most
    # Both verdicts occur for every message type, so the equality above means something.
    assert verdicts == {code: {True, False} for code in COVERED[direction]}


def official_lengths(official_dir: Path, direction: str) -> dict[str, set[int]]:
    """For each element name, the lengths around every limit the official schema puts on it
    (length, minLength, maxLength, totalDigits): limit - 1, limit and limit + 1."""
    tree = etree.parse(str(official_dir / "xsd" / f"ceb-{direction}-202205.xsd"))
    lengths: dict[str, set[int]] = {}
    for element in tree.iter(f"{XS}element"):
        for facet in ("length", "minLength", "maxLength", "totalDigits"):
            for limit in element.iterfind(f"{XS}simpleType/{XS}restriction/{XS}{facet}"):
                value = int(limit.get("value"))
                around = {max(value - 1, 0), value, value + 1}
                lengths.setdefault(element.get("name"), set()).update(around)
    return lengths


@pytest.mark.parametrize(("regime", "direction"), SCHEMA_FILES)
def test_verdicts_equal_the_official_schema_on_a_sweep_of_every_field(
    *,
    ours: SchemaLoader,
    official: Official,
    sample: Sample,
    official_dir: Path,
    regime: str,
    direction: str,
) -> None:
    """Every CEB element of a one-record sample dropped, duplicated, swapped, emptied, padded,
    given a child, odd values and text at each length around its official limits."""
    theirs_schema, ours_schema = official(direction), ours(regime, direction)
    lengths = official_lengths(official_dir, direction)
    for code in COVERED[direction]:
        base = first_record_only(base_document(sample, regime, direction, code))
        allowed = allowed_fields(regime, direction, code)
        verdicts = {
            check_agreement(theirs_schema, ours_schema, m, allowed, f"{regime} {code} sweep")
            for m in sweep(base, lengths)
        }
        assert verdicts == {True, False}


@pytest.mark.parametrize(
    ("regime", "direction", "difference"),
    [
        pytest.param(r, d, diff, id=f"{r}-{d}-{diff.code}-{diff.node}-{diff.field}")
        for (r, d), listed in DIFFERENCES.items()
        for diff in listed
    ],
)
def test_every_listed_difference_is_real(
    *,
    ours: SchemaLoader,
    official: Official,
    sample: Sample,
    regime: str,
    direction: str,
    difference: Difference,
) -> None:
    """The counter-example of each row passes the official schema and fails ours on that field."""
    tree = base_document(sample, regime, direction, difference.code)
    path = f"ceb:{difference.node}/ceb:{difference.field}"
    target = tree.getroot().xpath(f".//{path}", namespaces=NS)[0]
    if difference.counter_example is None:
        target.getparent().remove(target)
    else:
        target.text = difference.counter_example

    theirs_schema, ours_schema = official(direction), ours(regime, direction)
    assert theirs_schema.validate(tree), theirs_schema.error_log
    assert not ours_schema.validate(tree)
    blamed = set().union(*(blamed_fields(e) for e in ours_schema.error_log))
    assert blamed == {(difference.node, difference.field)}
