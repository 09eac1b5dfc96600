"""``check_message``: a message of several records is format-checked whole once, and each record
checked as the one-record message it stands for. What it says of each record is what ``check``
says of the record's bytes (signatures off), after the whole message's parse and signature
findings, as the live service checked them before: the same findings (lines and all), facts and
bytes."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
from lxml import etree
from test_quota_read_ahead import ReadingAhead, _inventories

from declarations import (
    BY_ROOT,
    Checked,
    Kind,
    Layer,
    Regime,
    Report,
    SignatureMode,
    SignaturePolicy,
    check,
    check_message,
    record_messages,
    seal,
)
from declarations.messages import Direction
from declarations.quota import InMemoryQuota, QuotaProvider
from declarations.rules.examples import reprice
from declarations.sample_batches import batched, sharing_parties
from declarations.samples import SampleSet, to_bytes

C = "{http://www.chinaport.gov.cn/ceb}"
SOURCE = "<request body>"
UNSIGNED = SignaturePolicy(SignatureMode.OFF)
Change = Callable[[etree._Element], None]


def _kind_of(root: etree._Element) -> Kind:
    return BY_ROOT[etree.QName(root).localname].kind


def _document(sample: SampleSet, kind: Kind) -> etree._Element:
    return copy.deepcopy(next(r for r in sample.documents.values() if _kind_of(r) is kind))


def _setting(name: str, value: str) -> Change:
    def change(root: etree._Element) -> None:
        node = root.find(f".//{C}{name}")
        assert node is not None, name
        node.text = value

    return change


# A business-rule error of each kind's rules (the schema lets each value through).
BREAKS: dict[Kind, Change] = {
    Kind.ORDER: _setting("goodsValue", "1"),  # order.goods-value, order.actural-paid
    Kind.WAYBILL: _setting("appType", "4"),  # document.app-type
    Kind.INVENTORY: _setting("customsCode", "ABCD"),  # document.code-format
}


def _sets() -> list[SampleSet]:
    """Five sets of shared parties; the second's single item costs 8,000 CNY, which its order
    and 清单 pass with a warning (limit.single-item-full-tax)."""
    sets = sharing_parties(Regime.DIRECT, Direction.IMPORT, seed=15, count=5)
    reprice(sets[1], Decimal("8000"), single_item=True)
    return sets


def _message(sets: Sequence[SampleSet], kind: Kind, broken: Sequence[int] = (2, 4)) -> bytes:
    """The ``kind`` documents of ``sets`` as one message, those at ``broken`` breaking a rule."""
    roots = [_document(s, kind) for s in sets]
    for index in broken:
        BREAKS[kind](roots[index])
    return to_bytes(batched(roots))


def _as_before(
    data: bytes, regime: Regime | None = None, quota: QuotaProvider | None = None
) -> list[tuple[bytes, Checked]]:
    """Each record as the service checked it before ``check_message``: the whole message
    checked, then each cut's bytes, unsigned, after the whole's parse and signature findings."""
    whole = check(data, regime, source=SOURCE, quota=quota)
    assert whole.document is not None
    carried = [f for f in whole.report.findings if f.layer in (Layer.PARSE, Layer.SIGNATURE)]
    records = []
    for message in record_messages(whole.document):
        part = check(message.data, regime, source=f"{SOURCE} record {message.number}",
                     quota=quota, signatures=UNSIGNED)  # fmt: skip
        report = Report([*carried, *part.report.findings], part.report.documents)
        records.append((message.data, replace(part, report=report, envelope=whole.envelope)))
    return records


def _same_records(
    data: bytes, regime: Regime | None = None, quota: Callable[[], QuotaProvider] | None = None
) -> list[Checked]:
    """``check_message``'s records, asserted the same as ``_as_before``'s."""
    found = check_message(data, regime, source=SOURCE, quota=quota() if quota else None)
    expected = _as_before(data, regime, quota() if quota else None)
    assert found.records is not None
    assert len(found.records) == len(expected)
    for number, (record, (cut, before)) in enumerate(
        zip(found.records, expected, strict=True), start=1
    ):
        checked = record.checked
        assert record.message.number == number
        assert record.message.data == cut
        assert checked.source == before.source
        assert checked.report.findings == before.report.findings
        assert checked.report.documents == before.report.documents
        assert checked.regime_named == before.regime_named
        assert checked.envelope == before.envelope
        assert checked.facts().to_json() == before.facts().to_json()
    return [record.checked for record in found.records]


@pytest.mark.parametrize("kind", list(BREAKS))
def test_each_record_is_what_check_says_of_its_cut(kind: Kind) -> None:
    checked = _same_records(_message(_sets(), kind), quota=InMemoryQuota)
    rules = [{f.rule for f in c.report.findings} for c in checked]
    assert rules[0] == set() and rules[3] == set()
    assert rules[2] and rules[4], "the broken records' rule errors"
    assert all(f.line for c in checked for f in c.report.findings), "findings name lines"
    if kind is not Kind.WAYBILL:
        assert "limit.single-item-full-tax" in rules[1]


def test_the_whole_messages_signature_warning_is_each_records_first_finding() -> None:
    data = _message(_sets(), Kind.INVENTORY, broken=(3,))
    tampered = data.replace(
        b"<ceb:appStatus>2</ceb:appStatus>", b"<ceb:appStatus>1</ceb:appStatus>"
    )
    assert tampered != data
    for checked in _same_records(tampered):
        assert checked.report.findings[0].rule == "signature.digest-mismatch"


def test_a_message_in_its_envelope_keeps_the_envelope_on_each_record() -> None:
    inner = _message(_sets(), Kind.INVENTORY)
    data = seal(inner, cop_msg_id="S15", sender_id="DXPENT0000000001",
                receiver_ids=("DXPEDCCEB0000002",), msg_type="CEB621Message",
                created=datetime(2024, 3, 1, 8, 0))  # fmt: skip
    checked = _same_records(data, quota=InMemoryQuota)
    assert all(c.envelope is not None for c in checked)


def test_records_of_a_message_with_character_references_or_cdata_are_alike() -> None:
    data = _message(_sets(), Kind.ORDER, broken=(1,))
    name = b"<ceb:consignee>"
    data = data.replace(name, name + b"&#x5F20;<![CDATA[ ]]>", 1)
    data = data.replace(b"</ceb:OrderHead>", b"&#32;</ceb:OrderHead>", 2)
    _same_records(data, Regime.DIRECT)


def test_a_regime_asked_for_is_each_records() -> None:
    _same_records(_message(_sets(), Kind.WAYBILL), Regime.DIRECT)


def test_a_message_of_several_inventories_reads_its_buyers_ahead_once() -> None:
    data, pairs = _inventories(3)
    ledger = ReadingAhead()
    found = check_message(data, quota=ledger)
    assert found.records is not None and all(r.checked.report.valid for r in found.records)
    assert ledger.calls[0] == ("read_ahead", pairs)
    assert [name for name, _ in ledger.calls[1:]] == ["used"] * 3


def test_a_message_of_one_record_is_checked_as_check_checks_it() -> None:
    data = _message(_sets()[:1], Kind.ORDER, broken=(0,))
    found = check_message(data, source=SOURCE)
    expected = check(data, source=SOURCE)
    assert found.records is None
    assert found.whole.report == expected.report
    assert found.whole.facts().to_json() == expected.facts().to_json()


@pytest.mark.parametrize(
    ("data", "signatures"),
    [
        # a record that fails the schema
        (_message(_sets(), Kind.ORDER, broken=()).replace(b"<ceb:freight>", b"<ceb:freight>x", 1),
         None),
        # a message unsigned where signatures are required: the rules' findings are reported too
        (_message(_sets(), Kind.ORDER), SignaturePolicy(SignatureMode.REQUIRE)),
    ],
)  # fmt: skip
def test_a_message_that_fails_the_format_check_is_checked_whole(
    data: bytes, signatures: SignaturePolicy | None
) -> None:
    found = check_message(data, source=SOURCE, signatures=signatures)
    expected = check(data, source=SOURCE, signatures=signatures)
    assert found.records is None
    assert found.whole.report == expected.report
    assert not expected.report.valid
