"""Issue 13 end to end over real HTTP: `danchuang serve` as a subprocess (instant clock) on both
backends, every party with its own key, a webhook receiver on loopback.

A 9610 import set is released only after the site's entry record (CEB711) its real operator
sends, then delivered by its real carrier (CEB513) and returned in part (CEB625), the quota
given back; its tax bill (CEB816) is issued and paid (CEB818), read by pull and pushed as XML.
A 1210 set draws down the account book its warehouse registered."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from http_story import Parties, wait_for
from live_server import Server
from service_support import Receiver
from submission_helpers import sample

from app.db.engine import Database
from app.quota import used_fen
from declarations import Direction, Regime, check
from declarations.sample_followups import (
    import_delivery,
    import_return,
    import_site_entry,
)
from declarations.samples import to_bytes


def _codes(body: dict[str, Any]) -> list[tuple[str, int]]:
    return [
        (e["message_code"], e["return_status"]) for e in body["history"] if e["event"] == "receipt"
    ]


@pytest.mark.slow
def test_the_import_lifecycle_over_http(db_url: str, tmp_path: Path, receiver: Receiver) -> None:
    server = Server(db_url, tmp_path, clock_speed="instant")
    database = Database.from_url(db_url)
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            _story(client, database, receiver)
    finally:
        server.stop()
        database.dispose()


def _story(client: httpx.Client, database: Database, receiver: Receiver) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=501)
    parties = Parties(client, s)
    hook = {"url": receiver.url, "xml": True, "events": ["CEB816", "CEB818"]}
    assert (
        client.post("/api/v1/webhooks", json=hook, headers=parties.headers("agent")).status_code
        == 201
    )
    for role, code in (("agent", "CEB711"), ("logistics", "CEB513")):
        put = client.put("/api/v1/enterprises/me/real-senders", json={code: "real"},
                         headers=parties.headers(role))  # fmt: skip
        assert put.status_code == 200, put.text

    inventory = parties.send_set(s)
    ident, invt = inventory["declaration"]["id"], inventory["document"]["invt_no"]
    wait_for(lambda: ("CEB622", 399) in _codes(parties.declaration(ident)), "the decision")
    time.sleep(1)  # the engine ticks on: the release still waits for the site
    assert ("CEB622", 800) not in _codes(parties.declaration(ident))

    entered = parties.send("operator", to_bytes(import_site_entry(s.deal)))
    assert [r["return_status"] for r in entered["receipts"]] == [2, 3, 120]
    wait_for(lambda: parties.declaration(ident)["declaration"]["state"] == "cleared", "clearance")
    wait_for(lambda: ("CEB818", 2) in _codes(parties.declaration(ident)), "the bill's payment")
    history = [e for e in parties.declaration(ident)["history"] if e["event"] == "receipt"]
    codes = [(e["message_code"], e["return_status"]) for e in history]
    released = next(
        e["id"] for e in history if (e["message_code"], e["return_status"]) == ("CEB622", 800)
    )
    assert entered["receipts"][-1]["id"] < released  # the site's entry, then the release
    assert codes.index(("CEB622", 800)) < codes.index(("CEB816", 1))

    delivered = parties.send("logistics", to_bytes(import_delivery(s.deal)))
    assert delivered["receipts"][-1]["return_status"] == 399
    with database.read() as session:
        used = used_fen(session, s.deal.buyer.id_number, s.deal.when.year)
    line = s.deal.lines[0]
    back = parties.send("agent", to_bytes(import_return(s.deal, invt, {line.gnum: Decimal(1)})))
    assert back["receipts"][-1]["return_status"] == 399
    with database.read() as session:
        assert used - used_fen(session, s.deal.buyer.id_number, s.deal.when.year) == int(
            line.price * 100
        )

    feed = client.get("/api/v1/receipts", headers=parties.headers("agent")).json()["receipts"]
    assert {("CEB816", 1), ("CEB818", 2)} <= {(r["message_code"], r["return_status"]) for r in feed}
    wait_for(lambda: len(receiver.received) >= 2, "the tax bill's webhooks")
    pushed = {body["receipt"]["message_code"]: body for _path, _key, body in receiver.received}  # type: ignore[index]
    assert "<ceb:CEB816Message" in str(pushed["CEB816"]["xml"])
    assert "<ceb:entDutyNo>" in str(pushed["CEB818"]["xml"])

    bonded = sample(Regime.BONDED, Direction.IMPORT, seed=502)
    warehouse = Parties(client, bonded)
    facts = check(to_bytes(bonded.documents["inventory-CEB621.xml"]), "1210").facts()
    items = [{"item_record_no": line["itemRecordNo"], "stock": "50"} for line in facts.lines]
    book = {"ems_no": facts.head["emsNo"], "items": items}
    made = client.post("/api/v1/account-books", json=book, headers=warehouse.headers("agent"))
    assert made.status_code == 201, made.text
    warehouse.send_set(bonded)
    shown = client.get(
        f"/api/v1/account-books/{facts.head['emsNo']}", headers=warehouse.headers("agent")
    )
    left = {i["item_record_no"]: Decimal(i["stock"]) for i in shown.json()["items"]}
    assert left == {
        str(line["itemRecordNo"]): 50 - Decimal(str(line["qty"])) for line in facts.lines
    }
