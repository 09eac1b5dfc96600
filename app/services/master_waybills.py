"""The master-and-sub waybill list (清单总分单, CEB607 → CEB608, CEB spec 202205 §2.15-2.16): a
carrier (or the declarant) binds export parcels to a master waybill and the vehicle or flight
that takes them out. When one is taken is the core's (``declarations.judge_master_waybill``);
here:

- the list names its parcels by ``logisticsCode`` (head) and ``logisticsNo`` (one line each),
  declared in the sets' export waybills (CEB505), and may name each one's 清单 (``invtNo``);
- sent by the carrier (``logisticsCode``, role ``logistics``) or the declarant (``agentCode``,
  role ``agent``) (``app.security``); danchuang plays the carrier unless a party of the set
  says a real one sends it (``app.services.real_senders``: CEB607);
- an accepted list is answered 2 → 3 → 120 (海关入库), and supplies each 清单's transport fields
  it left empty (后置申报, §2.11.4 p. 29): the 清单's stored facts gain them, so that what
  follows reads them (the departure record flies on that voyage; the summary groups by
  ``trafMode``). The 清单's own XML is not changed. Like the site's records, the list joins no
  set: its sender does not become a party that may read the sets it names.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app import states
from app.db.models import Declaration, DocumentRow
from app.services.named_waybills import declarations_of_waybills
from app.services.plans import FollowUp, Plan, refused
from app.services.set_documents import current_of, facts_of
from declarations import TRANSPORT_FIELDS, BoundParcel, Facts, ReturnStatus, judge_master_waybill

_ENDED = frozenset({states.REJECTED, states.CANCELLED, states.DETAINED, states.RETURNED})
MASTER_KEY = "masterWaybill"  # the billNo a 清单's facts were bound to (``bound_to``)


def plan(session: Session, row: DocumentRow, facts: Facts) -> Plan:
    """Accept or refuse the master waybill list ``row`` (CEB607, not yet stored)."""
    carrier = facts.key("logisticsCode")
    lines = [(line.get("logisticsNo") or "", line.get("invtNo")) for line in facts.lines]
    found = declarations_of_waybills(session, "CEB505", carrier, [n for n, _ in lines])
    lists = {number: _list_of(session, d) for number, d in found.items()}
    parcels = [
        _parcel(number, invt, found.get(number), lists.get(number)) for number, invt in lines
    ]
    transport = {name: facts.head.get(name) for name in TRANSPORT_FIELDS}
    refusal = judge_master_waybill(transport, parcels)
    if refusal is not None:
        return refused(refusal)
    bound = [lists[number] for number, _ in lines]

    def apply(session: Session, first: Declaration) -> None:
        for inventory in bound:
            if inventory is not None:
                _supply(inventory, transport)

    count, bill = len(lines), transport["billNo"]
    text = f"海关入库：总运单 {bill} 绑定 {count} 票 / {count} parcel(s) bound to {bill}"
    follow = FollowUp(found[lines[0][0]], apply, joins=False)
    return Plan(final=(int(ReturnStatus.ACCEPTED), text), follow_up=follow)


def bound_to(session: Session, declaration_id: int) -> str | None:
    """The master waybill (billNo) an accepted list bound the declaration's parcel to."""
    inventory = current_of(session, declaration_id, "CEB603")
    if inventory is None or inventory.facts is None:
        return None
    value = inventory.facts.get(MASTER_KEY)
    return str(value) if value else None


def _list_of(session: Session, declaration: Declaration) -> DocumentRow | None:
    return current_of(session, declaration.id, "CEB603")


def _parcel(
    number: str, named: str | None, declaration: Declaration | None, inventory: DocumentRow | None
) -> BoundParcel:
    if declaration is None:
        return BoundParcel(number, found=False)
    head = facts_of(inventory).head if inventory is not None else {}
    return BoundParcel(
        number,
        direction=declaration.direction,
        list_status=declaration.return_status if inventory is not None else None,
        closed=declaration.state in _ENDED,
        invt_no=inventory.invt_no if inventory is not None else None,
        named_invt_no=named,
        transport={name: head.get(name) for name in TRANSPORT_FIELDS},
    )


def _supply(inventory: DocumentRow, transport: dict[str, str | None]) -> None:
    """The 清单's facts gain the transport fields it left empty, and the master waybill."""
    kept = dict(inventory.facts or {})
    head = dict(kept.get("head") or {})
    for name, value in transport.items():
        if value and not (head.get(name) or "").strip():
            head[name] = value
    kept["head"] = head
    kept[MASTER_KEY] = transport["billNo"]
    inventory.facts = kept  # a new dict: SQLAlchemy sees the JSON change
