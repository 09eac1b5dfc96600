"""The declaration page's documents table: each document with its latest receipt, consistent with
the declaration's state. The engine's receipts (120 … 899) are filed under the declaration and
answer its current 清单, so the 清单's row must show them — not the 3 the submission side gave."""

from __future__ import annotations

import httpx
from dashboard_support import SendSet
from lxml import html
from sqlalchemy import select

from app.db.engine import Database
from app.db.models import Declaration, DocumentRow
from app.engine import ClearanceEngine
from declarations.messages import Direction, Regime


def document_rows(page: str) -> dict[str, list[int]]:
    """message code -> the status codes the documents table shows for it (one per row)."""
    tree = html.fromstring(page)
    shown: dict[str, list[int]] = {}
    for row in tree.xpath('//table[@id="documents"]/tbody/tr'):
        code = row.xpath("./td[2]")[0].text_content().strip()
        status = row.xpath('.//td[@class="latest"]//span[contains(@class, "status")]/b')
        shown.setdefault(code, []).append(int(status[0].text))
    return shown


async def force_release_and_clear(database: Database, ident: int) -> None:
    with database.write() as session:
        found = session.get(Declaration, ident)
        assert found is not None and found.state == "clearance_ready"
        found.forced_outcome = "RELEASE"
    ClearanceEngine(database, clock_speed="instant").run_until_idle()


async def test_each_document_row_shows_its_latest_receipt_at_899(
    client: httpx.AsyncClient, database: Database, send_set: SendSet
) -> None:
    ident = await send_set(Regime.DIRECT, Direction.IMPORT)
    await force_release_and_clear(database, ident)
    with database.read() as session:
        found = session.get(Declaration, ident)
        assert found is not None
        assert (found.state, found.return_status) == ("cleared", 899)

    page = (await client.get(f"/declarations/{ident}")).text
    assert document_rows(page) == {
        "CEB311": [120],
        "CEB411": [120],
        "CEB511": [120],
        "CEB621": [899],  # today: 3 发送海关成功, the submission side's last word
        "CEB513": [399],  # danchuang, playing the carrier: delivered after release
    }


async def test_an_export_set_cleared_reads_the_same(
    client: httpx.AsyncClient, database: Database, send_set: SendSet
) -> None:
    ident = await send_set(Regime.DIRECT, Direction.EXPORT)
    await force_release_and_clear(database, ident)
    page = (await client.get(f"/declarations/{ident}")).text
    shown = document_rows(page)
    assert shown.pop("CEB603") == [899]
    assert shown == {"CEB303": [120], "CEB403": [120], "CEB505": [120]}


async def test_before_the_engine_the_inventory_row_shows_the_submission_side_receipt(
    client: httpx.AsyncClient, database: Database, send_set: SendSet
) -> None:
    ident = await send_set(Regime.DIRECT, Direction.IMPORT)
    page = (await client.get(f"/declarations/{ident}")).text
    with database.read() as session:
        found = session.get(Declaration, ident)
        assert found is not None
        inventory = session.scalars(
            select(DocumentRow).where(
                DocumentRow.declaration_id == ident, DocumentRow.message_code == "CEB621"
            )
        ).one()
    # Waiting for the engine: the 清单's latest receipt is the declaration's, 3 (sent to customs).
    assert found.return_status == inventory.return_status == 3
    assert document_rows(page)["CEB621"] == [3]
