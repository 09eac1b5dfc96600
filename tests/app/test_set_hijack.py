"""A stranger must not get into someone else's set through its waybill (docs/api.md, "Who may
send, modify and withdraw"; app/services/sets.py).

A waybill joins the set whose current 清单 names its logisticsCode + logisticsNo (CEB spec
202205 §2.11.4 p. 29, §3.9.4 p. 83), never a set found by the import waybill's orderNo alone;
when several sets' 清单 name it, it joins none. The reproductions, through HTTP on SQLite and
PostgreSQL:

- F1: a rogue order and a rogue import waybill under the victim's orderNo, then the victim's
  set: the rogue's waybill must not be adopted by the victim's set.
- F2: a rogue order under the victim's orderNo: the victim's import waybill must join the
  victim's set, whether the rogue's order came first or after the victim's 清单.
- F3: a rogue export 清单 naming the victim's waybill must not capture it.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import httpx
from lxml import etree
from service_support import Party, PartyFactory
from submission_helpers import Parties, document, new_guid, register, sample, send, set_field

from app.db.models import Role
from declarations.messages import Direction, Kind, Regime
from declarations.samples import SampleSet

ROGUE = "ROGUE00001"
VICTIM_KINDS = {"O": Kind.ORDER, "P": Kind.PAYMENT, "W": Kind.WAYBILL, "I": Kind.INVENTORY}
_guids = itertools.count(1)


def _copy(root: etree._Element, **fields: str) -> etree._Element:
    """A copy of ``root`` with ``fields`` set, under a new guid."""
    forged = copy.deepcopy(root)
    new_guid(forged, f"0BAD0000-0000-4000-8000-{next(_guids):012d}")
    for name, value in fields.items():
        set_field(forged, name, value)
    return forged


def rogue_order(victim: SampleSet) -> etree._Element:
    """An order of the rogue's own platform under the victim's orderNo."""
    order = document(victim, Kind.ORDER)
    return _copy(order, ebpCode=ROGUE, ebcCode=ROGUE, copCode=ROGUE)


def rogue_waybill(victim: SampleSet) -> etree._Element:
    """The rogue's own import waybill naming the victim's orderNo."""
    waybill = document(victim, Kind.WAYBILL)
    return _copy(waybill, logisticsCode=ROGUE, copCode=ROGUE, logisticsNo="RG0000000001")


def rogue_inventory(victim: SampleSet) -> etree._Element:
    """The rogue's export 清单 for its own order, naming the victim's waybill."""
    inventory = document(victim, Kind.INVENTORY)
    return _copy(
        inventory, ebpCode=ROGUE, agentCode=ROGUE, copCode=ROGUE, orderNo="E20260000000000001"
    )


class Play:
    """The victim's parties and the rogue sending, step by step, by letter: O P W I the
    victim's order, payment, waybill and 清单; R X Q the rogue's order, waybill and 清单."""

    def __init__(self, client: httpx.AsyncClient, victim: SampleSet, make_party: PartyFactory):
        self.client = client
        self.victim = victim
        self.parties: Parties = register(make_party, victim)
        roles = (Role.EBP, Role.EBC, Role.PAY, Role.LOGISTICS, Role.AGENT)
        self.rogue: Party = make_party(ROGUE, *roles)
        self.victim_documents: dict[str, int] = {}

    def _step(self, letter: str) -> tuple[Party, etree._Element]:
        if letter in VICTIM_KINDS:
            wanted = VICTIM_KINDS[letter]
            return self.parties.sender(wanted), document(self.victim, wanted)
        forged = {"R": rogue_order, "X": rogue_waybill, "Q": rogue_inventory}[letter]
        return self.rogue, forged(self.victim)

    async def run(self, steps: str) -> dict[str, Any]:
        """Send ``steps`` in order; returns the answer to each, by letter."""
        answers: dict[str, Any] = {}
        for letter in steps:
            party, root = self._step(letter)
            response = await send(self.client, party, root)
            assert response.status_code == 201, (letter, response.text)
            answers[letter] = response.json()
            if party is not self.rogue:
                self.victim_documents[letter] = answers[letter]["document"]["id"]
        return answers

    async def victim_set(self) -> dict[str, Any]:
        """The victim's declaration, as its declarant reads it."""
        agent = self.parties.agent
        listed = await self.client.get("/api/v1/declarations", headers=agent.headers)
        (mine,) = [d for d in listed.json()["declarations"] if d["ebp_code"] != ROGUE]
        response = await self.client.get(
            f"/api/v1/declarations/{mine['id']}", headers=agent.headers
        )
        assert response.status_code == 200
        found: dict[str, Any] = response.json()["declaration"]
        return found

    async def assert_rogue_kept_out(self) -> None:
        """The rogue cannot read the victim's set, and nothing of the victim's reaches it."""
        victim = await self.victim_set()
        rogue = self.rogue.headers
        own = await self.client.get(f"/api/v1/declarations/{victim['id']}", headers=rogue)
        assert own.status_code == 404
        outcome = await self.client.post(
            f"/api/v1/declarations/{victim['id']}/outcome",
            json={"outcome": "REJECT"},
            headers=rogue,
        )
        assert outcome.status_code == 404
        theirs = set(self.victim_documents.values())
        feed = (await self.client.get("/api/v1/receipts", headers=rogue)).json()["receipts"]
        assert feed, "the rogue's own documents have receipts"
        assert not [r for r in feed if r["document_id"] in theirs]
        assert not [r for r in feed if r["declaration_id"] == victim["id"]]
        listed = await self.client.get("/api/v1/declarations", headers=rogue)
        for declaration in listed.json()["declarations"]:
            assert declaration["id"] != victim["id"]
            detail = await self.client.get(
                f"/api/v1/declarations/{declaration['id']}", headers=rogue
            )
            history = detail.json()["history"]
            assert not [e for e in history if e["event"] == "document" and e["id"] in theirs]


async def test_f1_a_rogue_waybill_is_not_adopted_by_the_victims_set(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    play = Play(client, sample(Regime.DIRECT, Direction.IMPORT), make_party)
    answers = await play.run("OPRXWI")
    assert answers["X"]["declaration"] is None  # no 清单 names the rogue's waybill
    await play.assert_rogue_kept_out()
    victim = await play.victim_set()
    assert victim["state"] == "clearance_ready"


async def test_f2_the_victims_waybill_does_not_join_a_rogue_order_sent_first(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    play = Play(client, sample(Regime.DIRECT, Direction.IMPORT), make_party)
    answers = await play.run("RWOPI")
    assert answers["W"]["declaration"] is None  # waits for the 清单 naming it
    victim = answers["I"]["declaration"]
    assert victim["state"] == "clearance_ready"
    await play.assert_rogue_kept_out()
    # Adopted, the waybill's receipts are the set's: its carrier's feed shows the set's.
    carrier = play.parties.carrier.headers
    feed = (await client.get("/api/v1/receipts", headers=carrier)).json()["receipts"]
    mine = {r["document_id"] for r in feed if r["declaration_id"] == victim["id"]}
    assert {play.victim_documents["W"], play.victim_documents["I"]} <= mine


async def test_f2_the_victims_waybill_joins_its_set_after_a_rogue_order(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    play = Play(client, sample(Regime.DIRECT, Direction.IMPORT), make_party)
    answers = await play.run("OPIRW")
    victim = await play.victim_set()
    assert answers["W"]["declaration"]["id"] == victim["id"]
    assert victim["state"] == "clearance_ready"
    await play.assert_rogue_kept_out()


async def test_f3_a_rogue_export_inventory_does_not_capture_the_victims_waybill(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    """Two sets' 清单 name the waybill: it joins neither and waits (no document tells whose
    it is); the rogue's set never receives it."""
    play = Play(client, sample(Regime.DIRECT, Direction.EXPORT), make_party)
    answers = await play.run("QOPIW")
    assert answers["W"]["declaration"] is None
    await play.assert_rogue_kept_out()
    assert (await play.victim_set())["state"] == "incomplete"

    # Once the victim's 清单 alone names it, the carrier sends the waybill again to join.
    withdrawal = _copy(rogue_inventory(play.victim), appType="3")
    assert (await send(client, play.rogue, withdrawal)).status_code == 201
    change = _copy(document(play.victim, Kind.WAYBILL), appType="2")
    resent = await send(client, play.parties.carrier, change)
    assert resent.status_code == 201, resent.text
    assert resent.json()["declaration"]["state"] == "clearance_ready"
    play.victim_documents["W2"] = resent.json()["document"]["id"]
    await play.assert_rogue_kept_out()


async def test_f3_a_rogue_export_inventory_sent_later_changes_nothing(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    play = Play(client, sample(Regime.DIRECT, Direction.EXPORT), make_party)
    await play.run("OPWIQ")
    await play.assert_rogue_kept_out()
    assert (await play.victim_set())["state"] == "clearance_ready"
