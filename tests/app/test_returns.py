"""Returns through the live API (退货申请单 CEB625 → CEB626, CEB spec 202205 §3.13-3.14): after
release and within 30 days of it (公告2020年第45号), line by line up to what was released, by
the 清单's declarant; the returned value comes back to the buyer's annual quota."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
from service_support import PartyFactory
from sqlalchemy import update
from submission_helpers import Parties, coded, register, sample, send, send_set
from test_engine_support import instant_engine

from app.db.engine import Database
from app.db.models import Receipt, utcnow
from app.quota import used_fen
from declarations import Direction, Regime
from declarations.sample_followups import import_return
from declarations.samples import SampleSet


async def _released(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database, seed: int
) -> tuple[SampleSet, Parties, int, str]:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=seed)
    parties = register(make_party, s)
    inventory = (await send_set(client, parties, s))[-1]
    instant_engine(database).run_until_idle()  # released and closed
    return s, parties, inventory["declaration"]["id"], inventory["document"]["invt_no"]


def _used(database: Database, s: SampleSet) -> int:
    with database.read() as session:
        return used_fen(session, s.deal.buyer.id_number, s.deal.when.year)


async def test_a_return_gives_the_value_back_and_not_more_than_was_released(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s, parties, _, invt = await _released(client, make_party, database, seed=97)
    line = s.deal.lines[0]
    before = _used(database, s)
    one = Decimal(1)
    answer = await send(client, parties.agent, import_return(s.deal, invt, {line.gnum: one}))
    assert answer.status_code == 201, answer.text
    assert coded(answer) == [("CEB626", 2), ("CEB626", 3), ("CEB626", 120), ("CEB626", 399)]
    assert before - _used(database, s) == int(line.price * 100)  # one item's price, in fen
    too_many = await send(
        client, parties.agent, import_return(s.deal, invt, {line.gnum: line.qty})
    )  # the rest is qty - 1
    assert coded(too_many)[-1] == ("CEB626", 100)
    other_goods = import_return(s.deal, invt, {line.gnum: one}, reason="other goods")
    next(other_goods.iter("{*}gcode")).text = "9999999999"  # not the goods the 清单 released
    refused = await send(client, parties.agent, other_goods)
    assert coded(refused)[-1] == ("CEB626", -625209)
    rest = import_return(s.deal, invt, {line.gnum: line.qty - one})
    assert coded(await send(client, parties.agent, rest))[-1] == ("CEB626", 399)
    assert _used(database, s) == before - int(line.price * line.qty * 100)


async def test_no_return_before_release_or_after_thirty_days_or_of_another_list(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=98)
    parties = register(make_party, s)
    inventory = (await send_set(client, parties, s))[-1]
    invt, ident = inventory["document"]["invt_no"], inventory["declaration"]["id"]
    line = {s.deal.lines[0].gnum: Decimal(1)}
    early = await send(client, parties.agent, import_return(s.deal, invt, line, reason="early"))
    assert coded(early)[-1] == ("CEB626", 100)  # not released
    instant_engine(database).run_until_idle()
    with database.write() as session:  # the release was 31 days ago
        session.execute(
            update(Receipt)
            .where(Receipt.declaration_id == ident, Receipt.return_status == 800)
            .values(created_at=utcnow() - timedelta(days=31))
        )
    late = await send(client, parties.agent, import_return(s.deal, invt, line, reason="late"))
    assert coded(late)[-1] == ("CEB626", 100)
    assert "30" in late.json()["receipts"][-1]["return_info"]
    other = await send(client, parties.agent, import_return(s.deal, "29912026I999999999", line))
    assert coded(other)[-1] == ("CEB626", -625204)
