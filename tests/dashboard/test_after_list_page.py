"""The declaration page shows the messages after a 清单 like any document of the set: a delivery
record (CEB513) and a return (CEB625) with their receipts, and the delivery time."""

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
from declarations.sample_followups import import_delivery, import_return
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
    sent = {
        Role.LOGISTICS: import_delivery(deal),
        Role.AGENT: import_return(deal, invt, {deal.lines[0].gnum: Decimal(1)}),
    }
    for role, root in sent.items():
        answer = await client.post(
            "/api/v1/documents",
            content=to_bytes(root),
            headers={"Authorization": f"Bearer {keys[role]}", "Content-Type": "application/xml"},
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["receipts"][-1]["return_status"] == 399
    page = (await client.get(f"/declarations/{ident}")).text
    for code in ("CEB513", "CEB625", "CEB514", "CEB626"):
        assert code in page, code
    assert 'id="delivered-at"' in page
    with database.read() as session:
        declaration = session.get(Declaration, ident)
        assert declaration is not None and declaration.delivered_at is not None
