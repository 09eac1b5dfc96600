"""What the crash tests (a real server killed with SIGKILL, then restarted) share: waiting on
the database, the receipt paths the engine recorded, and the checks that nothing was lost or
repeated."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from service_support import Receiver
from sqlalchemy import func, select

from app.db.engine import Database
from app.db.models import Delivery, Receipt
from declarations.messages import Kind

# The role each party registers with to send its message of a set.
SENDER_ROLE = {Kind.ORDER: "ebc", Kind.PAYMENT: "pay", Kind.WAYBILL: "logistics",
               Kind.INVENTORY: "agent"}  # fmt: skip
# The engine's receipts: the 清单's (CEB622) and the export 清单's (CEB604).
ENGINE_RECEIPTS = ("CEB622", "CEB604")
# The decisions a declaration may end on (a negative status is a business refusal).
FINAL_STATUSES = frozenset({899, 501, 502, 503, 599, 700})
# note marker (docs/live-clearance.md "Forcing outcomes") -> the last statuses of its path.
FORCED_TAILS = {
    "DANCHUANG:INSPECT": [500, 800, 899],
    "DANCHUANG:DETAIN=501": [500, 501],
    "DANCHUANG:RETURN": [500, 700],
    "DANCHUANG:RELEASE": [399, 800, 899],
    "DANCHUANG:REVIEW+INSPECT": [300, 399, 500, 800, 899],
}


def count(database: Database, *where: object) -> int:
    """Rows matching ``where`` (conditions on one table)."""
    with database.read() as session:
        return int(session.scalar(select(func.count()).where(*where)) or 0)  # type: ignore[arg-type]


def receipt_paths(database: Database, ids: Iterable[int]) -> dict[int, list[tuple[int, int]]]:
    """Each declaration's engine receipts, in their order, as (receipt id, returnStatus)."""
    paths: dict[int, list[tuple[int, int]]] = {ident: [] for ident in ids}
    with database.read() as session:
        rows = session.execute(
            select(Receipt.id, Receipt.declaration_id, Receipt.return_status)
            .where(Receipt.declaration_id.in_(list(paths)))
            .where(Receipt.message_code.in_(ENGINE_RECEIPTS))
            .order_by(Receipt.declaration_id, Receipt.seq)
        )
        for ident, declaration_id, status in rows:
            assert declaration_id is not None
            paths[declaration_id].append((ident, status))
    return paths


def assert_decided_once(statuses: Sequence[int], where: object) -> None:
    """No status recorded twice on a declaration, and it ends on one decision."""
    assert len(statuses) == len(set(statuses)), (where, statuses)
    end = statuses[-1] if statuses else None
    assert end in FINAL_STATUSES or (end is not None and end < 0) or list(statuses) == [100], (
        where,
        statuses,
    )
    assert len([s for s in statuses if s in FINAL_STATUSES]) <= 1, (where, statuses)


def assert_recovered(log: Path, in_flight: int, logs: str) -> None:
    """The restarted engine took the killed one's ``in_flight`` declarations back. On a loaded
    machine it may stall past its short lease, lose it and take it again: each later
    "leading" must follow a "lease_lost" (the receipts show nothing was repeated)."""
    events = [
        json.loads(line)
        for line in log.read_text().splitlines()
        if '"engine.leading"' in line or '"engine.lease_lost"' in line
    ]
    leading = [i for i, event in enumerate(events) if event["event"] == "engine.leading"]
    assert leading and events[leading[0]].get("recovered", 0) == in_flight, logs
    for before, after in itertools.pairwise(leading):
        lost = [e for e in events[before + 1 : after] if e["event"] == "engine.lease_lost"]
        assert lost, logs


def assert_delivered_once(database: Database, receiver: Receiver) -> set[int]:
    """Every receipt queued for a webhook arrived, none twice once deduplicated by
    Idempotency-Key; the receipt ids queued."""
    with database.read() as session:
        queued = set(session.scalars(select(Delivery.receipt_id)))
    unique = Counter((path, key) for path, key, _body in receiver.received)
    assert {int(key) for _path, key in unique} == queued
    assert len(unique) == len(queued)
    return queued
