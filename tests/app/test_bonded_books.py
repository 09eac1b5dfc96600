"""The 1210 bonded account book (账册) through the live API, on both backends: registered by its
zone warehouse enterprise, drawn down by a 1210 import 清单, refused when the stock is short or
the item unknown, given back by a return; nobody else's to read or take. Stock never goes below
zero under concurrent draws, on PostgreSQL (row locks) and SQLite (one writer)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from service_support import Party, PartyFactory, run_together
from submission_helpers import coded, register, sample, send, send_set
from test_engine_support import instant_engine

from app.db.engine import Database
from app.db.models import Declaration, Role
from app.services import bonded_books
from declarations import BY_CODE, Direction, Facts, Regime, check
from declarations.sample_followups import import_return
from declarations.samples import SampleSet, to_bytes


def _facts(s: SampleSet) -> Facts:
    return check(to_bytes(s.documents["inventory-CEB621.xml"]), "1210").facts()


def _drawn(s: SampleSet) -> dict[str, Decimal]:
    return {str(line["itemRecordNo"]): Decimal(str(line["qty"])) for line in _facts(s).lines}


async def _register(
    client: httpx.AsyncClient, party: Party, s: SampleSet, stock: dict[str, Decimal]
) -> httpx.Response:
    items = [{"item_record_no": item, "stock": str(qty)} for item, qty in stock.items()]
    body = {"ems_no": _facts(s).head["emsNo"], "items": items}
    return await client.post("/api/v1/account-books", json=body, headers=party.headers)


async def _book(client: httpx.AsyncClient, party: Party, s: SampleSet) -> dict[str, Any]:
    answer = await client.get(f"/api/v1/account-books/{_facts(s).head['emsNo']}",
                              headers=party.headers)  # fmt: skip
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _stock(book: dict[str, Any]) -> dict[str, Decimal]:
    return {i["item_record_no"]: Decimal(i["stock"]) for i in book["items"]}


async def test_a_1210_set_draws_its_book_and_a_return_puts_back(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s = sample(Regime.BONDED, Direction.IMPORT, seed=401)
    parties = register(make_party, s)
    warehouse = parties.agent  # the declarant runs the zone warehouse here
    drawn = _drawn(s)
    made = await _register(client, warehouse, s, drawn)  # exactly what the 清单 takes
    assert made.status_code == 201, made.text
    assert _stock(made.json()) == drawn

    *_, inventory = await send_set(client, parties, s)
    assert inventory["declaration"]["state"] == "clearance_ready"
    book = await _book(client, warehouse, s)
    assert set(_stock(book).values()) == {Decimal(0)}
    assert [m["kind"] for m in book["moves"]] == ["added"] * len(drawn) + ["drawn"] * len(drawn)

    instant_engine(database).run_until_idle()  # released and closed
    invt = inventory["document"]["invt_no"]
    first = _facts(s).lines[0]
    gnum, item = int(str(first["gnum"])), str(first["itemRecordNo"])
    returned = await send(client, parties.agent, import_return(s.deal, invt, {gnum: Decimal(1)}))
    assert coded(returned)[-1] == ("CEB626", 399), returned.text
    assert _stock(await _book(client, warehouse, s))[item] == 1  # the returned one is back


async def test_a_1210_set_short_of_stock_or_naming_an_unknown_item_is_refused(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    s = sample(Regime.BONDED, Direction.IMPORT, seed=402)
    parties = register(make_party, s)
    drawn = _drawn(s)
    first = next(iter(drawn))
    short = {**drawn, first: drawn[first] - Decimal("0.5")}
    await _register(client, parties.agent, s, short)
    *_, inventory = await send_set(client, parties, s)
    last = inventory["receipts"][-1]
    assert (last["message_code"], last["return_status"]) == ("CEB622", 100)
    assert (
        "[account-book.insufficient-stock]" in last["return_info"] and first in last["return_info"]
    )
    assert inventory["declaration"]["state"] == "rejected"
    assert _stock(await _book(client, parties.agent, s)) == short  # nothing drawn

    other = sample(Regime.BONDED, Direction.IMPORT, seed=403)
    parties = register(make_party, other)
    known = dict(list(_drawn(other).items())[1:])  # the book lacks the first item
    await _register(client, parties.agent, other, {k: v * 10 for k, v in known.items()})
    *_, inventory = await send_set(client, parties, other)
    assert "[account-book.unknown-item]" in inventory["receipts"][-1]["return_info"]


async def test_a_book_is_its_owner_s_alone(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    s = sample(Regime.BONDED, Direction.IMPORT, seed=404)
    owner = make_party("4403961401", Role.AGENT)
    rogue = make_party("4403961402", Role.AGENT)
    assert (await _register(client, owner, s, {"A1": Decimal(3)})).status_code == 201
    taken = await _register(client, rogue, s, {"A1": Decimal(100)})
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "account_book.taken")
    ems_no = _facts(s).head["emsNo"]
    hidden = await client.get(f"/api/v1/account-books/{ems_no}", headers=rogue.headers)
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "account_book.not_found")
    assert (await client.get("/api/v1/account-books", headers=rogue.headers)).json() == []
    more = await _register(client, owner, s, {"A1": Decimal(2), "B2": Decimal(1)})
    assert more.status_code == 200 and _stock(more.json()) == {"A1": 5, "B2": 1}
    negative = await client.post(
        "/api/v1/account-books",
        json={"ems_no": ems_no, "items": [{"item_record_no": "A1", "stock": "-1"}]},
        headers=owner.headers,
    )
    assert negative.status_code == 422


def test_concurrent_draws_never_take_stock_below_zero(
    database: Database, make_party: PartyFactory
) -> None:
    # PostgreSQL's row locks are what matter; SQLite's single writer must hold it too
    owner = make_party("4403961501", Role.AGENT)
    stock, wanted, clients = Decimal(10), Decimal(3), 12  # demand 36 against 10
    with database.write() as session:
        bonded_books.register(session, owner.id, "TCONC0001", [bonded_books.NewItem("I1", stock)])
        ids = []
        for n in range(clients):
            row = Declaration(regime="1210", direction="import", order_no=f"C{n}", ebp_code="E")
            session.add(row)
            session.flush()
            ids.append(row.id)
    facts = Facts(BY_CODE["CEB621"], Direction.IMPORT, Regime.BONDED, True,
                  head={"emsNo": "TCONC0001"},
                  lines=[{"itemRecordNo": "I1", "qty": str(wanted)}])  # fmt: skip
    refused: list[int] = []

    def draw(ident: int) -> None:
        with database.write() as session:
            if bonded_books.draw(session, session.get_one(Declaration, ident), facts) is not None:
                refused.append(ident)

    assert run_together([lambda i=i: draw(i) for i in ids]) == []
    with database.read() as session:
        book = bonded_books.book_json(
            session, bonded_books.own_book(session, owner.id, "TCONC0001")
        )
    left = _stock(book)["I1"]
    taken = clients - len(refused)
    assert left >= 0 and taken == 3 and left == stock - wanted * taken  # 3 × 3 of 10: 1 left
    drawn = [Decimal(m["quantity"]) for m in book["moves"] if m["kind"] == "drawn"]
    assert sum(drawn) == -(stock - left)
