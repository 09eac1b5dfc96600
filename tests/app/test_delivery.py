"""The carrier's delivery record through the live API (运单状态 CEB513 → CEB514, CEB spec 202205
§3.7-3.8): after release, by the waybill's carrier, once; it dates the declaration's delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from service_support import PartyFactory
from submission_helpers import coded, register, sample, send, send_set
from test_engine_support import instant_engine

from app.db.engine import Database
from app.db.models import Declaration, Role
from declarations import Direction, Regime
from declarations.sample_followups import import_delivery


async def test_a_released_set_is_delivered_once_by_its_carrier(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=95)
    parties = register(make_party, s)
    # the carrier sends its own delivery records: danchuang does not play it
    real = {"CEB513": "real"}
    await client.put(
        "/api/v1/enterprises/me/real-senders", json=real, headers=parties.carrier.headers
    )
    ident = (await send_set(client, parties, s))[-1]["declaration"]["id"]

    early = await send(client, parties.carrier, import_delivery(s.deal))
    assert coded(early)[-1] == ("CEB514", 100)  # not released yet

    instant_engine(database).run_until_idle()  # released and closed
    rogue = make_party("3301968888", Role.LOGISTICS)
    forged = import_delivery(s.deal, minutes=601)
    for node in forged.iter():
        if node.text == s.deal.carrier.code:
            node.text = "3301968888"
    # a carrier names itself: it has no such waybill
    assert coded(await send(client, rogue, forged))[-1] == ("CEB514", -505014)
    # it names the waybill's carrier: not its message to send
    borrowed = import_delivery(s.deal, minutes=604)
    next(borrowed.iter("{*}copCode")).text = "3301968888"
    refused = await send(client, rogue, borrowed)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "access.not_a_party")

    wrong = await send(client, parties.carrier, import_delivery(s.deal, status="X"))
    assert coded(wrong)[-1] == ("CEB514", -505011)
    delivered = await send(client, parties.carrier, import_delivery(s.deal, minutes=602))
    assert coded(delivered) == [("CEB514", 2), ("CEB514", 3), ("CEB514", 399)]
    with database.read() as session:
        row = session.get(Declaration, ident)
        assert row is not None and row.delivered_at is not None
        expected = datetime.strptime(s.deal.stamp(602), "%Y%m%d%H%M%S") - timedelta(hours=8)
        assert row.delivered_at.astimezone(UTC).replace(tzinfo=None) == expected  # from Beijing
    shown = await client.get(f"/api/v1/declarations/{ident}", headers=parties.carrier.headers)
    assert shown.json()["declaration"]["delivered_at"].startswith(f"{expected:%Y-%m-%dT%H:%M}")
    again = await send(client, parties.carrier, import_delivery(s.deal, minutes=603))
    assert coded(again)[-1] == ("CEB514", -505012)


async def test_a_delivery_of_no_declared_waybill_is_refused(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=96)
    carrier = make_party(s.deal.carrier.code, Role.LOGISTICS)
    answer = await send(client, carrier, import_delivery(s.deal))
    assert coded(answer)[-1] == ("CEB514", -505014)
