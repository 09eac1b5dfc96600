"""``danchuang conformance``: samples pass, the official samples' defects are reported, the
reports parse as JUnit and HTML, and usage errors exit 2."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Skipped
from lxml import etree
from typer.testing import CliRunner

from app.cli import cli
from app.conformance.offline import Group
from declarations.messages import CEB_NS

C = "{" + CEB_NS + "}"
runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["conformance", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def junit_cases(path: Path) -> dict[str, tuple[str, str]]:
    """Each testcase's name -> (outcome, text), read with an independent JUnit parser."""
    xml = JUnitXml.fromfile(str(path))
    found = {}
    for suite in xml:
        for case in suite:
            outcome, text = "passed", case.system_out or ""
            for result in case.result:
                if isinstance(result, Failure):
                    outcome, text = "failed", f"{result.message}\n{result.text}\n{text}"
                elif isinstance(result, Skipped):
                    outcome, text = "skipped", f"{result.message}\n{text}"
            found[case.name.split()[0] if case.name.startswith("CT-") else case.name] = (
                outcome,
                text,
            )
    return found


@pytest.mark.parametrize("group_index", range(6))
def test_samples_arranged_into_the_positive_cases_pass(
    tmp_path: Path,
    catalogue: list[Group],
    arrange: Callable[[Path, Group], list[str]],
    group_index: int,
) -> None:
    group = catalogue[group_index]
    folder = tmp_path / "integrator"
    folder.mkdir()
    ids = arrange(folder, group)
    report = tmp_path / "report.xml"
    code, output = run(str(folder), "--regime", group.regime.value, "--junit", str(report))
    # The positive cases passed; the negative ones were not run: incomplete, not conformant.
    assert code == 3, output
    assert "INCOMPLETE: " in output and "CONFORMANT" not in output
    cases = junit_cases(report)
    assert {i for i in ids if cases[i][0] == "passed"} == set(ids)
    others = [c.id for g in catalogue if g.regime is group.regime for c in g.cases]
    assert all(cases[i][0] == "skipped" for i in others if i not in ids)


def test_a_broken_document_in_a_positive_case_fails_and_names_file_line_and_rule(
    tmp_path: Path, catalogue: list[Group], arrange: Callable[[Path, Group], list[str]]
) -> None:
    group = catalogue[0]  # 9610 import
    folder = tmp_path / "integrator"
    folder.mkdir()
    arrange(folder, group)
    inventory = folder / "CT-9610I-001" / "inventory-CEB621.xml"
    root = etree.parse(str(inventory)).getroot()
    total = next(root.iter(C + "totalPrice"))
    total.text = "99999.00"
    inventory.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    report = tmp_path / "report.xml"
    code, output = run(str(folder), "--regime", "9610", "--junit", str(report))
    assert code == 1, output
    outcome, text = junit_cases(report)["CT-9610I-001"]
    assert outcome == "failed"
    assert "inventory-CEB621.xml:" in text and "[totalPrice] inventory.line-total" in text


def test_negative_case_folder_passes_when_its_rule_is_broken(
    tmp_path: Path, catalogue: list[Group], arrange: Callable[[Path, Group], list[str]]
) -> None:
    group = catalogue[0]
    case = next(c for c in group.cases if c.rule == "inventory.line-total")
    folder = tmp_path / "integrator"
    folder.mkdir()
    arrange(folder, group)
    shutil.copytree(folder / "CT-9610I-001", folder / case.id)
    inventory = folder / case.id / "inventory-CEB621.xml"
    root = etree.parse(str(inventory)).getroot()
    next(root.iter(C + "totalPrice")).text = "1.00"
    inventory.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    report = tmp_path / "report.xml"
    code, output = run(str(folder), "--regime", "9610", "--junit", str(report))
    assert code == 3, output  # passed; other negative cases were not run
    assert junit_cases(report)[case.id][0] == "passed"


def test_a_marker_for_another_outcome_fails_the_case(
    tmp_path: Path, catalogue: list[Group], arrange: Callable[[Path, Group], list[str]]
) -> None:
    group = catalogue[0]
    inspect = next(c for c in group.cases if c.branch.value == "inspect")
    folder = tmp_path / "integrator"
    folder.mkdir()
    arrange(folder, group)
    inventory = folder / inspect.id / "inventory-CEB621.xml"
    root = etree.parse(str(inventory)).getroot()
    head = next(root.iter(C + "InventoryHead"))
    etree.SubElement(head, C + "note").text = "test DANCHUANG:RELEASE"
    inventory.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    report = tmp_path / "report.xml"
    code, _ = run(str(folder), "--regime", "9610", "--junit", str(report))
    assert code == 1
    outcome, text = junit_cases(report)[inspect.id]
    assert outcome == "failed"
    assert "'test DANCHUANG:RELEASE', but this case needs DANCHUANG:INSPECT" in text


def test_a_flat_folder_of_valid_sets_is_matched_to_positive_cases(tmp_path: Path) -> None:
    out = tmp_path / "flat"
    result = runner.invoke(cli, ["samples", "9710", "--out", str(out), "--count", "3"])
    assert result.exit_code == 0
    for xml in list(out.rglob("*.xml")):  # flatten: no case folders at all
        xml.rename(out / f"{xml.parent.name}-{xml.name}")
    report = tmp_path / "report.xml"
    code, output = run(str(out), "--regime", "9710", "--junit", str(report))
    assert code == 3, output  # three cases passed, the others were not run
    cases = junit_cases(report)
    passed = sorted(i for i, (outcome, _) in cases.items() if outcome == "passed")
    assert passed == ["CT-9710E-001", "CT-9710E-002", "CT-9710E-003"]
    assert "matched by content" in cases["CT-9710E-001"][1]


@pytest.mark.official
def test_official_samples_report_their_known_defects(official_dir: Path, tmp_path: Path) -> None:
    samples = official_dir / "samples"
    report, html = tmp_path / "import.xml", tmp_path / "import.html"
    code, output = run(str(samples / "import"), "--junit", str(report), "--html", str(html))
    assert code == 1
    assert "NOT CONFORMANT" in output and "1 invalid loose set" in output
    cases = junit_cases(report)
    invalid = [text for outcome, text in cases.values() if outcome == "failed"]
    assert len(invalid) == 1  # the order/payment/waybill/清单 set, matched to no case
    text = invalid[0]
    assert "inventory.line-total" in text and "totalPrice 12000 is not price 10 × qty 200" in text
    assert "limit.order-single-transaction" in text and "exceeds the 5,000 CNY" in text
    page = html.read_text(encoding="utf-8")
    assert "CEB621Message.xml" in page and "inventory.line-total" in page
    assert "<script" not in page and "src=" not in page and "href=" not in page  # self-contained

    report = tmp_path / "export.xml"
    code, _ = run(str(samples / "export"), "--junit", str(report))
    assert code == 1
    text = next(t for outcome, t in junit_cases(report).values() if outcome == "failed")
    for name in ("CEB303Message.xml", "CEB403Message.xml", "CEB505Message.xml"):
        assert f"{name}:" in text
    assert "[BaseTransfer] schema.unexpected-element" in text


def test_the_junit_report_has_one_suite_per_group_and_counts_that_add_up(
    tmp_path: Path, catalogue: list[Group]
) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    report = tmp_path / "report.xml"
    code, output = run(str(folder), "--junit", str(report))
    assert code == 3  # nothing tried, nothing failed; the mandatory cases are "not done"
    assert "INCOMPLETE: 0 passed" in output and "mandatory case(s) not done" in output
    xml = JUnitXml.fromfile(str(report))
    suites = list(xml)
    assert [s.name for s in suites] == [f"conformance {g.label}" for g in catalogue]
    for suite, group in zip(suites, catalogue, strict=True):
        assert suite.tests == len(group.cases) == suite.skipped
    assert xml.tests == sum(len(g.cases) for g in catalogue)


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give the folder"),
        (["/no/such/folder"], "is not a folder"),
        (["{tmp}", "--regime", "9999"], "unknown regime"),
        (["{tmp}", "--server", "http://127.0.0.1:9"], "--server needs at least one --key"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(cli, ["conformance", *(a.format(tmp=tmp_path) for a in args)])
    assert result.exit_code == 2
    assert message in result.output


def test_sets_of_other_regimes_and_unknown_case_folders_are_listed_not_failed(
    tmp_path: Path,
) -> None:
    out = tmp_path / "mixed"
    result = runner.invoke(cli, ["samples", "9710", "--out", str(out), "--count", "1"])
    assert result.exit_code == 0
    (out / "CT-9610I-999").mkdir()
    (out / "CT-9610I-999" / "order.xml").write_bytes(b"<x/>")
    report = tmp_path / "report.xml"
    code, output = run(str(out), "--regime", "9610", "--junit", str(report))
    assert code == 3, output  # listed, not failed; no 9610 case was run
    assert "a 9710 export set: not among the regimes checked" in output
    assert "unknown case folder CT-9610I-999" in output
    cases = junit_cases(report)
    assert all(outcome == "skipped" for outcome, _ in cases.values())


def test_an_unreadable_loose_file_fails_the_run(tmp_path: Path) -> None:
    (tmp_path / "broken.xml").write_bytes(b"<ceb:CEB311Message><a></b>")
    report = tmp_path / "report.xml"
    code, output = run(str(tmp_path), "--junit", str(report))
    assert code == 1 and "1 invalid loose set" in output
    outcome, text = junit_cases(report)["broken.xml"]
    assert outcome == "failed" and "parse.malformed" in text
