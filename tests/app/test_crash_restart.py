"""The real server, killed with SIGKILL while declarations are in flight, then restarted.

`danchuang serve` runs as a subprocess on a loopback port (clock 150x: a declaration takes a few
wall seconds), with a real webhook receiver beside it. The parties of several sample sets
submit their documents over HTTP; the server is killed mid-clearance and started again; every
accepted declaration must then reach a final state, each receipt stored once, and each pushed
to the webhook — at least once, and exactly once after deduplication by Idempotency-Key.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_server import Server
from live_server import register_over_http as _register
from service_support import Receiver, recording_receiver
from sqlalchemy import func, select
from test_engine_support import sample_set

from app import states
from app.db.engine import Database
from app.db.models import Declaration, Delivery, Receipt
from declarations.messages import BY_ROOT, Kind
from declarations.samples import to_bytes

# (regime, direction, note marker) — one set per branch, plus unforced ones.
SETS = [
    ("9610", "import", "DANCHUANG:INSPECT"),
    ("9610", "import", "DANCHUANG:REVIEW"),
    ("1210", "import", "DANCHUANG:DETAIN=501"),
    ("9610", "import", "DANCHUANG:RETURN"),
    ("9710", "export", None),
    ("9810", "export", "DANCHUANG:RELEASE"),
    ("1210", "import", None),
    ("9610", "export", "DANCHUANG:REVIEW+INSPECT"),  # the longest path last: in flight at the kill
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with recording_receiver() as found:
        yield found


_SENDER_ROLE = {Kind.ORDER: "ebc", Kind.PAYMENT: "pay", Kind.WAYBILL: "logistics",
                Kind.INVENTORY: "agent"}  # fmt: skip


def _submit_sets(client: httpx.Client, receiver: Receiver) -> list[int]:
    """Every set's documents, each by its own party; a webhook per declarant. Returns the
    declaration ids the server accepted for clearance."""
    hooked: set[str] = set()
    declarations: list[int] = []
    for regime, direction, note in SETS:
        sample = sample_set(regime, direction, note=note, seed=4242)
        deal = sample.deal
        codes = {
            Kind.ORDER: deal.seller.code,
            Kind.PAYMENT: deal.payer_company.code,
            Kind.WAYBILL: deal.carrier.code,
            Kind.INVENTORY: deal.agent.code,
        }
        answer: dict[str, object] = {}
        for root in sample.documents.values():
            kind = BY_ROOT[root.tag.split("}")[1]].kind
            key = _register(client, codes[kind], _SENDER_ROLE[kind])
            if kind is Kind.INVENTORY and codes[kind] not in hooked:
                hook = client.post(
                    "/api/v1/webhooks",
                    json={"url": f"{receiver.url}/{codes[kind]}"},
                    headers={"Authorization": f"Bearer {key}"},
                )
                assert hook.status_code == 201, hook.text
                hooked.add(codes[kind])
            sent = client.post(
                "/api/v1/documents",
                content=to_bytes(root),
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/xml"},
            )
            assert sent.status_code == 201, sent.text
            answer = sent.json()
        declaration = answer["declaration"]
        assert isinstance(declaration, dict), answer
        declarations.append(int(declaration["id"]))
    return declarations


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _count(database: Database, *where: object) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).where(*where)) or 0)  # type: ignore[arg-type]


def _crash_and_recover(
    server: Server, database: Database, receiver: Receiver
) -> tuple[list[int], int]:
    """Submit, kill mid-clearance, restart, wait until all is done; (declaration ids, how many
    were in flight at the kill)."""
    t0 = time.monotonic()
    server.start()
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        ids = _submit_sets(client, receiver)
    print(f"submitted at {time.monotonic() - t0:.1f}s")
    engine_codes = Receipt.message_code.in_(["CEB622", "CEB604"]) & (Receipt.return_status > 3)
    final = Declaration.id.in_(ids) & Declaration.state.in_(states.FINAL_STATES)

    # Kill while the engine has started on them and not all are done.
    clearing = Declaration.state == states.CLEARING
    _wait(
        lambda: _count(database, engine_codes) >= 3 and _count(database, clearing) >= 1,
        30,
        "the engine's first receipts",
    )
    server.kill()
    at_kill = _count(database, final)
    in_flight = _count(database, clearing)
    print(f"killed at {time.monotonic() - t0:.1f}s: {at_kill} of {len(ids)} finished")
    assert at_kill < len(ids), "all finished before the kill: slow the clock down"
    assert in_flight, "nothing was in flight at the kill"

    server.start()
    _wait(lambda: _count(database, final) == len(ids), 90, f"all {len(ids)} to finish")
    _wait(lambda: _count(database, Delivery.delivered_at.is_(None)) == 0, 60, "deliveries")
    print(f"all finished and delivered at {time.monotonic() - t0:.1f}s")
    return ids, in_flight


@pytest.mark.slow
def test_sigkill_mid_clearance_loses_and_repeats_nothing(
    db_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    server = Server(db_url, tmp_path)
    database = Database.from_url(db_url)
    try:
        ids, in_flight = _crash_and_recover(server, database, receiver)
    finally:
        server.stop()
    with database.read() as session:
        rows = list(
            session.execute(
                select(Receipt.id, Receipt.declaration_id, Receipt.return_status)
                .where(Receipt.declaration_id.in_(ids))
                .where(Receipt.message_code.in_(["CEB622", "CEB604"]))
                .order_by(Receipt.declaration_id, Receipt.seq)
            )
        )
        queued = set(session.scalars(select(Delivery.receipt_id)))
    database.dispose()

    # The restarted engine took the killed one's unfinished declarations back. On a loaded
    # machine it may stall past its short lease, lose it and take it again: each later
    # "leading" must follow a "lease_lost" (the receipts below show nothing was repeated).
    events = [
        json.loads(line)
        for line in (tmp_path / "server-2.log").read_text().splitlines()
        if '"engine.leading"' in line or '"engine.lease_lost"' in line
    ]
    leading = [i for i, event in enumerate(events) if event["event"] == "engine.leading"]
    assert leading and events[leading[0]].get("recovered", 0) == in_flight, server.logs()
    for before, after in itertools.pairwise(leading):
        lost = [e for e in events[before + 1 : after] if e["event"] == "engine.lease_lost"]
        assert lost, server.logs()

    # No receipt recorded twice: each status once per declaration, on the forced branch.
    paths: dict[int, list[int]] = {ident: [] for ident in ids}
    for _id, declaration_id, status in rows:
        paths[declaration_id].append(status)
    for declaration_id, path in paths.items():
        assert len(path) == len(set(path)), (declaration_id, path)
        assert path[-1] in {899, 501, 502, 503, 599, 700} or path[-1] < 0 or path == [100]
    assert paths[ids[0]][-3:] == [500, 800, 899]  # INSPECT
    assert 300 in paths[ids[1]] and paths[ids[1]][-1] == 899  # REVIEW
    assert paths[ids[2]][-2:] == [500, 501]  # DETAIN=501
    assert paths[ids[3]][-2:] == [500, 700]  # RETURN
    assert paths[ids[5]][-3:] == [399, 800, 899]  # RELEASE
    assert paths[ids[7]][-5:] == [300, 399, 500, 800, 899]  # REVIEW+INSPECT

    # Every receipt queued for a webhook arrived; none twice once deduplicated.
    unique = Counter((path, key) for path, key, _body in receiver.received)
    assert {int(key) for _path, key in unique} == queued
    assert len(unique) == len(queued)
    assert {r[0] for r in rows} <= queued  # the engine's receipts reached the declarants
