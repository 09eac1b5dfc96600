"""The import message after the 清单 not yet live (CEB711) is known and validated, and the live
intake says plainly that it does not take it yet (CEB623, CEB513 and CEB625 it takes:
test_cancellation.py, test_delivery.py, test_returns.py); customs' own (CEB816, 818) and every
receipt are refused as customs' to send."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
from lxml import etree
from service_support import PartyFactory
from sqlalchemy import func, select
from submission_helpers import XML, C

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


async def test_the_official_summary_application_is_taken_live(
    client: httpx.AsyncClient, database: Database, make_party: PartyFactory, official_dir: Path
) -> None:
    """The export summary application (CEB701) is live too (tests/app/test_export_summaries.py):
    the first record of the official sample, from its declarant, is stored and answered, here
    refused as the 清单 it names are none of the declarant's."""
    party = make_party("1105910159", Role.AGENT)  # the sample's agentCode and copCode
    root = etree.fromstring((official_dir / "samples/export/CEB701Message.xml").read_bytes())
    for extra in root.findall(f"{C}SummaryApply")[1:]:  # the live intake takes one record
        root.remove(extra)
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    sent = await client.post("/api/v1/documents", content=body, headers={**party.headers, **XML})
    assert sent.status_code == 201, sent.text
    receipts = sent.json()["receipts"]
    assert [(r["message_code"], r["return_status"]) for r in receipts] == [
        ("CEB702", 2),
        ("CEB702", 3),
        ("CEB702", 100),
    ]
    assert "no export 清单 Invt20180507000001 of yours" in receipts[-1]["return_info"]
    with database.read() as session:  # stored, with its answer
        assert session.scalar(select(func.count()).select_from(DocumentRow)) == 1
