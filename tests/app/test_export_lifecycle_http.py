"""Issue 14 end to end over real HTTP: `danchuang serve` as a subprocess (instant clock) on both
backends, every party with its own key, a webhook receiver on loopback.

A 9610 export set whose 清单 leaves its flight for later is released only after the arrival
record (CEB507) its real site operator sends, bound by its real carrier's master waybill list
(CEB607) that supplies the flight, and closed (899) by the carrier's departure record (CEB509),
the 899 pushed to the declarant's webhook. Then its cancellation is refused (-623005), its
declarant summarises it (CEB701 → CEB702, customs' CEB792), and a return (CEB213) comes back
and is tallied at the site (CEB215), which releases it."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from http_story import Parties, statuses, wait_for
from live_server import Server
from service_support import Receiver
from submission_helpers import sample

from declarations import Direction, Regime
from declarations.sample_export_followups import (
    Voyage,
    departure_record,
    export_arrival,
    export_cancellation,
    export_return,
    export_return_tally,
    export_summary_application,
    master_waybill_record,
)
from declarations.samples import SampleSet, to_bytes

FLIGHT = Voyage("5", "CZ3105", "20261205", "784-20000001")


def _later(s: SampleSet) -> None:
    """The 清单 leaves its flight and master waybill for later (后置申报, §2.11.4 p. 29)."""
    for name in ("trafName", "voyageNo", "billNo"):
        for node in list(s.documents["inventory-CEB603.xml"].iter(f"{{*}}{name}")):
            node.getparent().remove(node)  # type: ignore[union-attr]


@pytest.mark.slow
def test_the_export_lifecycle_over_http(db_url: str, tmp_path: Path, receiver: Receiver) -> None:
    server = Server(db_url, tmp_path, clock_speed="instant")
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            _story(client, receiver)
    finally:
        server.stop()


def _story(client: httpx.Client, receiver: Receiver) -> None:
    s = sample(Regime.DIRECT, Direction.EXPORT, seed=511)
    _later(s)
    for node in s.documents["inventory-CEB603.xml"].iter("{*}statisticsFlag"):
        node.text = "B"  # 汇总申报: summarised into a 报关单 once closed
    deal, parties = s.deal, Parties(client, s)
    hook = {"url": receiver.url, "xml": True, "events": ["CEB604"]}
    made = client.post("/api/v1/webhooks", json=hook, headers=parties.headers("agent"))
    assert made.status_code == 201, made.text
    for role, codes in (("agent", ("CEB507",)), ("logistics", ("CEB607", "CEB509"))):
        real = dict.fromkeys(codes, "real")
        put = client.put(
            "/api/v1/enterprises/me/real-senders", json=real, headers=parties.headers(role)
        )
        assert put.status_code == 200, put.text

    inventory = parties.send_set(s)
    ident, invt = inventory["declaration"]["id"], inventory["document"]["invt_no"]
    wait_for(lambda: ("CEB604", 399) in parties.codes(ident), "the decision")
    time.sleep(1)  # the engine ticks on: the release waits for the goods
    assert ("CEB604", 800) not in parties.codes(ident)

    assert statuses(parties.send("operator", to_bytes(export_arrival(deal)))) == [2, 3, 399]
    wait_for(lambda: ("CEB604", 800) in parties.codes(ident), "the release")
    bound = master_waybill_record(deal.agent, deal.carrier, deal.customs_code, FLIGHT,
                                  [(deal.logistics_no, invt)], gross_weight="1.2",
                                  when=deal.stamp(200), guid=str(uuid.uuid4()).upper())  # fmt: skip
    assert statuses(parties.send("logistics", to_bytes(bound))) == [2, 3, 120]
    time.sleep(1)  # the model's export has left: the carrier's record is awaited
    assert ("CEB604", 899) not in parties.codes(ident)
    left = departure_record(deal.carrier, deal.customs_code, FLIGHT, [deal.logistics_no],
                            when=deal.stamp(480), guid=str(uuid.uuid4()).upper())  # fmt: skip
    assert statuses(parties.send("logistics", to_bytes(left))) == [2, 3, 399]
    assert parties.codes(ident)[-1] == ("CEB604", 899)
    wait_for(lambda: any(b["receipt"]["return_status"] == 899 for _, _, b in receiver.received),  # type: ignore[index]
          "the 899 pushed")  # fmt: skip

    assert statuses(parties.send("agent", to_bytes(export_cancellation(deal, invt))))[-1] == -623005
    summary = export_summary_application(deal, [invt])
    assert statuses(parties.send("agent", to_bytes(summary))) == [2, 3, 120, 399]
    listed = client.get("/api/v1/summaries", headers=parties.headers("agent")).json()
    (made,) = listed["summaries"]
    shown = client.get(f"/api/v1/summaries/{made['id']}", headers=parties.headers("agent")).json()
    (group,) = shown["groups"]  # one 清单: one 报关单
    result = client.get(f"/api/v1/summaries/{made['id']}/results/{group['decl_seq_no']}",
                        headers=parties.headers("agent"))  # fmt: skip
    assert result.status_code == 200 and b"<ceb:CEB792Message" in result.content
    assert invt.encode() in result.content

    line = deal.lines[0]
    back = export_return(deal, invt, {line.gnum: Decimal(1)})
    assert statuses(parties.send("agent", to_bytes(back))) == [2, 3, 120]
    tally = export_return_tally(deal, invt)
    assert statuses(parties.send("operator", to_bytes(tally))) == [2, 3, 399]
    assert parties.codes(ident)[-1] == ("CEB214", 800)
    shown: dict[str, Any] = client.get(
        f"/api/v1/declarations/{ident}", headers=parties.headers("agent")
    ).json()
    assert shown["declaration"]["state"] == "cleared"
