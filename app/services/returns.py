"""Goods the buyer sends back: the 退货申请单 (CEB625), answered with CEB626 (CEB spec 202205
§3.13-3.14). When one is taken is the core's (``declarations.judge_return``); here:

- the return names its 清单 by ``invtNo`` (and its order by ``orderNo``, ``ebpCode``: a 清单
  of another order is "not found");
- only the declarant that sent the 清单 returns its goods (403 ``access.not_the_sender``);
- the release time is the 800 receipt's; what earlier returns took, their accepted lines;
- an accepted return is answered 2 → 3 → 120 → 399, and its value comes back to the buyer's
  annual quota (a negative ledger entry on the declaration, given back with it if the
  declaration is refused later).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Declaration, DocumentRow, Receipt
from app.quota import LedgerQuota
from app.services import authority, bonded_books, export_returns
from app.services.plans import FollowUp, Plan, refused
from app.services.set_documents import facts_of
from declarations import (
    Direction,
    Facts,
    ReturnStatus,
    judge_return,
    returned_quantities,
    returned_value,
)

_LISTS, _RETURNS = ("CEB621",), "CEB625"


def plan(session: Session, row: DocumentRow, facts: Facts) -> Plan:
    """Accept or refuse the return ``row`` (not yet stored); an export's is
    ``export_returns.plan_return``'s."""
    if facts.direction is Direction.EXPORT:
        return export_returns.plan_return(session, row, facts)
    listed = session.scalars(
        select(DocumentRow).where(
            DocumentRow.invt_no == facts.key("invtNo"),
            DocumentRow.message_code.in_(_LISTS),
            DocumentRow.current.is_(True),
        )
    ).first()
    declaration = session.get(Declaration, listed.declaration_id) if listed else None
    if declaration is not None and (declaration.order_no, declaration.ebp_code) != (
        facts.key("orderNo"),
        facts.key("ebpCode"),
    ):
        declaration = None  # the 清单 of another order
    if listed is None or declaration is None:
        return refused(judge_return(None, found=False))
    authority.ensure_owner(row, listed)
    row.declaration_id, row.invt_no = declaration.id, listed.invt_no
    list_facts = facts_of(listed)
    refusal = judge_return(
        declaration.return_status,
        released_at=_released_at(session, declaration.id),
        now=datetime.now(UTC),
        list_lines=list_facts.lines,
        returned=_returned_before(session, declaration.id),
        lines=facts.lines,
    )
    if refusal is not None:
        return refused(refusal)
    value = returned_value(list_facts.lines, facts.lines)
    purchase = list_facts.purchase

    back = returned_quantities(list_facts.lines, facts.lines)

    def apply(session: Session, declaration: Declaration) -> None:
        bonded_books.give_back(session, declaration.id, back)  # 1210: into the account book
        if purchase is not None and value:
            LedgerQuota.add(session, purchase.buyer_id_number, -value, date(purchase.year, 1, 1),
                            declaration_id=declaration.id)  # fmt: skip

    text = f"退货审结，退还额度 {value} 元 / return accepted, {value} CNY back to the quota"
    follow = FollowUp(declaration, apply, between=(int(ReturnStatus.ACCEPTED),))
    return Plan(final=(int(ReturnStatus.DECIDED), text), follow_up=follow)


def _released_at(session: Session, declaration_id: int) -> datetime | None:
    return session.scalar(
        select(Receipt.created_at).where(
            Receipt.declaration_id == declaration_id,
            Receipt.return_status == int(ReturnStatus.RELEASED),
        )
    )


def _returned_before(session: Session, declaration_id: int) -> dict[str | None, Decimal]:
    """What accepted returns of the declaration took back, per 清单 line."""
    taken: dict[str | None, Decimal] = defaultdict(Decimal)
    for row in session.scalars(
        select(DocumentRow).where(
            DocumentRow.declaration_id == declaration_id,
            DocumentRow.message_code == _RETURNS,
            DocumentRow.return_status == int(ReturnStatus.DECIDED),
        )
    ):
        for line in facts_of(row).lines:
            taken[line.get("gnum")] += Decimal(line.get("qty") or "0")
    return taken
