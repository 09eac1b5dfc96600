"""Building submission tests: sample sets from ``declarations.samples`` and their parties.

Each sample deal names its own companies (platform, seller, payment company, carrier,
declarant); ``register`` gives each the role it plays and an API key, so that every document
is sent by the party that sends it in reality.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from lxml import etree
from service_support import Party, PartyFactory

from app.db.models import Role
from declarations.messages import BY_ROOT, CEB_NS, Direction, Kind, Regime
from declarations.samples import SampleSet, generate_sets, to_bytes

C = "{" + CEB_NS + "}"
XML = {"Content-Type": "application/xml"}

REGIMES = [
    (Regime.DIRECT, Direction.IMPORT),
    (Regime.BONDED, Direction.IMPORT),
    (Regime.DIRECT, Direction.EXPORT),
    (Regime.B2B_DIRECT, Direction.EXPORT),
    (Regime.OVERSEAS_WAREHOUSE, Direction.EXPORT),
]


def sample(regime: Regime, direction: Direction, seed: int = 0) -> SampleSet:
    return generate_sets(regime, direction, seed=seed, count=1)[0]


def kind(root: etree._Element) -> Kind:
    return BY_ROOT[etree.QName(root).localname].kind


def document(sample_set: SampleSet, wanted: Kind) -> etree._Element:
    return next(r for r in sample_set.documents.values() if kind(r) is wanted)


def xml(root: etree._Element) -> bytes:
    return to_bytes(root)


def set_field(root: etree._Element, name: str, value: str) -> None:
    """Set every ``ceb:name`` in the message (head fields appear once per record)."""
    found = root.findall(f".//{C}{name}")
    assert found, f"no {name} in {etree.QName(root).localname}"
    for node in found:
        node.text = value


def new_guid(root: etree._Element, guid: str) -> None:
    root.set("guid", guid)
    for node in root.findall(f".//{C}guid"):
        node.text = guid


@dataclass(frozen=True)
class Parties:
    seller: Party  # sends the order (ebcCode)
    payer: Party  # the payment company (payCode)
    carrier: Party  # logisticsCode
    agent: Party  # the declarant (agentCode), sends the 清单

    def sender(self, what: Kind) -> Party:
        return {
            Kind.ORDER: self.seller,
            Kind.PAYMENT: self.payer,
            Kind.WAYBILL: self.carrier,
            Kind.INVENTORY: self.agent,
        }[what]


def register(make_party: PartyFactory, sample_set: SampleSet) -> Parties:
    deal = sample_set.deal
    return Parties(
        seller=make_party(deal.seller.code, Role.EBC),
        payer=make_party(deal.payer_company.code, Role.PAY),
        carrier=make_party(deal.carrier.code, Role.LOGISTICS),
        agent=make_party(deal.agent.code, Role.AGENT),
    )


async def send(
    client: httpx.AsyncClient, party: Party, root: etree._Element | bytes, **params: str
) -> httpx.Response:
    body = root if isinstance(root, bytes) else xml(root)
    return await client.post(
        "/api/v1/documents", content=body, headers={**party.headers, **XML}, params=params
    )


async def send_set(
    client: httpx.AsyncClient, parties: Parties, sample_set: SampleSet
) -> list[dict[str, Any]]:
    """Every document of the set by its own party, in the set's order (清单 last)."""
    answers = []
    for root in sample_set.documents.values():
        response = await send(client, parties.sender(kind(root)), root)
        assert response.status_code == 201, response.text
        answers.append(response.json())
    return answers


def statuses(answer: dict[str, Any]) -> list[int]:
    return [r["return_status"] for r in answer["receipts"]]


def coded(answer: httpx.Response) -> list[tuple[str, int]]:
    """The receipts of a submission's answer as (receipt message, returnStatus)."""
    return [(r["message_code"], r["return_status"]) for r in answer.json()["receipts"]]


async def real_senders(client: httpx.AsyncClient, party: Party, **choices: str) -> dict[str, str]:
    """Say who sends the messages danchuang may play for ``party``'s declarations ("real" or
    "danchuang", by message code: docs/live-clearance.md); the setting as it stands."""
    answer = await client.put(
        "/api/v1/enterprises/me/real-senders", json=choices, headers=party.headers
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())
