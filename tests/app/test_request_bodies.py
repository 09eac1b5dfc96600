"""Request bodies are read once, size-limited while reading: one message, or a bundle."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from service_support import PartyFactory

from app.db.models import Role
from app.main import create_app
from app.settings import Settings

pytestmark = pytest.mark.usefixtures("database")


async def test_a_bundle_beyond_its_limit_is_413_whether_declared_or_streamed(
    settings: Settings, make_party: PartyFactory
) -> None:
    app = create_app(settings.model_copy(update={"max_bundle_bytes": 64}))
    party = make_party("3301960101", Role.EBP)
    big = b'{"documents": ["' + b"x" * 64 + b'"]}'

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: chunked upload
        for start in range(0, len(big), 8):
            yield big[start : start + 8]

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for content in (big, streamed()):
                response = await client.post(
                    "/api/v1/bundles", content=content, headers=party.headers
                )
                assert response.status_code == 413, response.text
                error = response.json()["error"]
                assert error["code"] == "request.too_large"
                assert error["message_en"] == "the bundle is larger than the limit of 64 bytes"
                assert error["message_zh"] == "报文包超过大小上限64字节"
            small = await client.post(
                "/api/v1/bundles", content=b'{"documents": []}', headers=party.headers
            )
            assert small.status_code == 422  # read, then refused as a bundle
            assert small.json()["error"]["code"] == "bundle.invalid"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"documents": ["\\ud800"]}', id="a lone surrogate"),
        pytest.param(b'{"documents": ' + b"[" * 100_000, id="JSON nested too deep"),
    ],
)
async def test_a_bundle_that_is_no_text_or_too_deep_is_422_not_500(
    client: httpx.AsyncClient, make_party: PartyFactory, body: bytes
) -> None:
    party = make_party("3301960102", Role.EBP)
    response = await client.post("/api/v1/bundles", content=body, headers=party.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "bundle.invalid"
