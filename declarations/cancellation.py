"""When a 清单 may be cancelled: the 撤销申请单 (CEB623, CEB spec 202205 §3.11 pp. 87-89),
answered with CEB624 (§3.12 pp. 89-91).

The spec gives the refusals (table 7-2 p. 116) but not the states; this is danchuang's model:

- the cancellation names the 清单 by its ``invtNo``: no such 清单 is -623003;
- a 清单 customs has accepted (120) and not yet closed may be cancelled: in review (300),
  decided (399), in inspection (500) or released (800). One not yet accepted, refused (100 or a
  negative code), detained, returned or closed (899) is -623005;
- a 清单 cancelled already is -623009 (撤单清单已经申报过).

An approved cancellation is answered 2 → 3 → 120 → 399 (the CEB624 codes of §3.12.4 p. 90:
120 海关入库, 399 海关审结), and the 清单 goes no further.
"""

from __future__ import annotations

from declarations.codes import ReturnStatus
from declarations.lifecycle import Refusal

__all__ = ["CANCELLABLE", "judge_cancellation"]

CANCELLABLE = frozenset(
    {
        ReturnStatus.ACCEPTED,
        ReturnStatus.MANUAL_REVIEW,
        ReturnStatus.DECIDED,
        ReturnStatus.INSPECTION,
        ReturnStatus.RELEASED,
    }
)

NOT_FOUND = "-623003"
STATE_FORBIDS = "-623005"
ALREADY = "-623009"


def judge_cancellation(list_status: int | None, *, cancelled: bool = False) -> Refusal | None:
    """Why the 清单 (its latest status, None when no 清单 has the invtNo named) may not be
    cancelled; None when it may."""
    if list_status is None:
        return Refusal(NOT_FOUND, "no 清单 with this invtNo", "系统中不存在该清单编号的清单")
    if cancelled:
        return Refusal(ALREADY, "the 清单 is cancelled already", "该清单已经撤单")
    if list_status not in CANCELLABLE:
        return Refusal(
            STATE_FORBIDS,
            f"a 清单 at {list_status} cannot be cancelled: only one customs has accepted (120) "
            "and not closed (899)",
            f"清单的状态[{list_status}]不符合撤单申报要求",
        )
    return None
