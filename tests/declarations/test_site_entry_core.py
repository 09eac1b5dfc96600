"""When the site's entry record (CEB711) is taken: declarations.judge_entry."""

from __future__ import annotations

import pytest

from declarations import EnteredWaybill, judge_entry


def test_a_declared_9610_waybill_enters() -> None:
    assert judge_entry([EnteredWaybill("L1", regime="9610", list_status=399)]) is None
    assert judge_entry([EnteredWaybill("L1", regime=None, list_status=None)]) is None  # no 清单 yet


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        ([], "names no waybill"),
        ([EnteredWaybill("L1", found=False)], "no declared waybill L1"),
        ([EnteredWaybill("L1", regime="1210")], "only direct-purchase import"),
        ([EnteredWaybill("L1", regime="9610", direction="export")], "only direct-purchase"),
        ([EnteredWaybill("L1", regime="9610", entered=True)], "entered the site already"),
        ([EnteredWaybill("L1", regime="9610", list_status=100)], "finished or refused"),
        ([EnteredWaybill("L1", regime="9610", list_status=-621005)], "finished or refused"),
        ([EnteredWaybill("L1", regime="9610", list_status=899)], "finished or refused"),
        ([EnteredWaybill("L1", regime="9610", closed=True)], "finished or refused"),
        ([EnteredWaybill("L1", regime="9610"), EnteredWaybill("L1", regime="9610")], "twice"),
    ],
)
def test_what_is_refused(lines: list[EnteredWaybill], reason: str) -> None:
    refusal = judge_entry(lines)
    assert refusal is not None and refusal.code == "100"
    assert reason in refusal.message_en and refusal.message_zh
