"""The goods' entry at the supervised site: 入库明细单 (CEB711, CEB spec 202205 §3.15 pp. 97-100),
answered with CEB712 (§3.16 pp. 100-101).

The site's operator (监管场所经营人, ``operatorCode``) records the parcels of one carrier
(``logisticsCode``) that came into the site, one ``DeliveryList`` line per waybill
(``logisticsNo``). Only direct-purchase import (9610) has this record: bonded goods (1210) are
in the zone already. For 9610 import, customs releases a 清单 only once its goods have entered
the site (清单放行 needs 清单 + 入库: the site then releases or inspects), so the release waits
for this record.

The spec gives the CEB712 statuses (120 海关入库, 399 海关审结, 100 海关退单, table 3-56 p. 101)
but no refusal codes for CEB711; this is danchuang's model, each refusal 100 with its reason:

- every line names a waybill of that carrier declared in a 9610 import set;
- a waybill's goods enter once;
- a 清单 refused, cancelled or finished (detained, returned, closed) takes no entry.

An accepted record is answered 2 → 3 → 120 (海关入库).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from declarations.codes import ReturnStatus
from declarations.lifecycle import Refusal

__all__ = ["EnteredWaybill", "judge_entry"]

_REFUSED = str(int(ReturnStatus.REJECTED))
_NO_ENTRY_STATUSES = frozenset({int(ReturnStatus.CLOSED), int(ReturnStatus.RETURNED)})


@dataclass(frozen=True, slots=True)
class EnteredWaybill:
    """One line of the record as customs finds it: the waybill, and the set it is declared in
    (``found`` False: no declared waybill of that carrier has this number)."""

    logistics_no: str
    found: bool = True
    regime: str | None = None  # the set's regime, "9610" or "1210" (None: no 清单 yet)
    direction: str = "import"
    list_status: int | None = None  # the set's 清单 status, None before its 清单
    entered: bool = False  # an earlier record already took its entry
    closed: bool = False  # the set is cancelled or refused for good


def judge_entry(waybills: Sequence[EnteredWaybill]) -> Refusal | None:
    """Why the record of ``waybills`` may not be taken (the first line at fault); None when
    every line may."""
    if not waybills:
        return Refusal(_REFUSED, "the record names no waybill", "入库明细单未列明运单")
    seen: set[str] = set()
    for line in waybills:
        number = line.logistics_no
        if number in seen:
            return Refusal(_REFUSED, f"waybill {number} is listed twice",
                           f"运单{number}重复列明")  # fmt: skip
        seen.add(number)
        if not line.found:
            return Refusal(_REFUSED, f"no declared waybill {number} of this carrier",
                           f"未找到该物流企业的运单{number}")  # fmt: skip
        if line.direction != "import" or line.regime not in (None, "9610"):
            return Refusal(
                _REFUSED,
                f"waybill {number}: only direct-purchase import (9610) records site entry",
                f"运单{number}：仅直购进口(9610)需报送入库明细单",
            )
        if line.entered:
            return Refusal(_REFUSED, f"waybill {number} has entered the site already",
                           f"运单{number}已入库")  # fmt: skip
        status = line.list_status
        if (
            line.closed
            or (status is not None and status in _NO_ENTRY_STATUSES)
            or (status is not None and (status < 0 or status == ReturnStatus.REJECTED))
        ):
            return Refusal(_REFUSED, f"waybill {number}: its 清单 is finished or refused",
                           f"运单{number}对应清单已结束或被退单")  # fmt: skip
    return None
