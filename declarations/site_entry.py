"""The goods at the supervised site: when customs takes the records that name the parcels coming
in and going out.

- 入库明细单 (CEB711, CEB spec 202205 §3.15 pp. 97-100, answered with CEB712 §3.16): the site's
  operator (监管场所经营人, ``operatorCode``) records the parcels of one carrier that came into
  the site. Only direct-purchase import (9610) has it: bonded goods (1210) are in the zone
  already. Customs releases a 9610 import 清单 only once its goods have entered the site.
- 运抵单 (CEB507, §2.7 pp. 17-19, answered with CEB508 §2.8): the site's operator records the
  export parcels that arrived at the site; customs releases an export 清单 only once its goods
  are there (清单放行 needs 清单 + 运抵).
- 离境单 (CEB509, §2.9 pp. 22-24, answered with CEB510 §2.10): the carrier records the export
  parcels that left China on its vehicle or flight; the released 清单 is then closed (899 结关).

Each names its parcels by waybill, one line each (``logisticsNo``) under one carrier
(``logisticsCode``). The spec gives the receipts' statuses (CEB712: 120 海关入库; CEB508 and
CEB510: 100 海关退单, 399 海关审结) but no refusal codes; this is danchuang's model, each refusal
100 with its reason:

- every line names a waybill of that carrier declared in a set of the record's kind (a 9610
  import for the entry, an export for the arrival and the departure), each once;
- a parcel enters or arrives once, and a 清单 refused, cancelled or finished (detained,
  returned, closed) takes none;
- a parcel departs once its 清单 is released (800), and once only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from declarations.codes import ReturnStatus
from declarations.lifecycle import Refusal

__all__ = ["EnteredWaybill", "judge_arrival", "judge_departure", "judge_entry"]

_REFUSED = str(int(ReturnStatus.REJECTED))
_NO_ENTRY_STATUSES = frozenset({int(ReturnStatus.CLOSED), int(ReturnStatus.RETURNED)})


@dataclass(frozen=True, slots=True)
class EnteredWaybill:
    """One line of a site's record as customs finds it: the waybill, and the set it is declared
    in (``found`` False: no declared waybill of that carrier has this number)."""

    logistics_no: str
    found: bool = True
    regime: str | None = None  # the set's regime, e.g. "9610" (None: no 清单 yet)
    direction: str = "import"
    list_status: int | None = None  # the set's 清单 status, None before its 清单
    entered: bool = False  # an earlier record already took its entry (or arrival)
    closed: bool = False  # the set is cancelled or refused for good


# (the refusal of one line, or None), for a line found and not named twice
LineCheck = Callable[[EnteredWaybill], Refusal | None]


def _judge(waybills: Sequence[EnteredWaybill], check: LineCheck) -> Refusal | None:
    if not waybills:
        return Refusal(_REFUSED, "the record names no waybill", "未列明运单")
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
        refusal = check(line)
        if refusal is not None:
            return refusal
    return None


def _comes_in_once(line: EnteredWaybill) -> Refusal | None:
    """The goods of ``line`` may enter (arrive) now: not before, and its 清单 still open."""
    number, status = line.logistics_no, line.list_status
    if line.entered:
        return Refusal(_REFUSED, f"waybill {number} is at the site already",
                       f"运单{number}已入库（运抵）")  # fmt: skip
    if (
        line.closed
        or (status is not None and status in _NO_ENTRY_STATUSES)
        or (status is not None and (status < 0 or status == ReturnStatus.REJECTED))
    ):
        return Refusal(_REFUSED, f"waybill {number}: its 清单 is finished or refused",
                       f"运单{number}对应清单已结束或被退单")  # fmt: skip
    return None


def _entry(line: EnteredWaybill) -> Refusal | None:
    if line.direction != "import" or line.regime not in (None, "9610"):
        number = line.logistics_no
        return Refusal(
            _REFUSED,
            f"waybill {number}: only direct-purchase import (9610) records site entry",
            f"运单{number}：仅直购进口(9610)需报送入库明细单",
        )
    return _comes_in_once(line)


def _arrival(line: EnteredWaybill) -> Refusal | None:
    if line.direction != "export":
        number = line.logistics_no
        return Refusal(_REFUSED, f"waybill {number}: only exports record their arrival",
                       f"运单{number}：仅出口需报送运抵单")  # fmt: skip
    return _comes_in_once(line)


def _departure(line: EnteredWaybill) -> Refusal | None:
    number, status = line.logistics_no, line.list_status
    if line.direction != "export":
        return Refusal(_REFUSED, f"waybill {number}: only exports record their departure",
                       f"运单{number}：仅出口需报送离境单")  # fmt: skip
    if status == ReturnStatus.CLOSED:
        return Refusal(_REFUSED, f"waybill {number} has departed already",
                       f"运单{number}已离境")  # fmt: skip
    if line.closed or status != ReturnStatus.RELEASED:
        return Refusal(_REFUSED, f"waybill {number}: its 清单 is not released",
                       f"运单{number}对应清单未放行")  # fmt: skip
    return None


def judge_entry(waybills: Sequence[EnteredWaybill]) -> Refusal | None:
    """Why the site's entry record (CEB711) of ``waybills`` may not be taken (the first line
    at fault); None when every line may."""
    return _judge(waybills, _entry)


def judge_arrival(waybills: Sequence[EnteredWaybill]) -> Refusal | None:
    """Why the site's arrival record (CEB507) of ``waybills`` may not be taken; None if it may."""
    return _judge(waybills, _arrival)


def judge_departure(waybills: Sequence[EnteredWaybill]) -> Refusal | None:
    """Why the carrier's departure record (CEB509) of ``waybills`` may not be taken; None if
    it may."""
    return _judge(waybills, _departure)
