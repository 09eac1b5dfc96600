"""Who may send (appType 1), change (2) and withdraw (3) each document of a set (docs/api.md,
"Who may send, modify and withdraw"; app/services/authority.py).

The matrix: every document kind of both directions × every party role × appType 1/2/3 ×
named in the set or a stranger, on SQLite and PostgreSQL; then the issue's reproductions
through HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from authority_support import (
    LEGIT,
    OWN_FIELD,
    ROLES,
    Deal,
    attempt,
    enterprise,
    new_deal,
    outcome_of,
    send_kinds,
)
from lxml import etree
from postgres_support import throwaway_schema
from service_support import Party, PartyFactory
from sqlalchemy import select
from submission_helpers import (
    document,
    kind,
    new_guid,
    register,
    sample,
    send,
    send_set,
    set_field,
    xml,
)

from app.accounts import Principal
from app.db import migrate
from app.db.engine import Database
from app.db.models import DocumentRow, Role
from declarations import PARTY_FIELDS
from declarations.messages import Direction, Kind, Regime

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
KINDS = (Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY)
STRANGER_CODES = {role: f"99999{n:05d}" for n, role in enumerate(ROLES)}


@pytest.fixture(scope="module", params=BACKENDS)
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """One migrated database per backend for the whole matrix: every cell builds its own set
    (own order number, own parties), so cells never see each other's documents."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('authority') / 'danchuang.db'}"
        yield from _migrated(url)
        return
    with throwaway_schema() as url:
        yield from _migrated(url)


def _migrated(url: str) -> Iterator[Database]:
    database = Database.from_url(url)
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


def expected(direction: Direction, wanted: Kind, app_type: str, role: Role, named: bool) -> str:
    """The rules of docs/api.md, cell by cell. ``app_type`` "1" sends a kind the set lacks;
    "1+" sends it again over the held one; "2"/"3" change / withdraw the held one."""
    own_role = PARTY_FIELDS[OWN_FIELD[wanted]]
    platform_order = named and wanted is Kind.ORDER and role is Role.EBP  # named as ebpCode
    if role != own_role and not platform_order:
        return "access.role_missing"  # check_sender: named in a field of another role
    waybill = wanted is Kind.WAYBILL  # joins only the 清单 naming its logisticsCode + No
    if app_type == "1":  # the set lacks this kind
        if named:
            return "joined"
        if wanted is Kind.INVENTORY or (wanted is Kind.PAYMENT and direction is Direction.EXPORT):
            return "joined"  # nobody in the set names this role yet: the first sender does
        if waybill:
            return "orphan"  # another logisticsCode: a waybill of no 清单 of this set
        return "access.not_in_set"
    if named and role is LEGIT[wanted]:  # the sender of the held document
        waits = waybill  # the held set has no 清单 for its waybill to join
        return {"1+": "lifecycle", "2": "orphan" if waits else "joined", "3": "withdrawn"}[app_type]
    if wanted is Kind.WAYBILL and not named:  # its own logisticsCode: another business key
        if app_type != "1+":
            return "lifecycle"  # nothing of its own to change or delete
        return "orphan"
    return "access.not_the_sender"


def _sender(deal: Deal, database: Database, role: Role, named: bool) -> Principal:
    return deal.parties[role] if named else enterprise(database, STRANGER_CODES[role], role)


def _prepared(database: Database, direction: Direction, wanted: Kind, app_type: str) -> Deal:
    deal = new_deal(database, direction)
    every = set(deal.kinds())
    if app_type == "1":
        send_kinds(database, deal, every - {wanted})
    elif wanted is Kind.INVENTORY:
        send_kinds(database, deal, every)
    else:  # before the 清单: orders, payments and waybills change until it is declared
        send_kinds(database, deal, every - {Kind.INVENTORY})
    return deal


@pytest.mark.parametrize("app_type", ["1", "1+", "2", "3"])
@pytest.mark.parametrize("wanted", KINDS, ids=lambda k: k.value)
@pytest.mark.parametrize("direction", [Direction.IMPORT, Direction.EXPORT], ids=str)
def test_who_may_send_change_and_withdraw(
    shared: Database, direction: Direction, wanted: Kind, app_type: str
) -> None:
    cells = [(role, named) for role in ROLES for named in (True, False)]
    want = {cell: expected(direction, wanted, app_type, *cell) for cell in cells}
    # Refusals change nothing, so they share one set; each accepted cell gets its own.
    refused_set = _prepared(shared, direction, wanted, app_type)
    got = {}
    for role, named in cells:
        accepted = not want[(role, named)].startswith("access.")
        deal = _prepared(shared, direction, wanted, app_type) if accepted else refused_set
        sender = _sender(deal, shared, role, named)
        data = attempt(deal, wanted, sender, app_type[0])
        got[(role, named)] = outcome_of(shared, sender, data)
        if not accepted:
            _assert_not_stored(shared, data)
    assert got == want


def _assert_not_stored(database: Database, data: bytes) -> None:
    """A refused document is not stored: its sender is no party of the set and cannot read it."""
    with database.read() as session:
        assert session.scalar(select(DocumentRow.id).where(DocumentRow.raw_xml == data)) is None


# -- the reproductions, through HTTP ------------------------------------------------
# An enterprise registered as agent and payment company, named in no document of the set,
# sends the victim's document with its own copCode and its own agentCode / payCode.

ROGUE = "3301999901"
GUIDS = [f"0BADC0DE-0000-4000-8000-00000000000{n}" for n in range(3)]


def _rogue_copy(root: etree._Element, app_type: str, guid: str, own_field: str) -> bytes:
    copy = etree.fromstring(xml(root))
    new_guid(copy, guid)
    set_field(copy, "appType", app_type)
    set_field(copy, "copCode", ROGUE)
    set_field(copy, own_field, ROGUE)
    return xml(copy)


async def _document(client: httpx.AsyncClient, party: Party, document_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/documents/{document_id}", headers=party.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["document"]
    return body


def _refused(response: httpx.Response, code: str) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("wanted", "own_field"), [(Kind.INVENTORY, "agentCode"), (Kind.PAYMENT, "payCode")]
)
async def test_a_stranger_cannot_withdraw_a_partys_document(
    client: httpx.AsyncClient, make_party: PartyFactory, wanted: Kind, own_field: str
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=81)
    parties = register(make_party, sample_set)
    answers = await send_set(client, parties, sample_set)
    code = {Kind.INVENTORY: "CEB621", Kind.PAYMENT: "CEB411"}[wanted]
    legit = next(a["document"] for a in answers if a["document"]["message_code"] == code)
    rogue = make_party(ROGUE, Role.AGENT, Role.PAY)

    withdrawal = _rogue_copy(document(sample_set, wanted), "3", GUIDS[0], own_field)
    _refused(await send(client, rogue, withdrawal), "access.not_the_sender")
    held = await _document(client, parties.sender(wanted), legit["id"])
    assert held["current"] is True


async def test_a_stranger_cannot_change_a_list_nor_read_the_declaration(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=82)
    parties = register(make_party, sample_set)
    *_, inventory = await send_set(client, parties, sample_set)
    rogue = make_party(ROGUE, Role.AGENT, Role.PAY)

    root = etree.fromstring(xml(document(sample_set, Kind.INVENTORY)))
    set_field(root, "consigneeAddress", "somewhere the rogue chose")
    change = _rogue_copy(root, "2", GUIDS[1], "agentCode")
    _refused(await send(client, rogue, change), "access.not_the_sender")
    held = await _document(client, parties.agent, inventory["document"]["id"])
    assert held["current"] is True
    declaration = f"/api/v1/declarations/{inventory['declaration']['id']}"
    assert (await client.get(declaration, headers=rogue.headers)).status_code == 404
    assert (await client.get(declaration, headers=parties.agent.headers)).status_code == 200


async def test_a_stranger_cannot_declare_a_set_whose_list_was_refused(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    """The set's refused 清单 still names its agent: a stranger's new one (appType 1) does not
    take its place."""
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=83)
    parties = register(make_party, sample_set)
    for root in sample_set.documents.values():
        if kind(root) is not Kind.INVENTORY:
            assert (await send(client, parties.sender(kind(root)), root)).status_code == 201
    wrong = etree.fromstring(xml(document(sample_set, Kind.INVENTORY)))
    set_field(wrong, "buyerName", "not the buyer of the order")
    refused = (await send(client, parties.agent, wrong)).json()
    assert refused["document"]["current"] is False and refused["declaration"] is not None
    rogue = make_party(ROGUE, Role.AGENT, Role.PAY)

    fresh = _rogue_copy(document(sample_set, Kind.INVENTORY), "1", GUIDS[2], "agentCode")
    _refused(await send(client, rogue, fresh), "access.not_in_set")
    declaration = f"/api/v1/declarations/{refused['declaration']['id']}"
    assert (await client.get(declaration, headers=rogue.headers)).status_code == 404
