"""Reading declarations: the caller's list with filters, and one declaration's full history,
including the receipts the clearance engine records for the 清单."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
from lxml import etree
from service_support import PartyFactory
from submission_helpers import register, sample, send_set

from app.db.engine import Database
from app.main import create_app
from app.receipts import record_receipt
from app.services.expiry import incomplete_window
from app.settings import Settings
from declarations.messages import Direction, Regime


async def test_list_filters_by_state_and_regime_and_pages(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    ids = {}
    for seed, (regime, direction) in enumerate(
        [(Regime.DIRECT, Direction.IMPORT), (Regime.B2B_DIRECT, Direction.EXPORT)], start=71
    ):
        sample_set = sample(regime, direction, seed=seed)
        parties = register(make_party, sample_set)
        answers = await send_set(client, parties, sample_set)
        ids[regime.value] = (answers[-1]["declaration"]["id"], parties.agent)

    declaration_id, agent = ids["9710"]
    mine = (await client.get("/api/v1/declarations", headers=agent.headers)).json()
    assert [d["id"] for d in mine["declarations"]] == [declaration_id]  # only its own
    filtered = await client.get(
        "/api/v1/declarations",
        params={"state": "clearance_ready", "regime": "9710"},
        headers=agent.headers,
    )
    assert [d["id"] for d in filtered.json()["declarations"]] == [declaration_id]
    none = await client.get(
        "/api/v1/declarations", params={"regime": "9610"}, headers=agent.headers
    )
    assert none.json()["declarations"] == []
    after = await client.get(
        "/api/v1/declarations", params={"after": mine["cursor"]}, headers=agent.headers
    )
    assert after.json() == {"declarations": [], "cursor": mine["cursor"]}
    bad = await client.get("/api/v1/declarations", params={"regime": "12"}, headers=agent.headers)
    assert bad.status_code == 422


async def test_history_includes_the_engines_receipts_in_order(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=75)
    parties = register(make_party, sample_set)
    answers = await send_set(client, parties, sample_set)
    declaration_id = answers[-1]["declaration"]["id"]
    inventory_id = answers[-1]["document"]["id"]
    sim = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    with database.write() as session:  # what the clearance engine records for the 清单
        for status in (120, 399, 800):
            record_receipt(
                session,
                message_code="CEB622",
                return_status=status,
                return_info="engine",
                declaration_id=declaration_id,
                sim_time=sim,
            )

    body = (
        await client.get(f"/api/v1/declarations/{declaration_id}", headers=parties.payer.headers)
    ).json()
    events = body["history"]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "document" and kinds[-1] == "receipt"
    walls = [e["at"] for e in events]
    assert walls == sorted(walls)
    engine = [e for e in events if e["event"] == "receipt" and e["document_id"] is None]
    assert [e["return_status"] for e in engine] == [120, 399, 800]
    assert all(e["sim_time"] == sim.isoformat() for e in engine)
    seqs = [e["seq"] for e in events if e["event"] == "receipt" and e["declaration_id"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

    # The 清单's receipt message carries the engine's statuses after its own.
    xml = await client.get(
        f"/api/v1/documents/{inventory_id}/receipts",
        params={"format": "xml"},
        headers=parties.agent.headers,
    )
    root = etree.fromstring(xml.content)
    assert [e.text for e in root.iter("{*}returnStatus")] == ["2", "3", "120", "399", "800"]
    assert root.findtext("{*}InventoryReturn/{*}invtNo") == answers[-1]["document"]["invt_no"]


def test_the_incomplete_window_runs_on_the_virtual_clock() -> None:
    fast = Settings(clock_speed=60, incomplete_set_window_s=3600, _env_file=None)  # type: ignore[call-arg]
    assert incomplete_window(fast).total_seconds() == 60
    instant = Settings(clock_speed="instant", incomplete_set_window_s=3600, _env_file=None)  # type: ignore[call-arg]
    assert incomplete_window(instant).total_seconds() == 3600


async def test_with_the_engine_running_the_list_is_cleared_end_to_end(
    settings: Settings, make_party: PartyFactory
) -> None:
    """The hand-over works with the real clearance engine (instant clock): the submission side
    leaves the set clearance-ready, the engine records 120 … 899 for the 清单."""
    live = settings.model_copy(update={"run_background_in_api": True, "clock_speed": "instant"})
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=77)
    parties = register(make_party, sample_set)
    app = create_app(live)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            *_, inventory = await send_set(c, parties, sample_set)
            path = f"/api/v1/declarations/{inventory['declaration']['id']}"
            for _ in range(300):  # bounded wait for the engine's thread; no timing asserted
                body = (await c.get(path, headers=parties.agent.headers)).json()
                if body["declaration"]["state"] not in ("clearance_ready", "clearing"):
                    break
                await asyncio.sleep(0.05)
    engine = [
        e["return_status"]
        for e in body["history"]
        if e["event"] == "receipt" and e["message_code"] == "CEB622" and e["document_id"] is None
    ]
    assert body["declaration"]["state"] == "cleared"
    assert engine[0] == 120 and engine[-1] == 899
