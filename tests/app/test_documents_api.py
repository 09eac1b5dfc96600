"""The documents endpoint's edges: content types, unidentifiable and multi-record messages,
receipts as XML, bundles, validation without storing, metrics."""

from __future__ import annotations

import httpx
from lxml import etree
from service_support import PartyFactory
from sqlalchemy import select
from submission_helpers import XML, document, register, sample, send, set_field, statuses, xml

from app import metrics
from app.db.engine import Database
from app.db.models import Delivery, Role
from declarations.messages import Direction, Kind, Regime
from declarations.samples import SampleSet


async def test_wrong_content_type_is_refused(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    party = make_party("3301960001", Role.EBC)
    response = await client.post(
        "/api/v1/documents",
        content=b"<a/>",
        headers={**party.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "request.not_xml"


async def test_an_unidentifiable_message_is_stored_and_answered_422(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    party = make_party("3301960002", Role.EBC)
    response = await client.post(
        "/api/v1/documents", content=b"<order>not CEB</order>", headers={**party.headers, **XML}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["report"]["valid"] is False
    # answered by the format check (CEB900), not by a business receipt
    assert [(r["message_code"], r["return_status"]) for r in body["receipts"]] == [("CEB900", -2)]
    stored = await client.get(
        f"/api/v1/documents/{body['document']['id']}/xml", headers=party.headers
    )
    assert stored.content == b"<order>not CEB</order>"


async def test_bad_xml_gets_a_finding_not_a_traceback(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    party = make_party("3301960003", Role.EBC)
    response = await client.post(
        "/api/v1/documents", content=b"<ceb:CEB311Message", headers={**party.headers, **XML}
    )
    assert response.status_code == 422
    finding = response.json()["report"]["findings"][0]
    assert finding["layer"] == "parse" and finding["line"] == 1


async def test_unknown_regime_argument(client: httpx.AsyncClient, make_party: PartyFactory) -> None:
    party = make_party("3301960004", Role.EBC)
    response = await client.post(
        "/api/v1/documents", content=b"<a/>", headers={**party.headers, **XML},
        params={"regime": "1234"},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "request.unknown_regime"


async def test_a_record_given_twice_in_one_message(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    """A message may hold up to 100 records (tests/app/test_batched_messages.py), each with its
    own guid: the same record twice is the request's error, and nothing is stored."""
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=61)
    parties = register(make_party, sample_set)
    order = document(sample_set, Kind.ORDER)
    record = order.find("{*}Order")
    assert record is not None
    record.addnext(etree.fromstring(etree.tostring(record)))
    response = await send(client, parties.seller, order)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "submission.record_guid_repeated"


async def test_the_answer_as_receipt_xml(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=62)
    parties = register(make_party, sample_set)
    response = await send(client, parties.seller, document(sample_set, Kind.ORDER), format="xml")
    assert response.status_code == 201
    root = etree.fromstring(response.content)
    assert etree.QName(root).localname == "CEB312Message"
    assert [e.text for e in root.iter("{*}returnStatus")] == ["2", "3", "120"]
    assert root.findtext("{*}OrderReturn/{*}orderNo") == sample_set.deal.order_no


def _single_party(sample_set: SampleSet, code: str) -> list[str]:
    """The set as sent by one enterprise that plays every role (platform, seller, payment,
    carrier, declarant)."""
    deal = sample_set.deal
    companies = (deal.platform, deal.seller, deal.payer_company, deal.carrier, deal.agent)
    texts = []
    for root in sample_set.documents.values():
        data = xml(root).decode()
        for company in companies:
            data = data.replace(company.code, code)
        texts.append(data)
    return texts


async def test_a_bundle_from_an_enterprise_playing_every_role(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=63)
    broker = make_party("3301970001", *Role)
    texts = _single_party(sample_set, broker.code)
    # Sent 清单 first: the bundle puts it last, so it meets a complete set.
    response = await client.post(
        "/api/v1/bundles", json={"documents": texts[::-1]}, headers=broker.headers
    )
    assert response.status_code == 201, response.text
    answers = response.json()["documents"]
    assert [a["document"]["message_code"] for a in answers] == [
        "CEB311", "CEB411", "CEB511", "CEB621"]  # fmt: skip
    assert [statuses(a) for a in answers] == [[2, 3, 120]] * 3 + [[2, 3]]
    assert answers[-1]["declaration"]["state"] == "clearance_ready"


async def test_a_bundle_with_a_message_not_the_callers_stores_nothing(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=64)
    seller = register(make_party, sample_set).seller
    texts = [xml(root).decode() for root in sample_set.documents.values()]
    response = await client.post(
        "/api/v1/bundles", json={"documents": texts}, headers=seller.headers
    )
    assert response.status_code == 403
    assert response.json()["error"]["message_en"].startswith("bundle document 2")
    listed = await client.get("/api/v1/declarations", headers=seller.headers)
    assert listed.json()["declarations"] == []
    malformed = await client.post("/api/v1/bundles", json={"docs": []}, headers=seller.headers)
    assert malformed.status_code == 422
    assert malformed.json()["error"]["code"] == "bundle.invalid"


async def test_validate_stores_nothing(client: httpx.AsyncClient, make_party: PartyFactory) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=65)
    outsider = make_party("3301980001", Role.EBP)  # any authenticated enterprise
    response = await client.post(
        "/api/v1/validate", content=xml(document(sample_set, Kind.ORDER)),
        headers={**outsider.headers, **XML},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["valid"] is True
    assert response.json()["documents"][0]["message_type"] == "CEB311"
    listed = await client.get("/api/v1/receipts", headers=outsider.headers)
    assert listed.json()["receipts"] == []


async def test_submissions_and_findings_are_counted(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=66)
    parties = register(make_party, sample_set)
    accepted = {"message": "CEB311", "outcome": "accepted"}
    rejected = {"message": "CEB511", "outcome": "rejected"}
    before = [_value("danchuang_submissions_total", labels) for labels in (accepted, rejected)]
    await send(client, parties.seller, document(sample_set, Kind.ORDER))
    waybill = document(sample_set, Kind.WAYBILL)
    set_field(waybill, "weight", "heavy")
    findings_before = _value(
        "danchuang_findings_total", {"rule": "schema.type", "severity": "error"}
    )
    answer = (await send(client, parties.carrier, waybill)).json()
    assert [f["rule"] for f in answer["report"]["findings"]] == ["schema.type"]
    after = [_value("danchuang_submissions_total", labels) for labels in (accepted, rejected)]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1]
    findings_after = _value(
        "danchuang_findings_total", {"rule": "schema.type", "severity": "error"}
    )
    assert findings_after - findings_before == 1
    # A resend is neither a new submission nor new findings.
    await send(client, parties.carrier, waybill)
    assert _value("danchuang_findings_total", {"rule": "schema.type", "severity": "error"}) == (
        findings_after
    )


def _value(name: str, labels: dict[str, str]) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


async def test_each_receipt_is_queued_for_the_senders_webhooks(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    sample_set = sample(Regime.DIRECT, Direction.IMPORT, seed=67)
    parties = register(make_party, sample_set)
    hook = await client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=parties.seller.headers
    )
    assert hook.status_code == 201
    answer = (await send(client, parties.seller, document(sample_set, Kind.ORDER))).json()
    with database.read() as session:
        queued = session.scalars(
            select(Delivery.receipt_id).where(Delivery.webhook_id == hook.json()["id"])
        ).all()
    assert sorted(queued) == [r["id"] for r in answer["receipts"]]
