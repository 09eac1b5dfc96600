"""The per-rule examples under xsd/<regime>/examples: complete, current, and telling the truth.

Every business and reconciliation rule has, for every regime it applies to, a valid example
that does not trigger it and an invalid one that does — checked through the whole pipeline
(``validate_set``: parse, identify, our XSD, rules, reconciliation).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from declarations import validate_set
from declarations.findings import RULES, Layer
from declarations.messages import Regime
from declarations.paths import xsd_root
from declarations.rules.examples import EXAMPLES, cases, write_examples

CASES = [(rule, regime) for rule in EXAMPLES for regime, _ in cases(rule)]


def folder(rule: str, regime: Regime, verdict: str) -> Path:
    return xsd_root() / regime.value / "examples" / rule / verdict


def test_every_rule_has_examples() -> None:
    rules = {k for k, v in RULES.items() if v.layer in (Layer.RULE, Layer.RECONCILE)}
    assert rules <= set(EXAMPLES), f"rules without examples: {sorted(rules - set(EXAMPLES))}"
    for rule in EXAMPLES:
        assert cases(rule), f"{rule} applies to no regime"
    # each regime documents the rules that apply to it, e.g. the B2B route only for 9710/9810
    assert {r for r, _ in cases("limit.b2b-list-route")} == {
        Regime.B2B_DIRECT,
        Regime.OVERSEAS_WAREHOUSE,
    }
    assert {r for r, _ in cases("order.line-total")} == set(Regime)


@pytest.mark.parametrize(("rule", "regime"), CASES, ids=[f"{r}-{g.value}" for r, g in CASES])
def test_valid_example_passes_and_invalid_one_breaks_the_rule(rule: str, regime: Regime) -> None:
    reports = {}
    for verdict in ("valid", "invalid"):
        files = sorted(folder(rule, regime, verdict).glob("*.xml"))
        assert files, f"no {verdict} example for {rule} in {regime.value}"
        reports[verdict] = validate_set([(f.name, f.read_bytes()) for f in files])
    valid, invalid = reports["valid"], reports["invalid"]
    assert rule not in {f.rule for f in valid.findings}
    if EXAMPLES[rule].lone_document is None:
        assert valid.findings == []
    assert rule in {f.rule for f in invalid.findings}
    # the invalid example is schema-valid: it fails on the rule, not on its structure
    assert not [f for f in invalid.findings if f.layer in (Layer.PARSE, Layer.SCHEMA)]


def test_committed_examples_are_current(tmp_path: Path) -> None:
    write_examples(tmp_path)
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    for regime in Regime:
        committed = xsd_root() / regime.value / "examples"
        for path in committed.rglob("*"):
            if path.is_file():
                key = path.relative_to(xsd_root())
                assert key in fresh, f"{key} is no longer generated"
                assert fresh.pop(key) == path.read_bytes(), f"{key} is stale"
    assert not fresh, f"not committed: {sorted(map(str, fresh))[:5]}"
