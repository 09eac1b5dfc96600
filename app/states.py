"""The states of a declaration (``Declaration.state``), the one place their names are spelled.

The submission side holds a set ``INCOMPLETE`` while its documents arrive and moves a complete,
reconciled set to ``CLEARANCE_READY`` (``app.services.sets``), or refuses it (``REJECTED``). From
there the clearance engine owns it: ``CLEARING`` while it is in the model, then one final state.
The HTTP API reports these names as they are (docs/api.md).
"""

from __future__ import annotations

from declarations import DETENTIONS, ReturnStatus

INCOMPLETE = "incomplete"  # documents arriving; waiting for the rest of the set
CLEARANCE_READY = "clearance_ready"  # complete and reconciled: the clearance engine takes it
CLEARING = "clearing"  # in the clearance engine's model
CLEARED = "cleared"  # 899 结关
# refused: by the submission side (reconciliation, quota, incomplete past the window), or by
# customs (100 海关退单, or a negative business code)
REJECTED = "rejected"
DETAINED = "detained"  # 501/502/503/599 扣留
RETURNED = "returned"  # 700 退运
CANCELLED = "cancelled"  # its 清单 cancelled by a 撤销申请单 (CEB623, app.services.cancellations)

# Every state in lifecycle order (the dashboard's columns).
ALL_STATES = (
    INCOMPLETE, CLEARANCE_READY, CLEARING, CLEARED, REJECTED, DETAINED, RETURNED, CANCELLED,
)  # fmt: skip
OPEN_STATES = (INCOMPLETE, REJECTED)  # a new or changed document may (re)open the set
FINAL_STATES = frozenset({CLEARED, REJECTED, DETAINED, RETURNED, CANCELLED})

# Receipt statuses the engine records for a 清单 (CEB spec 202205 §3.10.4 p. 86, §2.12.4 p. 33),
# in lifecycle order (danchuang's model of it, docs/simulation.md). The
# model's 2 (申报中) and 3 (发送海关成功) happen at lodgement, which the submission side
# already answered when the 清单 arrived, so they are not repeated here.
RECORDED = frozenset(
    {
        ReturnStatus.ACCEPTED,
        ReturnStatus.MANUAL_REVIEW,
        ReturnStatus.DECIDED,
        ReturnStatus.INSPECTION,
        ReturnStatus.RELEASED,
        ReturnStatus.CLOSED,
        ReturnStatus.REJECTED,
        ReturnStatus.RETURNED,
    }
    | DETENTIONS
)


def final_state(status: int) -> str | None:
    """The final state a receipt status puts a declaration in, or None if it goes on."""
    if status == ReturnStatus.CLOSED:
        return CLEARED
    if status == ReturnStatus.REJECTED or status < 0:
        return REJECTED
    if status in DETENTIONS:
        return DETAINED
    if status == ReturnStatus.RETURNED:
        return RETURNED
    return None
