"""The import message after the 清单 not yet live (CEB711) is known and validated, and the live
intake says plainly that it does not take it yet (CEB623, CEB513 and CEB625 it takes:
test_cancellation.py, test_delivery.py, test_returns.py); customs' own (CEB816, 818) and every
receipt are refused as customs' to send."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from service_support import PartyFactory
from sqlalchemy import func, select
from submission_helpers import XML

from app.db.engine import Database
from app.db.models import DocumentRow, Role
from declarations import FormatReceipt, build_format_receipt


async def test_the_official_site_entry_is_taken_live(
    client: httpx.AsyncClient, database: Database, make_party: PartyFactory, official_dir: Path
) -> None:
    """Every sendable import message of the spec is taken live now: the official CEB711 sample,
    from its site operator (its copCode is not its operatorCode: the sample is fixed up to be
    the operator's own), is stored and answered, here refused as its waybill is undeclared."""
    party = make_party("1101110326", Role.OPERATOR)  # the sample's operatorCode
    body = (official_dir / "samples/import/CEB711Message.xml").read_bytes()
    body = body.replace(b"<ceb:copCode>1101180326<", b"<ceb:copCode>1101110326<")
    checked = await client.post("/api/v1/validate", content=body, headers={**party.headers, **XML})
    assert checked.status_code == 200, checked.text
    assert not [f for f in checked.json()["findings"] if f["layer"] in ("parse", "schema")]
    sent = await client.post("/api/v1/documents", content=body, headers={**party.headers, **XML})
    assert sent.status_code == 201, sent.text
    assert [r["return_status"] for r in sent.json()["receipts"]] == [2, 3, 100]
    with database.read() as session:  # stored, with its answer
        assert session.scalar(select(func.count()).select_from(DocumentRow)) == 1


async def test_a_receipt_of_a_message_after_the_list_is_customs_to_send(
    client: httpx.AsyncClient, make_party: PartyFactory, official_dir: Path
) -> None:
    party = make_party("3301960702", Role.AGENT)
    body = (official_dir / "samples/import/CEB624Message.xml").read_bytes()
    sent = await client.post("/api/v1/documents", content=body, headers={**party.headers, **XML})
    assert (sent.status_code, sent.json()["error"]["code"]) == (403, "access.message_not_sendable")
    # the format-check receipt too: it is known, and customs' to send
    guid = "4CDE1CFD-EDED-46B1-946C-B8022E42FC94"
    answer = FormatReceipt(-2, "x", datetime.now(UTC), b"<x/>", "Unknown", guid, guid)
    ceb900 = build_format_receipt(answer)
    sent = await client.post("/api/v1/documents", content=ceb900, headers={**party.headers, **XML})
    assert (sent.status_code, sent.json()["error"]["code"]) == (403, "access.message_not_sendable")


@pytest.mark.parametrize("code", ["CEB701"])
async def test_an_export_message_after_the_list_is_validated_but_not_taken_live_yet(
    client: httpx.AsyncClient,
    database: Database,
    make_party: PartyFactory,
    official_dir: Path,
    code: str,
) -> None:
    """The export message after the 清单 that is not live yet (the summary application) is
    known and checked; the live service does not take it: 422, nothing stored."""
    party = make_party("3301960702", Role.OPERATOR, Role.LOGISTICS)
    body = (official_dir / f"samples/export/{code}Message.xml").read_bytes()
    checked = await client.post("/api/v1/validate", content=body, headers={**party.headers, **XML})
    assert checked.status_code == 200, checked.text
    assert checked.json()["documents"][0]["message_type"] == code
    sent = await client.post("/api/v1/documents", content=body, headers={**party.headers, **XML})
    assert (sent.status_code, sent.json()["error"]["code"]) == (422, "submission.not_live_yet")
    with database.read() as session:  # nothing stored
        assert session.scalar(select(func.count()).select_from(DocumentRow)) == 0
