"""Cancelling a 清单 through the live API (撤销申请单 CEB623 → CEB624, CEB spec 202205 §3.11-3.12):
in the states docs/live-clearance.md allows and refused in the others, by its declarant only;
the declaration ends, the quota comes back, and the engine records nothing more of it."""

from __future__ import annotations

import httpx
import pytest
from service_support import PartyFactory
from submission_helpers import Parties, coded, register, sample, send, send_set
from test_engine_support import instant_engine, state_of, statuses

from app import states
from app.db.engine import Database
from app.db.models import Role
from app.engine import lease, store
from app.quota import used_fen
from declarations import Direction, Regime
from declarations.sample_followups import import_cancellation
from declarations.samples import SampleSet, to_bytes


async def _declared(
    client: httpx.AsyncClient, make_party: PartyFactory, seed: int
) -> tuple[SampleSet, Parties, int, str]:
    """A 9610 import set sent by its parties: the declaration's id and its 清单's invtNo."""
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=seed)
    parties = register(make_party, s)
    answers = await send_set(client, parties, s)
    inventory = answers[-1]
    return s, parties, inventory["declaration"]["id"], inventory["document"]["invt_no"]


def _accepted(database: Database, declaration_id: int, *path: int) -> None:
    """An engine takes the declaration and records ``path`` (e.g. 120, 399), then stops, as
    if it had died: its lease is released for the next one."""
    engine = instant_engine(database)
    assert engine._become_leader()
    with database.write() as session:
        taken = store.take_ready(session, 10, engine.sim_datetime())
        assert [p.declaration_id for p in taken] == [declaration_id]
        store.record(
            session,
            [store.Transition(declaration_id, "import", s, engine.sim_datetime()) for s in path],
        )
    lease.release(database, engine.owner)


def _buyer_used(database: Database, s: SampleSet) -> int:
    with database.read() as session:
        return used_fen(session, s.deal.buyer.id_number, s.deal.when.year)


async def test_an_accepted_list_is_cancelled_and_goes_no_further(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s, parties, ident, invt = await _declared(client, make_party, seed=91)
    assert _buyer_used(database, s) > 0
    _accepted(database, ident, 120, 399)
    answer = await send(client, parties.agent, import_cancellation(s.deal, invt))
    assert answer.status_code == 201, answer.text
    assert coded(answer) == [("CEB624", 2), ("CEB624", 3), ("CEB624", 120), ("CEB624", 399)]
    assert answer.json()["declaration"]["state"] == states.CANCELLED
    assert state_of(database, ident)[0] == states.CANCELLED
    assert _buyer_used(database, s) == 0  # the quota came back
    instant_engine(database).run_until_idle()  # the next engine finishes nothing of it
    assert statuses(database, ident)[-2:] == [120, 399]
    assert state_of(database, ident)[0] == states.CANCELLED
    # the CEB624 itself, as XML
    receipts = await client.get(
        f"/api/v1/documents/{answer.json()['document']['id']}/receipts",
        params={"format": "xml"},
        headers=parties.agent.headers,
    )
    assert b"<InvtCancelReturn>" in receipts.content and invt.encode() in receipts.content
    # cancelled already
    again = import_cancellation(s.deal, invt, reason="again")
    again.set("guid", "0" * 8 + again.get("guid", "")[8:])
    again[0][0].text = again.get("guid")
    refused = await send(client, parties.agent, to_bytes(again))
    assert coded(refused)[-1] == ("CEB624", -623009)


async def test_a_list_not_yet_accepted_or_closed_is_not_cancelled(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s, parties, ident, invt = await _declared(client, make_party, seed=92)
    early = await send(client, parties.agent, import_cancellation(s.deal, invt))
    assert coded(early)[-1] == ("CEB624", -623005)  # waits for customs' 120
    assert state_of(database, ident)[0] == states.CLEARANCE_READY

    s2, parties2, ident2, invt2 = await _declared(client, make_party, seed=93)
    instant_engine(database).run_until_idle()
    assert state_of(database, ident2)[0] == states.CLEARED
    late = await send(client, parties2.agent, import_cancellation(s2.deal, invt2))
    assert coded(late)[-1] == ("CEB624", -623005)  # closed (899)


async def test_only_the_lists_declarant_cancels_it_and_only_a_list_that_exists(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s, parties, ident, invt = await _declared(client, make_party, seed=94)
    _accepted(database, ident, 120)
    unknown = await send(client, parties.agent, import_cancellation(s.deal, "29912026I999999999"))
    assert coded(unknown)[-1] == ("CEB624", -623003)
    # another declarant names the 清单: refused at the door, nothing stored
    rogue = make_party("3301969999", Role.AGENT)
    forged = import_cancellation(s.deal, invt)
    for node in forged.iter():
        if node.text == s.deal.agent.code:
            node.text = "3301969999"
    refused = await send(client, rogue, forged)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "access.not_the_sender")
    assert state_of(database, ident)[0] == states.CLEARING


@pytest.mark.parametrize(
    "path",
    [(120,), (120, 300), (120, 399), (120, 399, 500), (120, 399, 800)],
    ids=["120", "300", "399", "500", "800"],
)
async def test_a_list_is_cancelled_in_each_state_customs_allows(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database, path: tuple[int, ...]
) -> None:
    s, parties, ident, invt = await _declared(client, make_party, seed=110 + len(path) + path[-1])
    _accepted(database, ident, *path)
    answer = await send(client, parties.agent, import_cancellation(s.deal, invt))
    assert coded(answer)[-1] == ("CEB624", 399), answer.text
    assert state_of(database, ident)[0] == states.CANCELLED
    if path[-1] == 800:  # released: its tax bill was issued, and the cancellation voids it
        bill = await client.get(f"/api/v1/declarations/{ident}/tax-bill",
                                headers=parties.agent.headers)  # fmt: skip
        assert (bill.json()["status"], bill.json()["state"]) == (3, "void")


@pytest.mark.parametrize("ending", [100, 501, 700], ids=["rejected", "detained", "returned"])
async def test_a_list_customs_ended_is_not_cancelled(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database, ending: int
) -> None:
    path = (ending,) if ending == 100 else (120, 399, 500, ending)
    s, parties, ident, invt = await _declared(client, make_party, seed=120 + ending % 97)
    _accepted(database, ident, *path)
    answer = await send(client, parties.agent, import_cancellation(s.deal, invt))
    assert coded(answer)[-1] == ("CEB624", -623005)
    assert state_of(database, ident)[0] != states.CANCELLED
