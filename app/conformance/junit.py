"""JUnit XML for the integrator's CI: one ``testsuite`` per regime and direction, one
``testcase`` per catalogue case.

The shape is the common denominator that Jenkins, GitLab and GitHub reporters read (the
"Ant JUnit" schema): ``testsuites > testsuite[name tests failures errors skipped] > testcase
[name classname] > failure|skipped``, with the findings as the failure text and notes in
``system-out``. A failing optional case is reported as a failure too, its message saying it is
optional; only mandatory failures set the command's exit code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lxml import etree

from app.conformance.offline import CaseResult, Outcome
from app.conformance.offline.check import describe
from app.conformance.results import Run


def _testcase(result: CaseResult) -> etree._Element:
    case = result.case
    element = etree.Element(
        "testcase",
        name=f"{case.id} {case.title}",
        classname=f"danchuang.conformance.{result.group.regime.value}"
        f"{result.group.direction.value[0].upper()}",
        time="0",
    )
    label = "mandatory" if case.mandatory else "optional"
    if result.outcome is Outcome.SKIPPED:
        skipped = etree.SubElement(element, "skipped")
        skipped.set("message", f"no documents supplied ({label} case)")
    elif result.outcome is Outcome.FAILED:
        failure = etree.SubElement(element, "failure")
        failure.set("message", f"{label} case failed: {result.problems[0]}")
        failure.set("type", "conformance")
        failure.text = "\n".join(result.problems)
    out = [*result.notes]
    if result.files:
        out.append("files: " + ", ".join(result.files))
    out += [describe(f) for f in result.findings]
    if out:
        etree.SubElement(element, "system-out").text = "\n".join(out)
    return element


def junit_tree(run: Run) -> etree._Element:
    root = etree.Element("testsuites", name="danchuang conformance")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for label, results in run.by_group():
        suite = etree.SubElement(root, "testsuite", name=f"conformance {label}")
        counts = _counts(results)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
        suite.set("time", "0")
        for result in results:
            suite.append(_testcase(result))
    if run.unmatched:
        suite = etree.SubElement(root, "testsuite", name="conformance unmatched files")
        suite.set("tests", str(len(run.unmatched)))
        failed = run.failed_unmatched
        suite.set("failures", str(failed))
        suite.set("errors", "0")
        suite.set("skipped", str(len(run.unmatched) - failed))
        suite.set("time", "0")
        for unmatched in run.unmatched:
            element = etree.SubElement(
                suite, "testcase", name=", ".join(unmatched.files), classname="unmatched"
            )
            if unmatched.failed:
                failure = etree.SubElement(element, "failure", message=unmatched.reason)
                failure.set("type", "conformance")
                failure.text = "\n".join(describe(f) for f in unmatched.findings)
                totals["failures"] += 1
            else:
                etree.SubElement(element, "skipped", message=unmatched.reason)
                totals["skipped"] += 1
            if unmatched.findings:
                text = "\n".join(describe(f) for f in unmatched.findings)
                etree.SubElement(element, "system-out").text = text
            totals["tests"] += 1
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    return root


def _counts(results: Sequence[CaseResult]) -> dict[str, int]:
    return {
        "tests": len(results),
        "failures": sum(r.outcome is Outcome.FAILED for r in results),
        "skipped": sum(r.outcome is Outcome.SKIPPED for r in results),
    }


def write_junit(run: Run, path: Path) -> None:
    tree = etree.ElementTree(junit_tree(run))
    tree.write(str(path), xml_declaration=True, encoding="UTF-8", pretty_print=True)
