"""The export summary declaration through the live API (汇总申报, CEB spec 202205 §2.21-2.23):
a declarant summarises its closed 9610 export 清单 declared statisticsFlag B (CEB701), customs
answers 2 → 3 → 120 → 399 (CEB702) and sends one summary result (CEB792) per customs
declaration (报关单) formed. Both backends, real HTTP through the app, each party with its own
key; the 清单 are released by the instant engine (danchuang plays the site) and closed by the
real carrier's departure record, at a time the test chooses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree
from service_support import Party, PartyFactory, push_everything, recording_receiver
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from submission_helpers import (
    C,
    Parties,
    coded,
    new_guid,
    real_senders,
    register,
    send,
    send_set,
    set_field,
)
from test_engine_support import instant_engine

from app.db.engine import Database
from app.db.models import Role
from app.db.models_summary import SummaryListRow
from app.engine import ClearanceEngine
from declarations import Direction, Regime, parse_xml, validate
from declarations.sample_export_followups import export_departure, export_summary_application
from declarations.samples import SampleSet, generate_sets

CUSTOMS = "2249"
MARCH = ("20270301000000", "20270331235959")
APRIL = ("20270401000000", "20270430235959")


@dataclass(frozen=True)
class Listed:
    """One export 清单 sent, released and (unless told not to) closed."""

    sample: SampleSet
    invt_no: str
    declaration_id: int


def _deals(seed: int, count: int) -> list[SampleSet]:
    """``count`` 9610 export sets of one platform, seller, carrier, payer and declarant."""
    deal = generate_sets(Regime.DIRECT, Direction.EXPORT, seed=seed)[0].deal
    fixed = {"platform": deal.platform, "seller": deal.seller, "carrier": deal.carrier,
             "payment": deal.payer_company, "agent": deal.agent}  # fmt: skip
    return generate_sets(Regime.DIRECT, Direction.EXPORT, seed=seed, count=count, parties=fixed)


async def _list(
    client: httpx.AsyncClient,
    parties: Parties,
    engine: ClearanceEngine,
    sample: SampleSet,
    *,
    flag: str = "B",
    country: str = "304",
    leave: str | None,
) -> Listed:
    """Send the set with its 清单 declared ``flag`` for ``country`` at ``CUSTOMS``; release it;
    close it by the carrier's departure at ``leave`` (Beijing time), unless None."""
    inventory = sample.documents["inventory-CEB603.xml"]
    head = inventory.find(f"{C}Inventory/{C}InventoryHead")
    assert head is not None
    for name, value in (("statisticsFlag", flag), ("customsCode", CUSTOMS),
                        ("portCode", CUSTOMS), ("country", country)):  # fmt: skip
        node = head.find(C + name)
        assert node is not None
        node.text = value
    answers = await send_set(client, parties, sample)
    document = answers[-1]["document"]
    engine.run_until_idle()
    if leave is not None:
        departure = export_departure(sample.deal, minutes=481)
        set_field(departure, "leaveTime", leave)
        departed = await send(client, parties.carrier, departure)
        assert coded(departed)[-1] == ("CEB510", 399), departed.text
    return Listed(sample, document["invt_no"], answers[-1]["declaration"]["id"])


def _application(
    first: Listed, invts: list[str], *, span: tuple[str, str] | None = None
) -> etree._Element:
    """The declarant's CEB701 naming ``invts``; with ``span``, for that range instead."""
    start, end = span or (None, None)
    root = export_summary_application(first.sample.deal, invts, start=start, end=end)
    set_field(root, "customsCode", CUSTOMS)
    return root


async def _summary(client: httpx.AsyncClient, party: Party, document_id: int) -> dict[str, Any]:
    page = await client.get("/api/v1/summaries", headers=party.headers)
    assert page.status_code == 200, page.text
    (found,) = [s for s in page.json()["summaries"] if s["document_id"] == document_id]
    shown = await client.get(f"/api/v1/summaries/{found['id']}", headers=party.headers)
    assert shown.status_code == 200, shown.text
    return dict(shown.json())


def _info(answer: httpx.Response) -> str:
    return str(answer.json()["receipts"][-1]["return_info"])


async def _pulled(
    client: httpx.AsyncClient, agent: Party, summary: dict[str, Any], official: etree.XMLSchema
) -> None:
    """The sender pulls the CEB792: receipts of its document (JSON; its XML is the CEB702 of
    the application's own receipts), and each the message itself, valid under the official
    XSD and danchuang's schema."""
    groups = summary["groups"]
    path = f"/api/v1/documents/{summary['document_id']}/receipts"
    receipts = (await client.get(path, headers=agent.headers)).json()["receipts"]
    results = [r for r in receipts if r["message_code"] == "CEB792"]
    assert [r["id"] for r in results] == [g["receipt_id"] for g in groups]
    as_xml = await client.get(path, headers={**agent.headers, "Accept": "application/xml"})
    assert b"CEB702Message" in as_xml.content and b"CEB792" not in as_xml.content
    assert as_xml.content.count(b"<ceb:SummaryReturn>") == 4
    # the sumNo customs gave, in the receipts of the accepted application (120 and 399)
    assert as_xml.content.count(f"<ceb:sumNo>{summary['sum_no']}</ceb:sumNo>".encode()) == 2
    receipt = parse_xml(as_xml.content, source="CEB702").root
    assert receipt is not None and official.validate(receipt), official.error_log
    for group in groups:
        path = f"/api/v1/summaries/{summary['id']}/results/{group['decl_seq_no']}"
        answer = await client.get(path, headers=agent.headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/xml")
        root = parse_xml(answer.content, source="CEB792").root
        assert root is not None and official.validate(root), official.error_log
        assert validate(answer.content, source="CEB792", regime="9610").valid
        assert root.findtext(f".//{C}sumNo") == summary["sum_no"]
        assert root.findtext(f".//{C}declSeqNo") == group["decl_seq_no"]
        assert root.findtext(f".//{C}declAgentCode") == agent.code
        lines = sum(len(item["lines"]) for item in group["items"])
        assert len(root.findall(f".//{C}SummaryResultList")) == lines


def _on_the_page(page: str, summary: dict[str, Any], invts: list[str]) -> None:
    """The dashboard's section of ``summary``: its sumNo, 清单 and each 报关单's CEB792."""
    shown = page.split(f'id="summary-{summary["id"]}"')[1].split("</section>", maxsplit=1)[0]
    assert summary["sum_no"] in shown and "by list" in shown
    for group in summary["groups"]:
        assert f"CEB792 {group['decl_seq_no']}" in shown
        assert f"&lt;ceb:declSeqNo&gt;{group['decl_seq_no']}&lt;/ceb:declSeqNo&gt;" in shown
    assert all(invt in shown for invt in invts)


async def test_a_month_of_lists_is_summarised_by_list_and_by_range(
    client: httpx.AsyncClient,
    make_party: PartyFactory,
    database: Database,
    official_dir: Path,
    admin_headers: dict[str, str],
) -> None:
    sets = _deals(seed=701, count=6)
    parties = register(make_party, sets[0])
    await real_senders(client, parties.carrier, CEB509="real")
    engine = instant_engine(database)
    march = [
        await _list(client, parties, engine, one, country=country, leave=leave)
        for one, country, leave in zip(
            sets[:4], ("304", "116", "304", "116"),
            ("20270303101500", "20270309080000", "20270317231000", "20270331235000"),
            strict=True,
        )
    ]  # fmt: skip
    april = [
        await _list(client, parties, engine, one, country=country, leave=leave)
        for one, country, leave in zip(
            sets[4:], ("304", "116"), ("20270402120000", "20270429090000"), strict=True
        )
    ]
    official = etree.XMLSchema(etree.parse(str(official_dir / "xsd" / "ceb-export-202205.xsd")))

    with recording_receiver() as receiver:
        hook = {"url": receiver.url, "xml": True, "events": ["CEB702", "CEB792"]}
        created = await client.post("/api/v1/webhooks", json=hook, headers=parties.agent.headers)
        assert created.status_code == 201, created.text

        by_list = await send(
            client, parties.agent, _application(march[0], [m.invt_no for m in march])
        )
        assert coded(by_list) == [("CEB702", 2), ("CEB702", 3), ("CEB702", 120), ("CEB702", 399)]
        assert "4 清单 in 2 customs declaration(s)" in _info(by_list), _info(by_list)
        document_id = by_list.json()["document"]["id"]
        summary = await _summary(client, parties.agent, document_id)
        assert summary["sum_no"] in _info(by_list) and summary["state"] == "formed"
        assert sorted(one["invt_no"] for one in summary["lists"]) == sorted(
            m.invt_no for m in march
        )
        assert not summary["by_range"] and summary["period_start"].startswith("2027-02-28T16:00")
        # two 报关单: the head's 运抵国 differs (公告2018年第194号 item (十))
        groups = summary["groups"]
        assert [g["country"] for g in groups] == ["304", "116"] and len(
            {g["decl_seq_no"] for g in groups}
        ) == 2
        for group in groups:
            lists = {line["invt_no"] for item in group["items"] for line in item["lines"]}
            assert len(lists) == 2 and group["dec_state"] == "A"
            assert [item["gseqno"] for item in group["items"]] == list(
                range(1, len(group["items"]) + 1)
            )

        await _pulled(client, parties.agent, summary, official)

        # …and by webhook, with the CEB792 message itself
        push_everything(database)
        pushed = [str(body["xml"]) for _, _, body in receiver.received if "CEB792M" in str(body)]
        assert len(pushed) == 2
        # deliveries come in no set order (docs/api.md): each group's CEB792 is pushed once
        for group in groups:
            seq_no = f"<ceb:declSeqNo>{group['decl_seq_no']}</ceb:declSeqNo>"
            (message,) = [m for m in pushed if seq_no in m]
            assert message.startswith("<?xml") and "<ceb:CEB792Message" in message

    # by range: April's lists, the body ignored (it names a March list, summarised already)
    ranged = await send(
        client, parties.agent, _application(march[0], [march[0].invt_no], span=APRIL)
    )
    assert coded(ranged)[-1] == ("CEB702", 399), _info(ranged)
    later = await _summary(client, parties.agent, ranged.json()["document"]["id"])
    assert later["by_range"] and sorted(one["invt_no"] for one in later["lists"]) == sorted(
        a.invt_no for a in april
    )
    assert len(later["groups"]) == 2 and later["sum_no"] != summary["sum_no"]
    # nothing is left in March: a range finds nothing, and a list cannot be summarised twice
    empty = await send(client, parties.agent, _application(march[1], [], span=MARCH))
    assert coded(empty)[-1] == ("CEB702", 100) and "no closed 清单" in _info(empty)
    twice = await send(client, parties.agent, _application(march[1], [march[1].invt_no]))
    assert coded(twice)[-1] == ("CEB702", 100) and "in an earlier summary" in _info(twice)

    # the operator's dashboard lists both, with their 报关单 and each CEB792
    page = await client.get("/summaries", headers=admin_headers)
    assert page.status_code == 200, page.text
    _on_the_page(page.text, summary, [m.invt_no for m in march])
    assert f'id="summary-{later["id"]}"' in page.text

    # the summary is its sender's alone
    for other in (parties.seller, make_party("3302W00701", Role.AGENT)):
        hidden = await client.get(f"/api/v1/summaries/{summary['id']}", headers=other.headers)
        assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "summary.not_found"
        xml = await client.get(
            f"/api/v1/summaries/{summary['id']}/results/{groups[0]['decl_seq_no']}",
            headers=other.headers,
        )
        assert xml.status_code == 404


async def test_lists_that_may_not_be_summarised_are_refused(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    simplified, waiting, closed = _deals(seed=702, count=3)
    parties = register(make_party, simplified)
    await real_senders(client, parties.carrier, CEB509="real")
    engine = instant_engine(database)
    a_flag = await _list(client, parties, engine, simplified, flag="A", leave="20270305100000")
    open_list = await _list(client, parties, engine, waiting, leave=None)
    b_flag = await _list(client, parties, engine, closed, leave="20270306100000")

    # simplified (A) lists never enter a summary
    answer = await send(client, parties.agent, _application(a_flag, [a_flag.invt_no]))
    assert coded(answer) == [("CEB702", 2), ("CEB702", 3), ("CEB702", 100)]
    assert "statisticsFlag is A, not B" in _info(answer) and "非汇总申报" in _info(answer)
    # a 清单 released but not closed (no departure yet)
    answer = await send(client, parties.agent, _application(open_list, [open_list.invt_no]))
    assert coded(answer)[-1] == ("CEB702", 100)
    assert f"清单 {open_list.invt_no} is not closed (899)" in _info(answer)
    # a 清单 of another declarant: a rogue broker names it for the same ebc
    rogue = make_party("3302W00702", Role.AGENT)
    forged = _application(b_flag, [b_flag.invt_no])
    for name in ("agentCode", "declAgentCode", "copCode"):
        set_field(forged, name, rogue.code)
    new_guid(forged, str(uuid.uuid4()).upper())
    answer = await send(client, rogue, forged)
    assert coded(answer)[-1] == ("CEB702", 100)
    assert f"no export 清单 {b_flag.invt_no} of yours" in _info(answer)
    pages = await client.get("/api/v1/summaries", headers=rogue.headers)
    assert pages.json()["summaries"] == []
    # nor another enterprise posing as the declarant
    posing = await send(client, parties.seller, _application(b_flag, [b_flag.invt_no]))
    assert posing.status_code == 403, posing.text
    # the rightful declarant summarises it: the refusals left it free
    taken = await send(client, parties.agent, _application(b_flag, [b_flag.invt_no]))
    assert coded(taken)[-1] == ("CEB702", 399), _info(taken)
    summary = await _summary(client, parties.agent, taken.json()["document"]["id"])
    assert [one["invt_no"] for one in summary["lists"]] == [b_flag.invt_no]
    assert len(summary["groups"]) == 1
    # the database holds to it too: a 清单 enters one summary (unique summary_lists.invt_no)
    with pytest.raises(IntegrityError), database.write() as session:
        kept = session.scalars(select(SummaryListRow)).one()
        session.add(SummaryListRow(summary_id=kept.summary_id, group_id=kept.group_id,
                                   invt_no=kept.invt_no, declaration_id=kept.declaration_id,
                                   closed_at=kept.closed_at))  # fmt: skip


@pytest.mark.parametrize(
    "span",
    [("20270301000000", None), (None, "20270301000000"), ("20270331000000", "20270301000000")],
)
async def test_a_range_must_be_a_pair_in_order(
    client: httpx.AsyncClient, make_party: PartyFactory, span: tuple[str | None, str | None]
) -> None:
    sample = generate_sets(Regime.DIRECT, Direction.EXPORT, seed=703)[0]
    agent = make_party(sample.deal.agent.code, Role.AGENT)
    root = export_summary_application(sample.deal, ["22492027000000000001"], start=span[0],
                                      end=span[1])  # fmt: skip
    answer = await send(client, agent, root)
    assert coded(answer)[-1] == ("CEB702", 100), answer.text
    assert "startTime" in _info(answer)
