"""API keys and access: hashing, 401/403 bodies, the admin API, enterprises kept apart."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from service_support import PartyFactory
from sqlalchemy import select

from app import accounts
from app.api.deps import CurrentEnterprise, QuotaDep, XmlBody
from app.db.engine import Database
from app.db.models import ApiKey, Role
from app.main import create_app
from app.security import generate_key, hash_key, key_matches, key_prefix
from app.settings import Settings

pytestmark = pytest.mark.usefixtures("database")


def _error(response: httpx.Response, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    error: dict[str, str] = response.json()["error"]
    assert error["code"] == code
    assert error["message_en"] and error["message_zh"]
    return error


def test_keys_are_random_prefixed_and_hashed() -> None:
    one, two = generate_key(), generate_key()
    assert one.key != two.key and one.prefix != two.prefix
    assert one.key.startswith(one.prefix + "_") and len(one.key) >= 50
    assert one.key_hash == hashlib.sha256(one.key.encode()).hexdigest() == hash_key(one.key)
    assert key_prefix(one.key) == one.prefix
    assert key_matches(one.key, one.key_hash) and not key_matches(two.key, one.key_hash)
    for bad in ["", "dck_", "Bearer x", "dck_12345678", "dck_1234567_xx", "abc_12345678_xyz"]:
        assert key_prefix(bad) is None


async def test_missing_unknown_and_revoked_keys_get_401(
    client: httpx.AsyncClient, database: Database, make_party: PartyFactory
) -> None:
    error = _error(await client.get("/api/v1/enterprises/me"), 401, "auth.missing_key")
    assert "Bearer" in error["message_en"]
    response = await client.get("/api/v1/enterprises/me", headers={"X-API-Key": "dck_nope"})
    _error(response, 401, "auth.unknown_key")
    assert response.headers["www-authenticate"] == "Bearer"

    party = make_party("3301960101", Role.EBP)
    # A key with the right prefix but a wrong secret is refused too.
    forged = party.key[:13] + "A" * (len(party.key) - 13)
    response = await client.get("/api/v1/enterprises/me", headers={"X-API-Key": forged})
    _error(response, 401, "auth.unknown_key")

    with database.write() as session:
        enterprise = accounts.find_enterprise(session, party.code)
        assert accounts.revoke_keys(session, enterprise) == 1
    response = await client.get("/api/v1/enterprises/me", headers=party.headers)
    _error(response, 401, "auth.unknown_key")


async def test_bearer_and_x_api_key_both_identify_the_enterprise(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    party = make_party("3301960101", Role.EBP, Role.EBC)
    for headers in (party.headers, {"X-API-Key": party.key}):
        response = await client.get("/api/v1/enterprises/me", headers=headers)
        assert response.status_code == 200
        assert response.json()["code"] == party.code
        assert response.json()["roles"] == ["ebc", "ebp"]


async def test_admin_registers_lists_and_issues_keys(
    client: httpx.AsyncClient, database: Database, admin_headers: dict[str, str]
) -> None:
    body = {"code": "4403960201", "name": "深圳测试平台", "roles": ["ebp", "ebc"],
            "credit_class": "aeo"}  # fmt: skip
    response = await client.post("/api/v1/enterprises", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    assert response.json()["code"] == "4403960201"
    assert response.json()["credit_class"] == "aeo"
    again = await client.post("/api/v1/enterprises", json=body, headers=admin_headers)
    _error(again, 409, "enterprise.exists")

    listed = await client.get("/api/v1/enterprises", headers=admin_headers)
    assert [e["code"] for e in listed.json()] == ["4403960201"]

    issued = await client.post(
        "/api/v1/enterprises/4403960201/keys", json={"label": "ci"}, headers=admin_headers
    )
    assert issued.status_code == 201
    key = issued.json()["key"]
    assert issued.json()["label"] == "ci"
    me = await client.get("/api/v1/enterprises/me", headers={"Authorization": f"Bearer {key}"})
    assert me.json()["name"] == "深圳测试平台"
    with database.read() as session:  # the key shown once is not in the database
        stored = session.scalars(select(ApiKey.key_hash)).all()
        assert key not in stored and hash_key(key) in stored

    missing = await client.post("/api/v1/enterprises/0000000000/keys", headers=admin_headers)
    _error(missing, 404, "enterprise.not_found")

    prefix = issued.json()["prefix"]
    assert key.startswith(prefix + "_")
    revoked = await client.delete(
        f"/api/v1/enterprises/4403960201/keys/{prefix}", headers=admin_headers
    )
    assert revoked.status_code == 204
    me = await client.get("/api/v1/enterprises/me", headers={"X-API-Key": key})
    _error(me, 401, "auth.unknown_key")
    again = await client.delete(
        "/api/v1/enterprises/4403960201/keys/dck_00000000", headers=admin_headers
    )
    _error(again, 404, "key.not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "12345", "name": "x", "roles": ["ebp"]}, "code"),
        ({"code": "1234567890", "name": "x", "roles": ["seller"]}, "roles"),
        ({"code": "1234567890", "name": "x", "roles": []}, "roles"),
        ({"code": "1234567890", "name": "x", "roles": ["ebp"], "credit_class": "A"}, "credit"),
    ],
)
async def test_invalid_enterprise_bodies_name_the_field(
    client: httpx.AsyncClient, admin_headers: dict[str, str], body: dict[str, object], field: str
) -> None:
    response = await client.post("/api/v1/enterprises", json=body, headers=admin_headers)
    error = _error(response, 422, "request.invalid")
    assert field in error["message_en"]


async def test_enterprises_cannot_use_the_admin_api_or_act_as_each_other(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    platform = make_party("3301960101", Role.EBP)
    carrier = make_party("3301960104", Role.LOGISTICS)
    response = await client.get("/api/v1/enterprises", headers=platform.headers)
    _error(response, 403, "auth.not_admin")
    response = await client.post("/api/v1/enterprises/3301960104/keys", headers=platform.headers)
    _error(response, 403, "auth.not_admin")

    created = await client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}, headers=platform.headers
    )
    hook_id = created.json()["id"]
    # The carrier neither sees nor deletes the platform's webhook.
    assert (await client.get("/api/v1/webhooks", headers=carrier.headers)).json() == []
    response = await client.delete(f"/api/v1/webhooks/{hook_id}", headers=carrier.headers)
    _error(response, 404, "webhook.not_found")
    mine = await client.get("/api/v1/webhooks", headers=platform.headers)
    assert [h["id"] for h in mine.json()] == [hook_id]


async def test_admin_api_is_closed_without_an_admin_key(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    client_app = client._transport.app  # type: ignore[attr-defined]
    client_app.state.settings = client_app.state.settings.model_copy(update={"admin_key": None})
    response = await client.get("/api/v1/enterprises", headers=admin_headers)
    _error(response, 403, "auth.admin_disabled")


async def test_xml_body_and_quota_dependencies_for_the_submission_routes(
    settings: Settings, make_party: PartyFactory
) -> None:
    """The dependencies later routes build on: size-limited XML bodies and the quota ledger."""
    app = create_app(settings.model_copy(update={"max_document_bytes": 64}))

    @app.post("/probe")
    def probe(body: XmlBody, quota: QuotaDep, who: CurrentEnterprise) -> dict[str, object]:
        return {"size": len(body), "used": str(quota.used("buyer", 2026)), "code": who.code}

    party = make_party("3301960101", Role.EBP)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ok = await client.post("/probe", content=b"<a/>" * 16, headers=party.headers)
            assert ok.json() == {"size": 64, "used": "0", "code": party.code}
            big = await client.post("/probe", content=b"<a/>" * 17, headers=party.headers)
            _error(big, 413, "request.too_large")

            async def stream() -> AsyncIterator[bytes]:  # no Content-Length: chunked upload
                for _ in range(17):
                    yield b"<a/>"

            chunked = await client.post("/probe", content=stream(), headers=party.headers)
            _error(chunked, 413, "request.too_large")


async def test_credit_class_old_spellings_are_accepted_and_answered_in_the_model_spelling(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    answered = {}
    for code, sent in (("4403960301", "AEO"), ("4403960302", "low"), ("4403960303", None)):
        body = {"code": code, "name": "x", "roles": ["ebp"]}
        if sent is not None:
            body["credit_class"] = sent
        response = await client.post("/api/v1/enterprises", json=body, headers=admin_headers)
        assert response.status_code == 201, response.text
        answered[sent] = response.json()["credit_class"]
    assert answered == {"AEO": "aeo", "low": "low_credit", None: "general"}

    body = {"code": "4403960304", "name": "x", "roles": ["ebp"], "credit_class": "gold"}
    refused = await client.post("/api/v1/enterprises", json=body, headers=admin_headers)
    error = _error(refused, 422, "request.invalid")
    assert "credit_class" in error["message_en"] and "low_credit" in error["message_en"]
