"""Grouping items that share a key, directly or through others (union-find).

Both the batch validation (which files form a set: ``batches.group_sets``) and the
reconciliation (which records form a deal: ``reconcile.group_units``) tie things together by
the business keys they carry, orderNo and logisticsNo (CEB spec 202205 §3.9.4): an export
waybill shares only its logisticsNo with the 清单, which shares its orderNo with the order.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence


def connected(keys: Sequence[Iterable[Hashable]]) -> list[list[int]]:
    """The indices of ``keys`` (one iterable of keys per item) grouped by shared keys,
    transitively. Each group is in index order and the groups in the order of their first
    item; an item that shares no key is a group of its own."""
    # ``parent`` leads from each item towards its group's root.
    parent = list(range(len(keys)))
    owner: dict[Hashable, int] = {}  # key -> the first item holding it
    for index, item_keys in enumerate(keys):
        for key in item_keys:
            first = owner.setdefault(key, index)
            if first != index:
                parent[_root(parent, index)] = _root(parent, first)
    groups: dict[int, list[int]] = {}
    for index in range(len(parent)):
        top = parent[index]
        while parent[top] != top:  # (``_root`` inlined: this runs for every item)
            top = parent[top]
        group = groups.get(top)
        if group is None:
            groups[top] = [index]
        else:
            group.append(index)
    return list(groups.values())


def _root(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]  # (path halving: later finds take fewer steps)
        i = parent[i]
    return i
