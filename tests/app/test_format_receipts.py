"""A message that cannot be parsed or fails the schema is answered with the format-check
receipt CEB900 alone (CEB spec 202205 §3.19 pp. 104-106); a business-rule failure keeps its
business receipts."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from lxml import etree
from service_support import PartyFactory
from submission_helpers import XML, document, register, sample, send, set_field, statuses, xml

from app.db.models import Role
from declarations import CEB_NS, Direction, Kind, Regime

_C = f"{{{CEB_NS}}}"


@pytest.fixture(scope="module")
def official_import_schema(official_dir: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(official_dir / "xsd/ceb-import-202205.xsd"))


async def _format_receipt(
    client: httpx.AsyncClient, headers: dict[str, str], document_id: int
) -> etree._Element:
    answer = await client.get(
        f"/api/v1/documents/{document_id}/receipts", params={"format": "xml"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    return etree.fromstring(answer.content)


@pytest.mark.parametrize(
    "case",
    [
        (b"<ceb:CEB311Message", -1),  # not well-formed
        (b"<order>not CEB</order>", -2),  # no CEB message
    ],
)
async def test_a_message_that_cannot_be_identified_gets_a_ceb900(
    client: httpx.AsyncClient,
    make_party: PartyFactory,
    official_import_schema: etree.XMLSchema,
    case: tuple[bytes, int],
) -> None:
    body, status = case
    party = make_party("3301960901", Role.EBC)
    response = await client.post(
        "/api/v1/documents", content=body, headers={**party.headers, **XML}
    )
    assert response.status_code == 422
    answer = response.json()
    assert [(r["message_code"], r["return_status"]) for r in answer["receipts"]] == [
        ("CEB900", status)
    ]
    receipt = await _format_receipt(client, party.headers, answer["document"]["id"])
    assert official_import_schema.validate(receipt), official_import_schema.error_log
    node = receipt.find(f"{_C}MessageReturn")
    assert node is not None
    assert node.findtext(f"{_C}returnStatus") == str(status)
    assert node.findtext(f"{_C}oriMessageType") == "Unknown"
    assert node.findtext(f"{_C}oriBizMessage") == body.decode()
    assert "[" in (node.findtext(f"{_C}returnInfo") or "")  # names the rule


async def test_a_schema_failure_gets_a_ceb900_instead_of_2_3_100(
    client: httpx.AsyncClient, make_party: PartyFactory, official_import_schema: etree.XMLSchema
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=41)
    parties = register(make_party, s)
    order = document(s, Kind.ORDER)
    set_field(order, "orderNo", "N" * 61)  # longer than the schema allows
    sent = xml(order)
    response = await send(client, parties.seller, sent)
    answer = response.json()
    assert [(r["message_code"], r["return_status"]) for r in answer["receipts"]] == [("CEB900", -2)]
    assert answer["document"]["message_code"] == "CEB311"
    assert "schema.too-long" in answer["receipts"][0]["return_info"]
    receipt = await _format_receipt(client, parties.seller.headers, answer["document"]["id"])
    assert official_import_schema.validate(receipt), official_import_schema.error_log
    node = receipt.find(f"{_C}MessageReturn")
    assert node is not None
    assert node.findtext(f"{_C}oriMessageType") == "CEB311Message"
    assert node.findtext(f"{_C}guid") == order.get("guid")
    assert node.findtext(f"{_C}oriBizMessage") == sent.decode()

    # the seller's feed has it, and nothing else
    feed = await client.get("/api/v1/receipts", headers=parties.seller.headers)
    assert [r["message_code"] for r in feed.json()["receipts"]] == ["CEB900"]


async def test_a_business_rule_failure_keeps_its_business_receipts(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    s = sample(Regime.DIRECT, Direction.IMPORT, seed=42)
    parties = register(make_party, s)
    order = document(s, Kind.ORDER)
    set_field(order, "acturalPaid", "0.01")  # fits the schema, breaks a rule
    answer = (await send(client, parties.seller, order)).json()
    assert {r["message_code"] for r in answer["receipts"]} == {"CEB312"}
    *before, final = statuses(answer)
    assert before == [2, 3] and (final == 100 or final < 0)
