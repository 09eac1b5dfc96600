"""``/account-books``: the operator registers a zone warehouse's account book for an
enterprise, sees its items' stock, and is told which line of the form is wrong."""

from __future__ import annotations

import httpx
from dashboard_support import assert_self_contained

from app import accounts
from app.db.engine import Database
from app.db.models import Role


async def test_a_book_registered_on_the_page_shows_its_stock(
    client: httpx.AsyncClient, database: Database
) -> None:
    with database.write() as session:
        accounts.create_enterprise(session, code="4403961601", name="Zone WH", roles=[Role.AGENT])
    empty = await client.get("/account-books")
    assert empty.status_code == 200 and 'id="no-books"' in empty.text
    assert_self_contained(empty.text)
    form = {"enterprise": "4403961601", "ems_no": "T5141W961601",
            "items": "8509809001 100 声波电动牙刷\n2106909002 12.5"}  # fmt: skip
    made = await client.post("/account-books", data=form)
    assert made.status_code == 200
    section = made.text.split('id="book-T5141W961601"')[1].split("</section>")[0]
    assert "4403961601" in section and "声波电动牙刷" in section
    assert '<td class="stock">100.00000</td>' in section or '<td class="stock">100</td>' in section
    assert "12.5" in section
    bad = await client.post("/account-books", data={**form, "items": "8509809001 lots"})
    assert bad.status_code == 422 and "line 1" in bad.text
    unknown = await client.post("/account-books", data={**form, "enterprise": "4403969999"})
    assert unknown.status_code == 404 and 'id="form-error"' in unknown.text
