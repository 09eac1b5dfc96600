"""Exported goods coming back: the 退货申请单 (CEB213 → CEB214, CEB spec 202205 §2.17-2.18) and
the site's tally of the returned parcel (退货理货明细单, CEB215 → CEB216, §2.19-2.20), the 2022
additions. When a return is taken is the core's (``declarations.judge_export_return``); here:

- the return names its export 清单 by ``invtNo``, its platform ``ebpCode`` and consignor
  ``ebcCode`` (a 清单 of another is "not found", -625204); only the 清单's declarant returns
  its goods (403 ``access.not_the_sender``), though the spec lets the return name another
  carrier and waybill (the inbound one: ``logisticsCode``, ``logisticsNo``);
- its departure time is the 899 receipt's; what earlier returns took, their accepted lines;
- an accepted return is answered 2 → 3 → 120 (海关入库): customs waits for the parcel;
- the site's operator tallies the parcel when it comes back (CEB215, ``operatorCode``): it
  names the return's waybill (``logisticsCode``, ``logisticsNo``). Taken, it is answered 2 → 3
  → 399, and the return is released: its CEB214 800 (放行). A parcel no accepted return awaits
  is refused (100), as is a second tally.

The declaration stays ``cleared``; the return and its receipts are in its history, the tally
is the operator's own (it joins no set). danchuang's model: the spec gives the statuses, not
their order (CEB214: 120, 800; CEB216: 399).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Declaration, DocumentRow, Receipt
from app.services import authority
from app.services.answers import answer
from app.services.plans import FollowUp, Plan, refused
from app.services.set_documents import facts_of
from declarations import (
    Facts,
    Refusal,
    Regime,
    ReturnStatus,
    judge_export_return,
    return_trade_mode,
)

_LIST, _RETURN = "CEB603", "CEB213"
_REFUSED = str(int(ReturnStatus.REJECTED))


def plan_return(session: Session, row: DocumentRow, facts: Facts) -> Plan:
    """Accept or refuse the export return ``row`` (CEB213, not yet stored)."""
    listed = session.scalars(
        select(DocumentRow).where(
            DocumentRow.invt_no == facts.key("invtNo"),
            DocumentRow.message_code == _LIST,
            DocumentRow.current.is_(True),
        )
    ).first()
    declaration = session.get(Declaration, listed.declaration_id) if listed else None
    list_facts = facts_of(listed) if listed is not None else None
    if (
        list_facts is None
        or declaration is None
        or any(list_facts.key(name) != facts.key(name) for name in ("ebpCode", "ebcCode"))
    ):
        return refused(judge_export_return(None, found=False))
    assert listed is not None
    authority.ensure_owner(row, listed)
    row.declaration_id, row.invt_no = declaration.id, listed.invt_no
    refusal = judge_export_return(
        declaration.return_status,
        departed_at=_departed_at(session, declaration.id),
        now=datetime.now(UTC),
        trade_mode=facts.head.get("tradeMode"),
        wanted_mode=return_trade_mode(Regime(declaration.regime or "9610")),
        list_lines=list_facts.lines,
        returned=_returned_before(session, declaration.id),
        lines=facts.lines,
    )
    if refusal is not None:
        return refused(refusal)
    text = "海关入库：待退货包裹入区理货 / return accepted: the parcel is awaited at the site"
    return Plan(final=(int(ReturnStatus.ACCEPTED), text))


def plan_tally(session: Session, row: DocumentRow, facts: Facts) -> Plan:
    """Accept or refuse the site's tally ``row`` (CEB215, not yet stored) of a returned parcel."""
    awaited = _awaiting_return(session, facts.key("logisticsCode"), facts.key("logisticsNo"))
    if awaited is None:
        return refused(Refusal(_REFUSED, "no accepted return awaits this parcel",
                               "未找到待理货的退货申请单"))  # fmt: skip
    declaration = session.get(Declaration, awaited.declaration_id)
    assert declaration is not None  # an accepted return names its declaration

    def apply(session: Session, declaration: Declaration) -> None:
        released = ReturnStatus.RELEASED
        answer(session, awaited, int(released), f"{released.meaning_zh}（退货入区）/ "
               f"{released.meaning_en} (the returned parcel is back)")  # fmt: skip

    text = "海关审结：退货理货 / the returned parcel is tallied"
    follow = FollowUp(declaration, apply, joins=False)
    return Plan(final=(int(ReturnStatus.DECIDED), text), follow_up=follow)


def _awaiting_return(
    session: Session, carrier: str | None, number: str | None
) -> DocumentRow | None:
    """The accepted export return (120, not yet released) coming back on waybill ``number``."""
    if not carrier or not number:
        return None
    return session.scalars(
        select(DocumentRow)
        .where(
            DocumentRow.message_code == _RETURN,
            DocumentRow.logistics_code == carrier,
            DocumentRow.logistics_no == number,
            DocumentRow.return_status == int(ReturnStatus.ACCEPTED),
        )
        .order_by(DocumentRow.id)
    ).first()


def _departed_at(session: Session, declaration_id: int) -> datetime | None:
    return session.scalar(
        select(Receipt.created_at).where(
            Receipt.declaration_id == declaration_id,
            Receipt.return_status == int(ReturnStatus.CLOSED),
        )
    )


def _returned_before(session: Session, declaration_id: int) -> dict[str | None, Decimal]:
    """What accepted export returns of the declaration took back, per 清单 line."""
    taken: dict[str | None, Decimal] = defaultdict(Decimal)
    accepted = (int(ReturnStatus.ACCEPTED), int(ReturnStatus.RELEASED))
    for row in session.scalars(
        select(DocumentRow).where(
            DocumentRow.declaration_id == declaration_id,
            DocumentRow.message_code == _RETURN,
            DocumentRow.return_status.in_(accepted),
        )
    ):
        for line in facts_of(row).lines:
            taken[line.get("gnum")] += Decimal(line.get("qty") or "0")
    return taken
