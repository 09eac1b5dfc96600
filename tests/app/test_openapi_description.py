"""The OpenAPI description tells the truth, and ids beyond 64 bits are a client's error.

Ids and cursors above 2^63-1 reached the database, where SQLite could not bind them: a 500
(OverflowError) on eight endpoints. They are now refused by the parameters' own bounds (422,
the usual error body). The description documents every status an operation answers with the
real error body, real 2xx schemas and the XML request bodies; tests/app/test_openapi_schemathesis.py
checks the live server against it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from service_support import PartyFactory

from app.api import schemas
from app.api.routes.documents import outcome_json
from app.db.models import Declaration, DocumentRow, Receipt, Role
from app.main import create_app
from app.receipts import receipt_json
from app.services import history
from app.services.submission import Outcome
from app.settings import Settings
from declarations.findings import DocumentSummary, Finding, Layer, Report, Severity

TOO_BIG = [2**63, 2**64 + 7]

# The eight operations that answered 500 for such ids (method, path with {n}, JSON body).
ID_OPERATIONS = [
    ("GET", "/api/v1/documents/{n}", None),
    ("GET", "/api/v1/documents/{n}/xml", None),
    ("GET", "/api/v1/documents/{n}/receipts", None),
    ("GET", "/api/v1/declarations/{n}", None),
    ("POST", "/api/v1/declarations/{n}/outcome", {"outcome": None}),
    ("DELETE", "/api/v1/webhooks/{n}", None),
    ("GET", "/api/v1/receipts?after={n}", None),
    ("GET", "/api/v1/declarations?after={n}", None),
]


def assert_error_body(answer: httpx.Response) -> dict[str, Any]:
    body = answer.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message_en", "message_zh"}, body
    return dict(body["error"])


Operation = tuple[str, str, dict[str, Any] | None]
OPERATION_IDS = [f"{method} {path}" for method, path, _ in ID_OPERATIONS]


@pytest.mark.parametrize("value", TOO_BIG)
@pytest.mark.parametrize("operation", ID_OPERATIONS, ids=OPERATION_IDS)
async def test_an_id_beyond_64_bits_is_refused_with_the_error_body(
    client: httpx.AsyncClient, make_party: PartyFactory, operation: Operation, value: int
) -> None:
    method, path, body = operation
    party = make_party("3301960105", Role.AGENT)
    answer = await client.request(method, path.format(n=value), json=body, headers=party.headers)
    assert answer.status_code == 422, answer.text
    error = assert_error_body(answer)
    assert error["code"] == "request.invalid"


@pytest.mark.parametrize("operation", ID_OPERATIONS, ids=OPERATION_IDS)
async def test_the_largest_id_is_an_ordinary_answer(
    client: httpx.AsyncClient, make_party: PartyFactory, operation: Operation
) -> None:
    method, path, body = operation
    party = make_party("3301960105", Role.AGENT)
    answer = await client.request(
        method, path.format(n=2**63 - 1), json=body, headers=party.headers
    )
    if "after=" in path:
        assert answer.status_code == 200, answer.text
        assert answer.json()["cursor"] == 2**63 - 1
    else:
        assert answer.status_code == 404, answer.text
        assert_error_body(answer)


async def test_a_405_names_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    answer = await client.options("/api/v1/webhooks")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET, POST"
    assert_error_body(answer)
    answer = await client.put("/api/v1/webhooks/1")
    assert answer.headers["allow"] == "DELETE"


# -- the description --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def description() -> dict[str, Any]:
    app = create_app(Settings(database_url="sqlite://", _env_file=None))  # type: ignore[call-arg]
    return app.openapi()


def operations(description: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in description["paths"].items()
        for method, operation in item.items()
    ]


ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


def test_every_error_answer_is_described_with_the_real_error_body(
    description: dict[str, Any],
) -> None:
    assert "HTTPValidationError" not in json.dumps(description)  # FastAPI's, not ours
    for name, operation in operations(description):
        for status, response in operation["responses"].items():
            if int(status) < 400 or name == "GET /healthz":  # its 503 reports its checks
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema == ERROR_REF or ERROR_REF in schema.get("anyOf", []), (name, status)


def test_every_operation_that_takes_a_key_documents_401(description: dict[str, Any]) -> None:
    keyed = [(name, op) for name, op in operations(description) if op.get("security")]
    assert len(keyed) >= 15
    for name, operation in keyed:
        assert "401" in operation["responses"], name


def test_every_success_has_a_real_schema(description: dict[str, Any]) -> None:
    for name, operation in operations(description):
        for status, response in operation["responses"].items():
            if not status.startswith("2") or status == "204":
                continue
            assert response["content"], (name, status)
            for media_type, content in response["content"].items():
                assert content.get("schema"), (name, status, media_type)


def test_the_xml_bodies_are_described(description: dict[str, Any]) -> None:
    for path in ("/api/v1/documents", "/api/v1/validate"):
        body = description["paths"][path]["post"]["requestBody"]
        assert body["required"] is True
        assert "application/xml" in body["content"], path
    reads = description["paths"]["/api/v1/documents/{document_id}/xml"]["get"]
    assert set(reads["responses"]["200"]["content"]) == {"application/xml"}


# -- the response models hold every field the service sends -----------------------------------

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def test_the_response_models_match_what_the_service_sends() -> None:
    """The models are the description of the builders' dicts; a field added to one and not the
    other would be dropped from the answer (response_model) or undocumented."""
    document = DocumentRow(
        id=1, guid="G", message_code="CEB311", direction="import", current=True, received_at=NOW
    )
    declaration = Declaration(
        id=2, regime="9610", direction="import", order_no="O", ebp_code="E", state="incomplete",
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    receipt = Receipt(
        id=3, message_code="CEB312", return_status=2, return_info="", declaration_id=2, seq=1,
        created_at=NOW,
    )  # fmt: skip
    finding = Finding("R1", Layer.SCHEMA, Severity.ERROR, "en", "zh")
    report = Report([finding], [DocumentSummary("<body>")])
    outcome = Outcome(document, [receipt], report, declaration=declaration)
    pairs: list[tuple[type[BaseModel], dict[str, Any]]] = [
        (schemas.DocumentOut, history.document_json(document)),
        (schemas.DeclarationOut, history.declaration_json(declaration)),
        (schemas.ReceiptOut, receipt_json(receipt)),
        (schemas.ReportOut, report.to_dict()),
        (schemas.FindingOut, finding.to_dict()),
        (schemas.SubmissionOut, outcome_json(outcome)),
    ]
    for model, sent in pairs:
        assert _fields(model) == set(sent), model.__name__
        model.model_validate(sent)
