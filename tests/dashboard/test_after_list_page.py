"""The declaration page shows the messages after a 清单 like any document of the set: the
carrier's delivery record (CEB513), here sent by danchuang playing it, a return (CEB625) with
their receipts, when the goods entered the site (danchuang's CEB711, the site's own document)
and were delivered, and the tax bill (CEB816/CEB818); the parties page shows and changes who
plays whom."""

from __future__ import annotations

from decimal import Decimal

import httpx
from dashboard_support import SendSet
from sqlalchemy import select

from app import accounts
from app.db.engine import Database
from app.db.models import Declaration, DocumentRow, Role
from app.engine import ClearanceEngine
from declarations import Direction, Regime
from declarations.sample_followups import import_return
from declarations.samples import generate_sets, to_bytes


async def test_a_delivery_and_a_return_show_on_the_declaration_page(
    client: httpx.AsyncClient, database: Database, send_set: SendSet
) -> None:
    ident = await send_set(Regime.DIRECT, Direction.IMPORT)  # the fixture's first set: seed 0
    ClearanceEngine(database, clock_speed="instant").run_until_idle()
    deal = generate_sets(Regime.DIRECT, Direction.IMPORT, seed=0, count=1)[0].deal
    with database.write() as session:  # the set's carrier and declarant, with keys of ours
        keys = {}
        for company, role in ((deal.carrier, Role.LOGISTICS), (deal.agent, Role.AGENT)):
            enterprise = accounts.find_enterprise(session, company.code)
            keys[role] = accounts.issue_key(session, enterprise)[1]
        invt = session.scalar(
            select(DocumentRow.invt_no).where(
                DocumentRow.declaration_id == ident, DocumentRow.message_code == "CEB621"
            )
        )
    assert invt is not None
    sent = {Role.AGENT: import_return(deal, invt, {deal.lines[0].gnum: Decimal(1)})}
    for role, root in sent.items():
        answer = await client.post(
            "/api/v1/documents",
            content=to_bytes(root),
            headers={"Authorization": f"Bearer {keys[role]}", "Content-Type": "application/xml"},
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["receipts"][-1]["return_status"] == 399
    page = (await client.get(f"/declarations/{ident}")).text
    for code in ("CEB513", "CEB514", "CEB625", "CEB626", "CEB816", "CEB818"):
        assert code in page, code
    assert 'id="delivered-at"' in page and 'id="site-entered-at"' in page
    assert 'id="tax-bill-state">2 · summed' in page
    with database.read() as session:
        declaration = session.get(Declaration, ident)
        assert declaration is not None and declaration.delivered_at is not None


async def test_the_parties_page_changes_who_plays_whom(
    client: httpx.AsyncClient, database: Database, send_set: SendSet
) -> None:
    await send_set(Regime.DIRECT, Direction.IMPORT)
    carrier = generate_sets(Regime.DIRECT, Direction.IMPORT, seed=0, count=1)[0].deal.carrier
    page = (await client.get("/parties")).text
    assert f'id="parties-{carrier.code}"' in page and "danchuang 模拟" in page
    changed = await client.post(
        "/parties", data={"enterprise": carrier.code, "message": "CEB513", "who": "real"}
    )
    assert changed.status_code == 200
    row = changed.text.split(f'id="parties-{carrier.code}"')[1].split("</tr>")[0]
    assert 'class="who-real" data-message="CEB513"' in row
    refused = await client.post(
        "/parties", data={"enterprise": carrier.code, "message": "CEB621", "who": "real"}
    )
    assert refused.status_code == 422 and 'id="form-error"' in refused.text


async def test_the_parties_page_says_when_danchuang_sends_each_message(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/parties")).text
    timings = page.split('id="timings"')[1].split("</table>")[0]
    rows = [
        [cell.split(">", 1)[1] for cell in row.split("</td>")[:-1]]
        for row in timings.split("<tr>")[2:]
    ]
    # the built-in live scenario's delays (app.engine.scenario.BUILTIN_YAML)
    assert ["9610-import", "CEB711", "lodgement", "exponential, mean 20 min"] in rows
    assert ["9610-import", "CEB513", "release", "lognormal, mean 36, sd 12 h"] in rows
    assert ["9710-export", "CEB507", "lodgement", "exponential, mean 15 min"] in rows
    assert ["9710-export", "CEB607, CEB509", "release", "deterministic, value 5 min"] in rows
    assert not any(row[1] == "CEB711" for row in rows if row[0] == "1210-import")
