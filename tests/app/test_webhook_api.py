"""The webhook endpoints (``/api/v1/webhooks``): a party registers, lists and deletes its
webhooks; the secret is shown once; bad input and, when the setting refuses them, private
targets are turned away at registration. Delivery is tested in test_service_webhooks.py.
"""

from __future__ import annotations

import httpx
import pytest
from service_support import PartyFactory

from app.db.models import Role
from app.main import create_app
from app.settings import Settings


@pytest.mark.usefixtures("database")
async def test_webhook_api_shows_the_secret_once_and_checks_input(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    party = make_party("3301960101", Role.EBP)
    created = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://example.test/hook", "events": ["CEB622", "CEB312"]},
        headers=party.headers,
    )
    assert created.status_code == 201, created.text
    hook = created.json()
    assert len(hook["secret"]) >= 32 and hook["events"] == ["CEB312", "CEB622"]
    assert hook["receipts_per_post"] == 1
    listed = (await client.get("/api/v1/webhooks", headers=party.headers)).json()
    assert listed[0]["id"] == hook["id"] and "secret" not in listed[0]

    for body, code in [
        ({"url": "ftp://example.test/x"}, "request.invalid"),
        ({"url": "https://example.test/x", "events": ["CEB311"]}, "webhook.unknown_event"),
        ({"url": "https://example.test/x", "secret": "short"}, "webhook.weak_secret"),
        ({"url": "https://example.test/x", "receipts_per_post": 0}, "request.invalid"),
        ({"url": "https://example.test/x", "receipts_per_post": 101}, "request.invalid"),
    ]:
        response = await client.post("/api/v1/webhooks", json=body, headers=party.headers)
        assert response.status_code == 422 and response.json()["error"]["code"] == code

    together = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://example.test/many", "receipts_per_post": 100},
        headers=party.headers,
    )
    assert together.status_code == 201 and together.json()["receipts_per_post"] == 100
    listed = (await client.get("/api/v1/webhooks", headers=party.headers)).json()
    assert [h["receipts_per_post"] for h in listed] == [1, 100]
    await client.delete(f"/api/v1/webhooks/{together.json()['id']}", headers=party.headers)

    deleted = await client.delete(f"/api/v1/webhooks/{hook['id']}", headers=party.headers)
    assert deleted.status_code == 204
    assert (await client.get("/api/v1/webhooks", headers=party.headers)).json() == []


@pytest.mark.usefixtures("database")
async def test_with_private_targets_refused_such_a_webhook_is_not_registered(
    settings: Settings, make_party: PartyFactory
) -> None:
    party = make_party("3301960101", Role.EBP)
    app = create_app(settings.model_copy(update={"webhook_private_targets": False}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for url, address in [
                ("http://127.0.0.1:8080/hook", "127.0.0.1"),
                ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
                ("http://10.0.0.7/hook", "10.0.0.7"),
                ("http://[::1]:8080/hook", "::1"),
                ("http://[::ffff:192.168.1.1]/hook", "192.168.1.1"),
            ]:
                response = await client.post(
                    "/api/v1/webhooks", json={"url": url}, headers=party.headers
                )
                assert response.status_code == 422, url
                error = response.json()["error"]
                assert error["code"] == "webhook.private_target"
                assert f"resolves to {address}," in error["message_en"]
            public = await client.post(
                "/api/v1/webhooks",
                json={"url": "https://93.184.215.14/hook"},
                headers=party.headers,
            )
            assert public.status_code == 201, public.text
