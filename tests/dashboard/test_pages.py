"""The dashboard's pages against the real app: live sandbox, declaration page, receipts as CEB
XML, error codes — with real declarations sent through the API and a real engine run."""

from __future__ import annotations

from pathlib import Path

import httpx
from dashboard_support import SendSet, assert_self_contained
from lxml import etree
from sqlalchemy import select

from app import accounts, states
from app.dashboard import templating
from app.db.engine import Database
from app.db.models import Declaration, Receipt, Role
from app.engine import ClearanceEngine
from declarations.codes import ReturnStatus
from declarations.findings import RULES
from declarations.messages import CEB_NS, Direction, Regime


def run_engine(database: Database) -> ClearanceEngine:
    engine = ClearanceEngine(database, clock_speed="instant")
    engine.run_until_idle()
    return engine


async def test_every_page_is_served_and_loads_nothing_from_elsewhere(
    client: httpx.AsyncClient, database: Database, send_set: SendSet
) -> None:
    ident = await send_set(Regime.DIRECT, Direction.IMPORT)
    run_engine(database)
    for path in ("/", "/live/panel", f"/declarations/{ident}", "/scenarios", "/conformance",
                 "/error-codes", "/login", "/parties", "/account-books",
                 "/summaries"):  # fmt: skip
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert_self_contained(response.text)
    # The static files themselves name no other server either.
    for asset in sorted((templating.HERE / "static").iterdir()):
        response = await client.get(f"/static/{asset.name}")
        assert response.status_code == 200
        assert "http://" not in response.text and "https://" not in response.text, asset.name


async def test_live_page_says_when_the_engine_is_not_running(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    assert 'id="engine-off"' in page
    assert "Engine not running" in page and "清关引擎未运行" in page
    assert "No declarations yet" in page
    assert 'data-refresh="/live/panel"' in page  # the page refreshes itself


async def test_live_page_counts_declarations_and_lists_receipts_with_their_meaning(
    client: httpx.AsyncClient, database: Database, send_set: SendSet
) -> None:
    first = await send_set(Regime.DIRECT, Direction.IMPORT)
    second = await send_set(Regime.DIRECT, Direction.EXPORT)
    waiting = (await client.get("/")).text
    cell = 'data-regime="9610" data-state="clearance_ready">2<'
    assert cell in waiting, "two complete sets wait for the engine"

    run_engine(database)
    page = (await client.get("/live/panel")).text
    with database.read() as session:
        finals = {d.id: d.state for d in session.scalars(select(Declaration))}
        receipts = list(session.scalars(select(Receipt).order_by(Receipt.id.desc()).limit(15)))
    assert set(finals) == {first, second}
    for ident, state in finals.items():
        assert state in states.FINAL_STATES
        assert f'<tr id="declaration-{ident}" data-state="{state}">' in page
        assert f'href="/declarations/{ident}"' in page
    cleared = sum(1 for s in finals.values() if s == "cleared")
    assert f'data-regime="9610" data-state="cleared">{cleared}<' in page
    assert '<td class="num" id="total-declarations">2</td>' in page
    # Every recent receipt is listed with its code and meaning in both languages.
    for receipt in receipts:
        assert f'id="receipt-{receipt.id}" data-status="{receipt.return_status}"' in page
    for status in {ReturnStatus(r.return_status) for r in receipts if r.return_status > 0}:
        assert status.meaning_zh in page and status.meaning_en in page
    # The engine held its lease just now: the page shows its virtual clock.
    assert 'data-running="yes"' in page and 'id="sim-clock"' in page


async def test_declaration_page_shows_documents_and_the_ordered_history(
    client: httpx.AsyncClient, database: Database, send_set: SendSet
) -> None:
    ident = await send_set(Regime.DIRECT, Direction.IMPORT)
    run_engine(database)
    page = (await client.get(f"/declarations/{ident}")).text
    for code in ("CEB311", "CEB411", "CEB511", "CEB621"):
        assert code in page
    with database.read() as session:
        receipts = list(
            session.scalars(
                select(Receipt)
                .where(
                    Receipt.declaration_id == ident,
                    Receipt.document_id.is_(None),
                    Receipt.message_code == "CEB622",
                )
                .order_by(Receipt.seq)
            )
        )
    assert [r.return_status for r in receipts][-1] in {899, 100, 501, 502, 503, 599, 700}
    # The engine's receipts appear in the order they were sent, each with its CEB XML inline.
    positions = [page.index(f'id="event-receipt-{r.id}"') for r in receipts]
    assert positions == sorted(positions)
    assert page.index('id="event-document-') < positions[0]
    assert page.count("<summary>CEB XML</summary>") >= len(receipts)
    assert "simulated 模拟" in page


async def test_a_receipt_is_served_as_ceb_xml(
    client: httpx.AsyncClient, database: Database, send_set: SendSet
) -> None:
    ident = await send_set(Regime.DIRECT, Direction.IMPORT)
    run_engine(database)
    with database.read() as session:
        receipts = list(
            session.scalars(
                select(Receipt).where(Receipt.declaration_id == ident).order_by(Receipt.seq)
            )
        )
    last = [r for r in receipts if r.message_code == "CEB622"][-1]
    response = await client.get(f"/receipts/{last.id}.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(response.content)
    assert etree.QName(root).localname == f"{last.message_code}Message"
    status = root.find(f".//{{{CEB_NS}}}returnStatus")
    assert status is not None and status.text == str(last.return_status)
    # a released import's tax bill is customs' own message, with the bill's status
    for bill in (r for r in receipts if r.message_code in ("CEB816", "CEB818")):
        root = etree.fromstring((await client.get(f"/receipts/{bill.id}.xml")).content)
        assert etree.QName(root).localname == f"{bill.message_code}Message"
        assert root.findtext(f".//{{{CEB_NS}}}status") == str(bill.return_status)


async def test_missing_things_get_a_page_not_a_traceback(client: httpx.AsyncClient) -> None:
    for path in ("/declarations/999", "/receipts/999.xml", "/documents/999.xml",
                 "/scenarios/jobs/999"):  # fmt: skip
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "Not found" in response.text and "未找到" in response.text


async def test_error_codes_page_lists_every_rule_and_status(client: httpx.AsyncClient) -> None:
    page = (await client.get("/error-codes")).text
    for rule in RULES.values():
        assert f'id="rule-{rule.id}"' in page
        assert rule.title_zh in page
    for status in ReturnStatus:
        assert status.meaning_zh in page
    assert "-301010" in page or "lifecycle" in page.lower()


def test_templates_name_no_external_address() -> None:
    for template in Path(templating.HERE / "templates").glob("*.j2"):
        assert_self_contained(template.read_text(encoding="utf-8"))


async def test_a_format_check_receipt_is_listed_with_its_meaning_and_shown_as_ceb900(
    client: httpx.AsyncClient, database: Database
) -> None:
    with database.write() as session:
        enterprise = accounts.create_enterprise(
            session, code="3301960999", name="x", roles=[Role.EBC]
        )
        key = accounts.issue_key(session, enterprise)[1]
    sent = await client.post(
        "/api/v1/documents",
        content=b"<not-ceb/>",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/xml"},
    )
    (receipt,) = sent.json()["receipts"]
    page = (await client.get("/live/panel")).text
    assert f'id="receipt-{receipt["id"]}" data-status="-2"' in page
    assert "格式校验未通过" in page and "format check: the message fails the schema" in page
    shown = await client.get(f"/receipts/{receipt['id']}.xml")
    assert shown.status_code == 200
    root = etree.fromstring(shown.content)
    assert root.tag == f"{{{CEB_NS}}}CEB900Message"
    assert root.findtext(f"{{{CEB_NS}}}MessageReturn/{{{CEB_NS}}}oriBizMessage") == "<not-ceb/>"
