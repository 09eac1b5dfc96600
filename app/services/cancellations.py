"""Cancelling a 清单: the 撤销申请单, CEB623 for an import 清单 (answered with CEB624, CEB spec
202205 §3.11-3.12) and CEB605 for an export one (answered with CEB606, §2.13-2.14).

When a 清单 may be cancelled is the core's (``declarations.judge_cancellation``: accepted by
customs and not closed; the codes are those of tables 7-2 and 7-3, which list them for both
directions). Here:

- the cancellation names the 清单 by ``invtNo``, and its order by ``orderNo`` and ``ebpCode``
  (import) or its consignor by ``ebcCode`` (export, whose cancellation names no order): a 清单
  of another order or consignor is "not found", -623003;
- only the declarant that sent the 清单 cancels it (403 ``access.not_the_sender``);
- an approved cancellation is answered 2 → 3 → 120 → 399 (import) or 2 → 3 → 399 (export:
  the statuses CEB606 lists, §2.14.4 p. 37); its declaration becomes ``cancelled`` (final: the
  clearance engine records nothing more of it), and an import buyer's annual quota gets the
  清单's amount back. The cancellation is kept in the set's history.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import states
from app.db.models import Declaration, DocumentRow
from app.services import authority, sets, tax_bills
from app.services.plans import FollowUp, Plan, refused
from app.services.set_documents import facts_of
from declarations import Direction, Facts, ReturnStatus, judge_cancellation

# The 清单 each cancellation names: the import one (CEB623), the export one (CEB605).
_LIST_OF = {"CEB623": "CEB621", "CEB605": "CEB603"}


def plan(session: Session, row: DocumentRow, facts: Facts) -> Plan:
    """Approve or refuse the cancellation ``row`` (not yet stored) asks for."""
    listed = _the_list(session, facts)
    declaration = session.get(Declaration, listed.declaration_id) if listed else None
    _receipt_numbers(row, facts, listed)
    if listed is None or declaration is None or not _names(declaration, listed, facts):
        refusal = judge_cancellation(None)
    else:
        authority.ensure_owner(row, listed)
        row.declaration_id = declaration.id
        cancelled = declaration.state == states.CANCELLED
        refusal = judge_cancellation(declaration.return_status, cancelled=cancelled)
    if refusal is not None:
        return refused(refusal)
    approved = f"撤单审结 / the 清单 {facts.key('invtNo')} is cancelled"
    assert declaration is not None
    between = () if facts.direction is Direction.EXPORT else (int(ReturnStatus.ACCEPTED),)
    follow = FollowUp(declaration, apply, between=between)
    return Plan(final=(int(ReturnStatus.DECIDED), approved), follow_up=follow)


def apply(session: Session, declaration: Declaration) -> None:
    """The approved cancellation takes effect: the declaration ends, the quota comes back."""
    states.move(declaration, states.CANCELLED)
    sets.give_back(session, declaration.id)
    tax_bills.void(session, declaration.id, datetime.now(UTC))  # cancelled after release


def _receipt_numbers(row: DocumentRow, facts: Facts, listed: DocumentRow | None) -> None:
    """CEB624 carries the 清单's invtNo and requires a copNo (§3.12.4 p. 90): the 清单's when the
    cancellation names none, else (no such 清单) the cancellation's own guid, cut to 20."""
    if listed is not None:
        row.invt_no = listed.invt_no
    if facts.key("copNo"):
        return
    copied = (listed.facts or {}).get("keys", {}).get("copNo") if listed is not None else None
    facts_json = row.facts or {}
    keys = {**facts_json.get("keys", {}), "copNo": copied or row.guid[:20]}
    row.facts = {**facts_json, "keys": keys}


def _the_list(session: Session, facts: Facts) -> DocumentRow | None:
    number = facts.key("invtNo")
    if not number:
        return None
    return session.scalars(
        select(DocumentRow).where(
            DocumentRow.invt_no == number,
            DocumentRow.message_code == _LIST_OF[facts.message.code],
            DocumentRow.current.is_(True),
        )
    ).first()


def _names(declaration: Declaration, listed: DocumentRow, facts: Facts) -> bool:
    """The cancellation names the 清单's own order (import) or consignor (export)."""
    if facts.direction is Direction.EXPORT:
        return facts_of(listed).key("ebcCode") == facts.key("ebcCode")
    return (declaration.order_no, declaration.ebp_code) == (
        facts.key("orderNo"),
        facts.key("ebpCode"),
    )
