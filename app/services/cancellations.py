"""Cancelling a 清单: the 撤销申请单 (CEB623), answered with CEB624 (CEB spec 202205 §3.11-3.12).

When a 清单 may be cancelled is the core's (``declarations.judge_cancellation``: accepted by
customs and not closed). Here:

- the cancellation names the 清单 by ``invtNo`` (and its order by ``orderNo`` and ``ebpCode``:
  a 清单 of another order is "not found", -623003);
- only the declarant that sent the 清单 cancels it (403 ``access.not_the_sender``);
- an approved cancellation is answered 2 → 3 → 120 → 399; its declaration becomes
  ``cancelled`` (final: the clearance engine records nothing more of it), and the buyer's
  annual quota gets the 清单's amount back. The cancellation is kept in the set's history.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import states
from app.db.models import Declaration, DocumentRow
from app.services import authority, sets, tax_bills
from app.services.plans import FollowUp, Plan, refused
from declarations import Facts, ReturnStatus, judge_cancellation

_LIST_CODES = ("CEB621",)  # the import 清单 (the export one is cancelled by CEB605)


def plan(session: Session, row: DocumentRow, facts: Facts) -> Plan:
    """Approve or refuse the cancellation ``row`` (not yet stored) asks for."""
    listed = _the_list(session, facts)
    declaration = session.get(Declaration, listed.declaration_id) if listed else None
    _receipt_numbers(row, facts, listed)
    if listed is None or declaration is None or not _names(declaration, facts):
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
    follow = FollowUp(declaration, apply, between=(int(ReturnStatus.ACCEPTED),))
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
            DocumentRow.message_code.in_(_LIST_CODES),
            DocumentRow.current.is_(True),
        )
    ).first()


def _names(declaration: Declaration, facts: Facts) -> bool:
    """The cancellation names the 清单's own order."""
    return (declaration.order_no, declaration.ebp_code) == (
        facts.key("orderNo"),
        facts.key("ebpCode"),
    )
