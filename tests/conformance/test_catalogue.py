"""The catalogue is complete, numbered, fits its schema, and its rule cases mean what they say."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.conformance.offline import CaseKind, CatalogueError, Group, check_case, load_catalogue
from app.conformance.offline.catalogue import Branch, catalogue_root, load_group
from app.conformance.offline.check import Outcome, matches
from app.engine.outcomes import parse_outcome
from declarations import FORMAT_RECEIPT, FORMAT_STATUS_MEANINGS, TaxBillStatus
from declarations.codes import ReturnStatus
from declarations.dictionary import build
from declarations.findings import RULES, Layer
from declarations.messages import BY_CODE, Direction, Kind, Regime
from declarations.rules.examples import EXAMPLES, example_sets
from declarations.samples import to_bytes

IMPORT_ONLY = {
    Branch.DETAIN_501,
    Branch.DETAIN_502,
    Branch.DETAIN_503,
    Branch.DETAIN_599,
    Branch.RETURN,
    # the messages after the export 清单: cases in the 9610 export file so far
    Branch.AFTER_RELEASE,
    Branch.AFTER_REFUSED,
}  # CEB622 lists the detention and return codes; CEB604 does not (CEB spec 202205 pp. 86, 33)


def test_there_is_one_group_per_regime_and_direction(catalogue: list[Group]) -> None:
    found = [(g.regime, g.direction) for g in catalogue]
    assert found == [(r, d) for r in Regime for d in r.directions]


def test_case_ids_are_unique_and_numbered_without_gaps(catalogue: list[Group]) -> None:
    ids = [c.id for g in catalogue for c in g.cases]
    assert len(ids) == len(set(ids))
    for group in catalogue:
        numbers = [int(c.id.rsplit("-", 1)[1]) for c in group.cases]
        assert numbers == list(range(1, len(group.cases) + 1))
        assert all(c.id.startswith(group.prefix + "-") for c in group.cases)


@pytest.mark.parametrize("group_index", range(6))
def test_every_business_rule_that_applies_has_a_case(
    catalogue: list[Group], group_index: int
) -> None:
    group = catalogue[group_index]
    applies = {
        rule
        for rule, example in EXAMPLES.items()
        if group.direction in example.directions and group.regime in example.regimes
    }
    covered = {c.rule for c in group.cases if c.rule}
    assert applies <= covered
    assert {"parse.*", "schema.*"} <= covered


def test_every_registered_rule_is_covered_somewhere(catalogue: list[Group]) -> None:
    covered = [c.rule for g in catalogue for c in g.cases if c.rule]
    missing = [r for r in RULES if not matches(r, covered)]
    assert missing == []
    business = {r.id for r in RULES.values() if r.layer in (Layer.RULE, Layer.RECONCILE)}
    assert business <= set(EXAMPLES), "a business rule has no example to build a case from"


def test_every_receipt_branch_is_covered(catalogue: list[Group]) -> None:
    for group in catalogue:
        branches = {c.branch for c in group.cases}
        wanted = set(Branch)
        if group.direction is Direction.EXPORT:
            wanted -= IMPORT_ONLY
        assert wanted <= branches, f"{group.label} lacks {wanted - branches}"


def test_expected_receipts_are_real_codes_on_real_receipts(catalogue: list[Group]) -> None:
    negative_codes = {r.spec_code for r in RULES.values() if r.spec_code}
    negative_codes |= {f["code"] for f in build()["lifecycle_refusals"]}
    negative_codes.add("-621030")  # the forced rejection code of the reject-code cases
    for group in catalogue:
        for case in group.cases:
            for spec in case.documents:
                message = BY_CODE[spec.message]
                assert message.direction is group.direction and message.kind is not Kind.RETURN
            for step in case.steps:
                for expected in step.expect:
                    if expected.message == FORMAT_RECEIPT:  # the format check's, any direction
                        assert set(expected.statuses) <= set(FORMAT_STATUS_MEANINGS)
                        continue
                    receipt = BY_CODE[expected.message]
                    assert receipt.direction is group.direction
                    if receipt.kind in (Kind.TAX_BILL, Kind.TAX_STATUS):  # customs' own
                        assert set(expected.statuses) <= {int(s) for s in TaxBillStatus}
                        continue
                    assert receipt.kind is Kind.RETURN
                    for status in expected.statuses:
                        assert status in set(ReturnStatus) or str(status) in negative_codes


def test_forced_outcomes_and_markers_are_understood_by_the_live_engine(
    catalogue: list[Group],
) -> None:
    for group in catalogue:
        for case in group.cases:
            for step in case.steps:
                if step.forced_outcome:
                    parse_outcome(step.forced_outcome)
            if case.exhibit.note_marker:
                parse_outcome(case.exhibit.note_marker)


def test_the_catalogue_refuses_a_gap_in_the_numbers(tmp_path: Path) -> None:
    source = catalogue_root() / "9710-export.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data["cases"][2]["id"] = "CT-9710E-099"
    broken = tmp_path / "9710-export.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"(?s)9710-export.yaml.*CT-9710E-099 \(expected"):
        load_group(broken)


def test_the_catalogue_refuses_an_unknown_field_and_a_duplicate_id(tmp_path: Path) -> None:
    source = catalogue_root() / "9810-export.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data["cases"][0]["expected_result"] = "pass"
    (tmp_path / "9810-export.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(CatalogueError, match="expected_result"):
        load_catalogue(tmp_path)
    del data["cases"][0]["expected_result"]
    (tmp_path / "9810-export.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (tmp_path / "9810-export-copy.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(CatalogueError, match="appears twice"):
        load_catalogue(tmp_path)


def _rule_cases(catalogue: list[Group]) -> list[tuple[Group, str]]:
    return [
        (g, c.id)
        for g in catalogue
        for c in g.cases
        if c.rule in EXAMPLES and (c.kind is CaseKind.NEGATIVE or c.exhibit.rules)
    ]


@pytest.mark.slow
def test_each_rule_case_passes_on_its_invalid_example_and_fails_on_the_valid_one(
    catalogue: list[Group],
) -> None:
    for group, case_id in _rule_cases(catalogue):
        case = next(c for c in group.cases if c.id == case_id)
        assert case.rule is not None
        example = EXAMPLES[case.rule]
        sets = example_sets(case.rule, group.regime, group.direction)
        verdicts = {}
        for verdict, sample in sets.items():
            files = [
                (name, to_bytes(root))
                for name, root in sample.documents.items()
                # a message after the 清单 comes with its set, as the case sends it
                if not example.lone_document
                or example.after
                or name.startswith(example.lone_document)
            ]
            verdicts[verdict] = check_case(group, case, files)
        invalid, valid = verdicts["invalid"], verdicts["valid"]
        assert invalid.outcome is Outcome.PASSED, (case_id, invalid.problems)
        assert valid.outcome is Outcome.FAILED, case_id
        assert any(case.rule in p for p in valid.problems), (case_id, valid.problems)
