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


@pytest.mark.parametrize("code", ["CEB711"])
async def test_a_message_after_the_list_is_validated_but_not_taken_live_yet(
    client: httpx.AsyncClient,
    database: Database,
    make_party: PartyFactory,
    official_dir: Path,
    code: str,
) -> None:
    party = make_party("3301960701", Role.AGENT)
    body = (official_dir / f"samples/import/{code}Message.xml").read_bytes()
    checked = await client.post("/api/v1/validate", content=body, headers={**party.headers, **XML})
    assert checked.status_code == 200, checked.text
    assert not [f for f in checked.json()["findings"] if f["layer"] in ("parse", "schema")]
    sent = await client.post("/api/v1/documents", content=body, headers={**party.headers, **XML})
    assert sent.status_code == 422
    error = sent.json()["error"]
    assert error["code"] == "submission.not_live_yet" and code in error["message_en"]
    with database.read() as session:  # nothing stored
        assert session.scalar(select(func.count()).select_from(DocumentRow)) == 0


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
