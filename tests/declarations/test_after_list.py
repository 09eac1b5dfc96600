"""What may follow a released 清单 (declarations.after_list, declarations.cancellation): each
situation and the code table 7-2 gives it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from declarations import ReturnStatus, judge_cancellation, judge_delivery, judge_return
from declarations.after_list import RETURN_WINDOW, returned_value

RELEASED, CLOSED, ACCEPTED = 800, 899, 120
NOW = datetime(2026, 12, 5, tzinfo=UTC)
LINES = [{"gnum": "1", "gcode": "8509809000", "qty": "3", "price": "452.66"}]


def code(refusal: object) -> str | None:
    return getattr(refusal, "code", None)


def test_a_delivery_is_taken_once_after_release_and_says_s() -> None:
    assert judge_delivery(RELEASED) is None and judge_delivery(CLOSED) is None
    assert code(judge_delivery(ACCEPTED)) == "100"
    assert code(judge_delivery(RELEASED, status="X")) == "-505011"
    assert code(judge_delivery(RELEASED, delivered=True)) == "-505012"
    assert code(judge_delivery(None, found=False)) == "-505014"


def test_a_return_within_the_window_of_released_lines_up_to_what_is_left() -> None:
    def judged(*, when: timedelta = timedelta(days=29), qty: str = "1", gcode: str = "8509809000",
               returned: Decimal = Decimal(0), status: int = RELEASED) -> str | None:  # fmt: skip
        return code(judge_return(
            status, released_at=NOW - when, now=NOW, list_lines=LINES,
            returned={"1": returned}, lines=[{"gnum": "1", "gcode": gcode, "qty": qty}],
        ))  # fmt: skip

    assert judged() is None and judged(qty="3") is None
    assert judged(when=RETURN_WINDOW + timedelta(seconds=1)) == "100"
    assert judged(status=ACCEPTED) == "100"
    assert judged(gcode="0000000000") == "-625209"
    assert judged(qty="3", returned=Decimal(1)) == "100"  # only 2 left
    assert judged(qty="2", returned=Decimal(1)) is None
    assert code(judge_return(None, found=False)) == "-625204"
    lines = [{"gnum": "1", "qty": "2"}]
    assert returned_value(LINES, lines) == Decimal("905.32")


def test_a_cancellation_needs_an_accepted_list_not_closed() -> None:
    for status in (ACCEPTED, 300, 399, 500, RELEASED):
        assert judge_cancellation(status) is None
    for status in (2, 3, 100, -621005, 501, 700, CLOSED):
        assert code(judge_cancellation(status)) == "-623005"
    assert code(judge_cancellation(RELEASED, cancelled=True)) == "-623009"
    assert code(judge_cancellation(None)) == "-623003"
    assert int(ReturnStatus.DECIDED) == 399
