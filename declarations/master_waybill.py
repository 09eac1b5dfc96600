"""When customs takes a master-and-sub waybill list (清单总分单, CEB607, CEB spec 202205 §2.15
pp. 37-40, answered with CEB608 §2.16).

A carrier (or the declarant) binds export parcels, one ``WayBillList`` line per waybill
(``logisticsNo``, optionally its 清单's ``invtNo``), to a master waybill (``billNo``) and the
vehicle or flight that takes them out (``trafMode``, ``trafName``, ``voyageNo``). It supplies
the 清单's transport fields a declarant may leave for later (后置申报, §2.11.4 p. 29), and must
agree with those the 清单 declared. The spec gives CEB608's statuses (120 海关入库, 100 海关退单,
table 2-35 p. 42) but no refusal codes; this is danchuang's model, each refusal 100 with its
reason:

- every line names an export waybill of that carrier declared in a set, each once; an
  ``invtNo`` given is that set's 清单;
- the parcel's 清单 is declared and not finished: not refused, cancelled, detained, returned,
  nor departed (899);
- each transport field the 清单 declared equals the master waybill's (so a parcel is bound to
  one master waybill: its ``billNo``, once supplied, is the 清单's).

An accepted list is answered 2 → 3 → 120.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from declarations.codes import ReturnStatus
from declarations.lifecycle import Refusal

__all__ = ["TRANSPORT_FIELDS", "BoundParcel", "judge_master_waybill"]

# The 清单's transport fields a master waybill supplies (CEB603 InventoryHead, §2.11.4 p. 29).
TRANSPORT_FIELDS = ("trafMode", "trafName", "voyageNo", "billNo")
_REFUSED = str(int(ReturnStatus.REJECTED))
_FINISHED = frozenset({int(ReturnStatus.CLOSED), int(ReturnStatus.RETURNED)})


@dataclass(frozen=True, slots=True)
class BoundParcel:
    """One line of the list as customs finds it: the waybill, and the export set it is in
    (``found`` False: no declared waybill of that carrier has this number)."""

    logistics_no: str
    found: bool = True
    direction: str = "export"
    list_status: int | None = None  # the set's 清单 status, None before its 清单
    closed: bool = False  # the set is cancelled or refused for good
    invt_no: str | None = None  # the set's 清单 number
    named_invt_no: str | None = None  # the 清单 number the line names, if any
    transport: Mapping[str, str | None] = field(default_factory=dict)  # what the 清单 declared


def judge_master_waybill(
    head: Mapping[str, str | None], parcels: Sequence[BoundParcel]
) -> Refusal | None:
    """Why the list of ``parcels`` under ``head`` (its transport fields) may not be taken;
    None when it may."""
    if not parcels:
        return Refusal(_REFUSED, "the list names no waybill", "清单总分单未列明运单")
    seen: set[str] = set()
    for parcel in parcels:
        number = parcel.logistics_no
        if number in seen:
            return Refusal(_REFUSED, f"waybill {number} is listed twice", f"运单{number}重复列明")
        seen.add(number)
        refusal = _parcel(head, parcel)
        if refusal is not None:
            return refusal
    return None


def _parcel(head: Mapping[str, str | None], parcel: BoundParcel) -> Refusal | None:
    number, status = parcel.logistics_no, parcel.list_status
    if not parcel.found or parcel.direction != "export":
        return Refusal(_REFUSED, f"no declared export waybill {number} of this carrier",
                       f"未找到该物流企业的出口运单{number}")  # fmt: skip
    if parcel.named_invt_no and parcel.named_invt_no != parcel.invt_no:
        return Refusal(_REFUSED, f"waybill {number} is not in 清单 {parcel.named_invt_no}",
                       f"运单{number}不属于清单{parcel.named_invt_no}")  # fmt: skip
    if status is None:
        return Refusal(_REFUSED, f"waybill {number}: no 清单 declares it yet",
                       f"运单{number}尚无清单")  # fmt: skip
    if status < 0 or status in _FINISHED or status == ReturnStatus.REJECTED or parcel.closed:
        return Refusal(_REFUSED, f"waybill {number}: its 清单 is refused or finished",
                       f"运单{number}对应清单已退单或已结束")  # fmt: skip
    for name in TRANSPORT_FIELDS:
        declared, bound = (parcel.transport.get(name) or "").strip(), (head.get(name) or "").strip()
        if declared and declared != bound:
            return Refusal(
                _REFUSED,
                f"waybill {number}: its 清单 says {name} {declared}, the list {bound or '(none)'}",
                f"运单{number}：清单申报的{name}为{declared}，与总分单{bound or '(空)'}不一致",
            )
    return None
