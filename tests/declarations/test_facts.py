"""What intake keeps (``declarations.Facts``) reconciles a set as the documents themselves do."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from declarations import Facts, check, check_stored_set, validate_set
from declarations.findings import RULES, Layer
from declarations.messages import Regime
from declarations.rules.examples import EXAMPLES, cases, example_sets
from declarations.samples import generate_sets, to_bytes

# (a duplicate is a second record in one message, which the live service refuses: no facts)
RECONCILE_RULES = sorted(
    r for r in EXAMPLES
    if RULES[r].layer is Layer.RECONCILE and r != "reconcile.duplicate-document"
)  # fmt: skip


def _stored(data: bytes) -> Facts:
    """The facts as the live service keeps them: checked, to JSON text and back."""
    facts = check(data).facts()
    kept = json.loads(json.dumps(facts.to_json()))
    return Facts.from_json(
        facts.message.code,
        facts.direction.value,
        facts.regime.value if facts.regime else None,
        kept,
    )


@pytest.mark.parametrize("rule_id", RECONCILE_RULES)
def test_stored_facts_reconcile_like_the_documents(rule_id: str) -> None:
    for regime, direction in cases(rule_id):
        for variant, sample in example_sets(rule_id, regime, direction).items():
            files = {name: to_bytes(root) for name, root in sample.documents.items()}
            fresh = [
                f for f in validate_set(list(files.items())).findings
                if f.layer is Layer.RECONCILE
            ]  # fmt: skip
            stored = check_stored_set({n: _stored(d) for n, d in files.items()})
            # the same findings, at the same XPath; the facts keep no line numbers
            assert [f._replace(line=None) for f in fresh] == stored, (rule_id, variant)
            assert any(f.rule == rule_id for f in stored) == (variant == "invalid")


def test_facts_keep_keys_parties_note_and_purchase() -> None:
    sample = next(iter(generate_sets(Regime.DIRECT, seed=5, count=1)))
    inventory = next(root for name, root in sample.documents.items() if "CEB621" in name)
    facts = _stored(to_bytes(inventory))
    head = sample.deal
    assert facts.key("orderNo") == head.order_no
    assert facts.parties["agentCode"] == facts.key("agentCode")
    assert facts.purchase is not None
    assert facts.purchase.amount == sum(
        (Decimal(v or 0) for line in facts.lines for k, v in line.items() if k == "totalPrice"),
        Decimal(0),
    ) + Decimal(facts.head["freight"] or 0) + Decimal(facts.head["insuredFee"] or 0)


def test_a_refused_document_keeps_its_keys_but_no_fields() -> None:
    sample = next(iter(generate_sets(Regime.DIRECT, seed=5, count=1)))
    order = next(root for name, root in sample.documents.items() if "CEB311" in name)
    data = to_bytes(order).replace(
        b"<ceb:orderType>I</ceb:orderType>", b"<ceb:orderType>X</ceb:orderType>"
    )
    checked = check(data)
    assert not checked.report.valid
    facts = checked.facts()
    assert facts.key("orderNo") == sample.deal.order_no and facts.head == {} and facts.lines == []
