"""The real server, killed with SIGKILL while declarations are in flight, then restarted.

`danchuang serve` runs as a subprocess on a loopback port (clock 150x: a declaration takes a few
wall seconds), with a real webhook receiver beside it. The parties of several sample sets
submit their documents over HTTP; the server is killed mid-clearance and started again; every
accepted declaration must then reach a final state, each receipt stored once, and each pushed
to the webhook — at least once, and exactly once after deduplication by Idempotency-Key.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from crash_support import (
    ENGINE_RECEIPTS,
    FORCED_TAILS,
    SENDER_ROLE,
    assert_decided_once,
    assert_delivered_once,
    assert_recovered,
    count,
    receipt_paths,
)
from http_story import wait_for
from live_server import Server
from live_server import register_over_http as _register
from service_support import Receiver
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
            key = _register(client, codes[kind], SENDER_ROLE[kind])
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
    engine_codes = Receipt.message_code.in_(ENGINE_RECEIPTS) & (Receipt.return_status > 3)
    final = Declaration.id.in_(ids) & Declaration.state.in_(states.FINAL_STATES)

    # Kill while the engine has started on them and not all are done.
    clearing = Declaration.state == states.CLEARING
    wait_for(
        lambda: count(database, engine_codes) >= 3 and count(database, clearing) >= 1,
        "the engine's first receipts",
        30,
    )
    server.kill()
    at_kill = count(database, final)
    in_flight = count(database, clearing)
    print(f"killed at {time.monotonic() - t0:.1f}s: {at_kill} of {len(ids)} finished")
    assert at_kill < len(ids), "all finished before the kill: slow the clock down"
    assert in_flight, "nothing was in flight at the kill"

    server.start()
    wait_for(lambda: count(database, final) == len(ids), f"all {len(ids)} to finish", 90)
    wait_for(lambda: count(database, Delivery.delivered_at.is_(None)) == 0, "deliveries", 60)
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
    paths = receipt_paths(database, ids)
    queued = assert_delivered_once(database, receiver)
    database.dispose()
    assert_recovered(tmp_path / "server-2.log", in_flight, server.logs())

    # No receipt recorded twice: each status once per declaration, on the forced branch.
    statuses = {ident: [status for _id, status in path] for ident, path in paths.items()}
    for declaration_id, path in statuses.items():
        assert_decided_once(path, declaration_id)
    for ident, (_regime, _direction, note) in zip(ids, SETS, strict=True):
        if note in FORCED_TAILS:
            assert statuses[ident][-len(FORCED_TAILS[note]) :] == FORCED_TAILS[note], note
    assert 300 in statuses[ids[1]] and statuses[ids[1]][-1] == 899  # REVIEW
    # the engine's receipts reached the declarants
    assert {ident for path in paths.values() for ident, _status in path} <= queued
