"""The appType rules: repeats, duplicates, changes and deletions by state."""

from __future__ import annotations

import pytest

from declarations.codes import ReturnStatus
from declarations.lifecycle import AppType, Held, judge
from declarations.messages import Direction, Kind

IMPORT = Direction.IMPORT

G1, G2 = "A" * 36, "B" * 36


def test_same_guid_is_an_idempotent_repeat_whatever_the_app_type() -> None:
    for app_type in AppType:
        verdict = judge(
            Kind.ORDER, app_type, G1, Held(G1, ReturnStatus.ACCEPTED), direction=Direction.IMPORT
        )
        assert verdict.accepted and verdict.repeat


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (Kind.ORDER, "-301010"),
        (Kind.PAYMENT, "-401007"),
        (Kind.WAYBILL, "-504015"),
        (Kind.INVENTORY, "-621004"),
    ],
)
def test_new_document_with_a_held_number_is_a_duplicate(kind: Kind, code: str) -> None:
    verdict = judge(
        kind, AppType.NEW, G2, Held(G1, ReturnStatus.ACCEPTED), direction=Direction.IMPORT
    )
    assert verdict.refusal is not None and verdict.refusal.code == code


def test_a_rejected_document_may_be_declared_anew() -> None:
    assert judge(
        Kind.ORDER, AppType.NEW, G2, Held(G1, ReturnStatus.REJECTED), direction=Direction.IMPORT
    ).accepted


def test_change_of_nothing_is_refused() -> None:
    verdict = judge(Kind.INVENTORY, AppType.CHANGE, G2, None, direction=IMPORT)
    assert verdict.refusal is not None and verdict.refusal.code == "-621011"


def test_order_change_after_its_list_is_declared_is_refused() -> None:
    held = Held(G1, ReturnStatus.ACCEPTED, list_declared=True)
    refusal = judge(Kind.ORDER, AppType.CHANGE, G2, held, direction=IMPORT).refusal
    assert refusal is not None and refusal.code == "-301011"
    assert judge(
        Kind.ORDER, AppType.CHANGE, G2, Held(G1, ReturnStatus.ACCEPTED), direction=Direction.IMPORT
    ).accepted


@pytest.mark.parametrize(
    ("status", "change_ok", "delete_ok"),
    [
        (ReturnStatus.SENT, True, True),
        (ReturnStatus.ACCEPTED, True, False),
        (ReturnStatus.MANUAL_REVIEW, True, False),
        (ReturnStatus.DECIDED, False, False),
        (ReturnStatus.RELEASED, False, False),
        (ReturnStatus.CLOSED, False, False),
    ],
)
def test_declaration_list_changes_by_state(
    status: ReturnStatus, change_ok: bool, delete_ok: bool
) -> None:
    held = Held(G1, status)
    change = judge(Kind.INVENTORY, AppType.CHANGE, G2, held, direction=IMPORT)
    delete = judge(Kind.INVENTORY, AppType.DELETE, G2, held, direction=IMPORT)
    assert change.accepted is change_ok
    assert delete.accepted is delete_ok
    for verdict in (change, delete):
        if not verdict.accepted:
            assert verdict.refusal is not None and verdict.refusal.code == "-621012"
            assert str(int(status)) in verdict.refusal.message_en


@pytest.mark.parametrize("app_type", [AppType.NEW, AppType.CHANGE, AppType.DELETE])
def test_an_export_list_has_no_ceb621_codes_it_is_refused_with_100(app_type: AppType) -> None:
    """Table 7-2 gives the 清单 codes for CEB621 only; an export 清单 is answered 100."""
    status = ReturnStatus.ACCEPTED if app_type is AppType.NEW else ReturnStatus.RELEASED
    held = Held(G1, status)  # a duplicate, or a change or deletion the state forbids
    refusal = judge(Kind.INVENTORY, app_type, G2, held, direction=Direction.EXPORT).refusal
    assert refusal is not None and refusal.code == "100"
    imported = judge(Kind.INVENTORY, app_type, G2, held, direction=IMPORT).refusal
    assert imported is not None and imported.code.startswith("-621")
