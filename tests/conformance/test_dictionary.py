"""The error-code dictionary: complete, current, and its examples say what they claim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from declarations import validate
from declarations.dictionary import _INLINE, build, to_json, to_markdown
from declarations.findings import RULES

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def dictionary() -> dict[str, object]:
    return build()


def test_committed_files_are_current(dictionary: dict[str, object]) -> None:
    hint = "regenerate with: python -m declarations.dictionary"
    assert (DOCS / "error-codes.json").read_text(encoding="utf-8") == to_json(dictionary), hint
    assert (DOCS / "error-codes.md").read_text(encoding="utf-8") == to_markdown(dictionary), hint


def test_every_rule_is_there_with_meanings_and_an_example(dictionary: dict[str, object]) -> None:
    entries = dictionary["rules"]
    assert isinstance(entries, list)
    assert [e["id"] for e in entries] == sorted(
        RULES, key=lambda r: (list(type(RULES[r].layer)).index(RULES[r].layer), r)
    )
    for entry in entries:
        rule = RULES[entry["id"]]
        assert entry["layer"] == rule.layer.value and entry["severity"] == rule.severity.value
        assert entry["spec_code"] == rule.spec_code
        assert entry["meaning_en"] and entry["meaning_zh"]
        assert entry["example"] is not None, entry["id"]


def test_file_examples_point_at_folders_whose_failing_side_draws_the_rule(
    dictionary: dict[str, object],
) -> None:
    repo = DOCS.parent
    entries = [e for e in dictionary["rules"] if e["example"]["kind"] == "files"]  # type: ignore[index, union-attr]
    assert entries
    for entry in entries:
        example = entry["example"]
        assert (repo / example["valid"]).is_dir() and (repo / example["invalid"]).is_dir()
        assert example["message_en"], entry["id"]  # the invalid example does draw the rule


@pytest.mark.parametrize(
    "rule",
    ["parse.empty", "parse.not-xml", "parse.doctype", "parse.malformed", "parse.encoding"],
)
def test_runnable_inline_parse_examples_draw_their_rule(rule: str) -> None:
    _valid, invalid = _INLINE[rule]
    if rule == "parse.malformed":
        invalid = f'<ceb:X xmlns:ceb="http://www.chinaport.gov.cn/ceb">{invalid}</ceb:X>'
    if rule == "parse.encoding":
        invalid += '<ceb:X xmlns:ceb="http://www.chinaport.gov.cn/ceb">订单</ceb:X>'
        data = invalid.encode("gbk")
    else:
        data = invalid.encode()
    rules = {f.rule for f in validate(data).findings}
    assert rule in rules


def test_the_command_writes_the_json(tmp_path: Path) -> None:
    target = tmp_path / "codes.json"
    result = CliRunner().invoke(cli, ["conformance", "--dictionary", str(target)])
    assert result.exit_code == 0, result.output
    data = json.loads(target.read_text(encoding="utf-8"))
    assert {r["id"] for r in data["rules"]} == set(RULES)
    assert {s["code"] for s in data["return_status"]} >= {100, 120, 399, 800, 899}
    assert {"-621004", "-621012", "-301011"} <= {f["code"] for f in data["lifecycle_refusals"]}
