"""The states of a declaration (``Declaration.state``), the one place their names are spelled.

The submission side holds a set ``INCOMPLETE`` while its documents arrive and moves a complete,
reconciled set to ``CLEARANCE_READY`` (``app.services.sets``), or refuses it (``REJECTED``). From
there the clearance engine owns it: ``CLEARING`` while it is in the model, then one final state.
The HTTP API reports these names as they are (docs/api.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

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


# --- the state machine (docs/live-clearance.md, "The life of a declaration") --------------

NEW = "(new)"  # before the set's first document


@dataclass(frozen=True, slots=True)
class Step:
    """One transition of a declaration: from ``before`` to ``after`` on ``event``, with the
    receipts that say so (danchuang's model of the spec's lifecycle, CEB spec 202205 §2-3)."""

    before: str
    event: str
    receipts: str
    after: str


# Every way a declaration moves, in lifecycle order. ``move`` refuses any other change of
# state; the rows whose state stays are the events after release (docs: the same table).
TRANSITIONS: tuple[Step, ...] = (
    Step(NEW, "first document of the set", "its own 2 → 3 → 120", INCOMPLETE),
    Step(INCOMPLETE, "the set complete and reconciled, the quota counted, the stock drawn (1210)",
         "清单 2 → 3", CLEARANCE_READY),
    Step(INCOMPLETE, "reconciliation, the quota or the account book fails, or the set stays "
         "incomplete too long", "清单 100 or the rule's negative code", REJECTED),
    Step(REJECTED, "a new document or 清单 reopens the set", "its own 2 → 3 (→ 120)", INCOMPLETE),
    Step(REJECTED, "a new 清单 completes the set again", "清单 2 → 3", CLEARANCE_READY),
    Step(REJECTED, "the new 清单 fails reconciliation, the quota or the account book too",
         "清单 100 or the rule's negative code", REJECTED),
    Step(CLEARANCE_READY, "a document changed (appType 2) or withdrawn (appType 3)",
         "its own 2 → 3 → 120", INCOMPLETE),
    Step(CLEARANCE_READY, "the clearance engine takes it", "—", CLEARING),
    Step(CLEARING, "audit, review, decision, inspection", "CEB622 120 → [300] → 399 → [500]",
         CLEARING),
    Step(CLEARING, "9610 import: the goods enter the site (CEB711, real or danchuang's)",
         "the operator's own CEB712 2 → 3 → 120", CLEARING),
    Step(CLEARING, "release; customs issues the tax bill (import)", "CEB622 800; CEB816 1",
         CLEARING),
    Step(CLEARING, "closing, after release", "CEB622 899", CLEARED),
    Step(CLEARING, "rejected at audit", "CEB622 100 or a negative code", REJECTED),
    Step(CLEARING, "detained after inspection", "CEB622 501 / 502 / 503 / 599", DETAINED),
    Step(CLEARING, "shipped back after inspection", "CEB622 700", RETURNED),
    Step(CLEARING, "cancelled by its declarant (CEB623), 120 to 800",
         "CEB624 2 → 3 → 120 → 399; CEB818 3 when a bill was issued", CANCELLED),
    Step(CLEARED, "delivered (CEB513, real or danchuang's), after 800",
         "CEB514 2 → 3 → 399", CLEARED),
    Step(CLEARED, "returned in part or whole (CEB625) within 30 days of 800",
         "CEB626 2 → 3 → 120 → 399", CLEARED),
    Step(CLEARED, "the tax bill summed: paid from the guarantee (or the deduction fails)",
         "CEB818 2 (or 1)", CLEARED),
)  # fmt: skip

# An export (CEB spec 202205 §2: 清单 CEB603 → CEB604): release waits for the goods' arrival at
# the site, and their departure closes it (docs/live-clearance.md, "The life of an export
# declaration"). Its summary is not live yet.
EXPORT_TRANSITIONS: tuple[Step, ...] = (
    Step(NEW, "first document of the set", "its own 2 → 3 → 120", INCOMPLETE),
    Step(INCOMPLETE, "the set complete and reconciled", "清单 2 → 3", CLEARANCE_READY),
    Step(INCOMPLETE, "reconciliation fails, or the set stays incomplete too long",
         "清单 100 or the rule's negative code", REJECTED),
    Step(REJECTED, "a new document or 清单 reopens the set", "its own 2 → 3 (→ 120)", INCOMPLETE),
    Step(REJECTED, "a new 清单 completes the set again", "清单 2 → 3", CLEARANCE_READY),
    Step(REJECTED, "the new 清单 fails reconciliation too", "清单 100 or the rule's negative code",
         REJECTED),
    Step(CLEARANCE_READY, "a document changed (appType 2) or withdrawn (appType 3)",
         "its own 2 → 3 → 120", INCOMPLETE),
    Step(CLEARANCE_READY, "the clearance engine takes it", "—", CLEARING),
    Step(CLEARING, "audit, review, decision, inspection", "CEB604 120 → [300] → 399 → [500]",
         CLEARING),
    Step(CLEARING, "the goods arrive at the site (CEB507, real or danchuang's)",
         "the operator's own CEB508 2 → 3 → 399", CLEARING),
    Step(CLEARING, "release, once the goods are at the site", "CEB604 800", CLEARING),
    Step(CLEARING, "bound to a master waybill and flight (CEB607, real or danchuang's), up to "
         "the departure", "the carrier's own CEB608 2 → 3 → 120", CLEARING),
    Step(CLEARING, "the goods leave China (CEB509, real or danchuang's), after 800",
         "the carrier's own CEB510 2 → 3 → 399; CEB604 899", CLEARED),
    Step(CLEARING, "rejected at audit", "CEB604 100 or a negative code", REJECTED),
    Step(CLEARING, "detained after inspection", "CEB604 501 / 502 / 503 / 599", DETAINED),
    Step(CLEARING, "shipped back after inspection", "CEB604 700", RETURNED),
    Step(CLEARING, "cancelled by its declarant (CEB605), 120 to 800",
         "CEB606 2 → 3 → 399", CANCELLED),
    Step(CLEARED, "returned in part or whole (CEB213) within a year of departure",
         "CEB214 2 → 3 → 120", CLEARED),
    Step(CLEARED, "the returned parcel tallied at the site (CEB215)",
         "the operator's own CEB216 2 → 3 → 399; CEB214 800", CLEARED),
)  # fmt: skip
_ALLOWED = {
    "import": frozenset((s.before, s.after) for s in TRANSITIONS),
    "export": frozenset((s.before, s.after) for s in EXPORT_TRANSITIONS),
}


class HasState(Protocol):
    state: str
    direction: str


def move(declaration: HasState, after: str) -> None:
    """Put the declaration in state ``after``; a change the table of its direction
    (``TRANSITIONS``, ``EXPORT_TRANSITIONS``) does not list raises ``ValueError`` (a bug: the
    documented machine is the one the code runs). Staying in a state is no change."""
    before = declaration.state or INCOMPLETE
    if before != after and (before, after) not in _ALLOWED[declaration.direction]:
        raise ValueError(
            f"a declaration cannot go from {before} to {after} ({declaration.direction})"
        )
    declaration.state = after
