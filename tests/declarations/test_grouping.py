"""How the documents of a set find each other: grouping by shared keys
(``declarations.grouping.connected``, used by both the batch validation and the
reconciliation), the data messages of a set and the order they are sent in."""

from __future__ import annotations

import random

import pytest

from declarations.grouping import connected
from declarations.messages import (
    DATA_MESSAGES,
    MESSAGES,
    SET_KINDS,
    Direction,
    Kind,
    data_message,
    send_rank,
)


def test_items_sharing_a_key_form_one_group_and_the_others_stand_alone() -> None:
    keys = [{"A"}, set(), {"B"}, {"A"}, {"C"}]
    assert connected(keys) == [[0, 3], [1], [2], [4]]


def test_a_chain_of_shared_keys_joins_items_that_share_none_directly() -> None:
    # an export waybill (logisticsNo only) reaches the order through the 清单 that names both
    order, waybill, inventory = {"ord-1"}, {"lp-1"}, {"ord-1", "lp-1"}
    assert connected([order, waybill, inventory]) == [[0, 1, 2]]


def test_groups_come_in_the_order_of_their_first_item_with_members_in_index_order() -> None:
    keys = [{"x"}, {"y"}, {"z"}, {"y", "z"}, {"x"}, set()]
    assert connected(keys) == [[0, 4], [1, 2, 3], [5]]
    assert connected([]) == []


def test_grouping_agrees_with_a_plain_search_on_random_inputs() -> None:
    rng = random.Random(11)
    for _ in range(200):
        n = rng.randint(0, 12)
        keys = [{rng.randint(0, 8) for _ in range(rng.randint(0, 2))} for _ in range(n)]
        expected: list[list[int]] = []
        seen: set[int] = set()
        for start in range(n):  # breadth-first over "shares a key with"
            if start in seen:
                continue
            group, frontier = {start}, [start]
            while frontier:
                i = frontier.pop()
                for j in range(n):
                    if j not in group and keys[i] & keys[j]:
                        group.add(j)
                        frontier.append(j)
            seen |= group
            expected.append(sorted(group))
        assert connected(keys) == expected, keys


def test_data_message_names_every_data_message_and_no_receipt() -> None:
    data = {m.code for m in MESSAGES if m.kind is not Kind.RETURN}
    assert {m.code for m in DATA_MESSAGES.values()} == data
    assert data_message(Direction.IMPORT, Kind.ORDER).code == "CEB311"
    assert data_message(Direction.EXPORT, Kind.PAYMENT).code == "CEB403"
    assert data_message(Direction.EXPORT, Kind.INVENTORY).code == "CEB603"
    with pytest.raises(KeyError):
        data_message(Direction.IMPORT, Kind.RETURN)


def test_a_set_is_sent_order_payment_waybill_then_the_list() -> None:
    kinds = [Kind.RETURN, Kind.INVENTORY, Kind.WAYBILL, Kind.ORDER, Kind.PAYMENT]
    assert sorted(kinds, key=send_rank) == [*SET_KINDS, Kind.RETURN]
    assert SET_KINDS[-1] is Kind.INVENTORY
