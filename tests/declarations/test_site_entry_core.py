"""When the site's records are taken: the entry (CEB711), the export arrival (CEB507) and departure
(CEB509): declarations.judge_entry, judge_arrival, judge_departure."""

from __future__ import annotations

import pytest

from declarations import EnteredWaybill, judge_arrival, judge_departure, judge_entry


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
        ([EnteredWaybill("L1", regime="9610", entered=True)], "at the site already"),
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


def _export(**fields: object) -> EnteredWaybill:
    return EnteredWaybill("E1", **{"regime": "9610", "direction": "export", **fields})  # type: ignore[arg-type]


def test_an_export_parcel_arrives_once_and_departs_once_released() -> None:
    """The arrival (CEB507) and departure (CEB509) records: CEB spec 202205 §2.7, §2.9."""
    assert judge_arrival([_export(list_status=120)]) is None
    assert judge_arrival([_export(regime="9710", list_status=None)]) is None  # 清单 to come
    assert judge_departure([_export(list_status=800)]) is None
    refusals = {
        "arrival, import": judge_arrival([EnteredWaybill("I1", regime="9610")]),
        "arrival, twice": judge_arrival([_export(entered=True)]),
        "arrival, refused 清单": judge_arrival([_export(list_status=100)]),
        "departure, import": judge_departure([EnteredWaybill("I1", list_status=800)]),
        "departure, not released": judge_departure([_export(list_status=399)]),
        "departure, twice": judge_departure([_export(list_status=899)]),
        "departure, cancelled": judge_departure([_export(list_status=800, closed=True)]),
        "departure, nothing": judge_departure([]),
    }
    reasons = {what: r.message_en if r else None for what, r in refusals.items()}
    assert reasons == {
        "arrival, import": "waybill I1: only exports record their arrival",
        "arrival, twice": "waybill E1 is at the site already",
        "arrival, refused 清单": "waybill E1: its 清单 is finished or refused",
        "departure, import": "waybill I1: only exports record their departure",
        "departure, not released": "waybill E1: its 清单 is not released",
        "departure, twice": "waybill E1 has departed already",
        "departure, cancelled": "waybill E1: its 清单 is not released",
        "departure, nothing": "the record names no waybill",
    }
