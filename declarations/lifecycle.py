"""What a resent, changed or deleted document may do, given what customs already holds.

The spec names the refusals (CEB spec 202205 §7 pp. 112-116) but not the full state table; the
table here is danchuang's own model of it:

- appType 1 (new) with the guid customs already holds is the same message again: idempotent.
  A *different* guid with the same business key is a duplicate (-301010, -401007, -504015,
  -621004).
- appType 2 (change) and 3 (delete) need the document to exist (-301009, -401006, -504014,
  -621011). Orders, payments and waybills may change until their declaration list is declared
  (-301011, -401008, -504016); a declaration list may change until customs decides (399), and
  may be deleted only before customs accepts it (120); otherwise -621012.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from declarations.codes import ReturnStatus
from declarations.messages import Direction, Kind


class AppType(StrEnum):
    NEW = "1"
    CHANGE = "2"
    DELETE = "3"


@dataclass(frozen=True, slots=True)
class Held:
    """What customs already holds under the same business key."""

    guid: str
    status: ReturnStatus  # the document's own latest status
    list_declared: bool = False  # for order/payment/waybill: its 清单 is declared


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str  # the spec's negative returnStatus, e.g. "-301010"
    message_en: str
    message_zh: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """Accept as new work, accept as a repeat of what is held, or refuse."""

    refusal: Refusal | None = None
    repeat: bool = False

    @property
    def accepted(self) -> bool:
        return self.refusal is None


# kind -> (duplicate, not found, state forbids), CEB spec 202205 §7 pp. 112-116
_CODES: dict[Kind, tuple[str, str, str]] = {
    Kind.ORDER: ("-301010", "-301009", "-301011"),
    Kind.PAYMENT: ("-401007", "-401006", "-401008"),
    Kind.WAYBILL: ("-504015", "-504014", "-504016"),
    Kind.INVENTORY: ("-621004", "-621011", "-621012"),
}
# Table 7-2 gives the 清单 codes for CEB621 only (its texts name CEB621Message); an export 清单
# (CEB603) has none, so its lifecycle refusals are answered 100 (海关退单), the reason in the text.
_EXPORT_LIST_CODES = ("100", "100", "100")

# A declaration list may change while customs has not decided, and be deleted before acceptance.
_LIST_CHANGEABLE = frozenset(
    {
        ReturnStatus.STAGED,
        ReturnStatus.DECLARING,
        ReturnStatus.SENT,
        ReturnStatus.ACCEPTED,
        ReturnStatus.MANUAL_REVIEW,
    }
)
_LIST_DELETABLE = frozenset({ReturnStatus.STAGED, ReturnStatus.DECLARING, ReturnStatus.SENT})


def judge(
    kind: Kind, app_type: AppType, guid: str, held: Held | None, *, direction: Direction
) -> Verdict:
    """May a document of ``kind`` with ``app_type`` and ``guid`` be taken, given ``held``?"""
    if kind not in _CODES:
        raise ValueError(f"{kind.value} documents have no lifecycle of their own")
    export_list = kind is Kind.INVENTORY and direction is Direction.EXPORT
    duplicate, not_found, forbidden = _EXPORT_LIST_CODES if export_list else _CODES[kind]
    if held is not None and held.guid == guid:
        return Verdict(repeat=True)
    if app_type is AppType.NEW:
        if held is None or held.status is ReturnStatus.REJECTED:
            return Verdict()
        return Verdict(
            Refusal(
                duplicate,
                f"a {kind.value} with the same number already exists",
                "已存在相同编号的单证，请勿重复申报",
            )
        )
    if held is None:
        return Verdict(
            Refusal(
                not_found,
                f"no {kind.value} with this number exists to change or delete",
                "未找到对应操作的单证",
            )
        )
    if _state_allows(kind, app_type, held):
        return Verdict()
    action = "changed" if app_type is AppType.CHANGE else "deleted"
    return Verdict(
        Refusal(
            forbidden,
            f"the {kind.value} can no longer be {action}: it stands at "
            f"{int(held.status)} ({held.status.meaning_en})",
            f"单证当前状态[{int(held.status)} {held.status.meaning_zh}]不允许此操作",
        )
    )


def _state_allows(kind: Kind, app_type: AppType, held: Held) -> bool:
    if kind is Kind.INVENTORY:
        allowed = _LIST_CHANGEABLE if app_type is AppType.CHANGE else _LIST_DELETABLE
        return held.status in allowed
    return not held.list_declared
