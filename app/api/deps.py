"""Every FastAPI dependency of the service, in one place.

Routes declare what they need with the ``Annotated`` aliases below (``SettingsDep``,
``DatabaseDep``, ``KeyCacheDep``, ``QuotaDep``, ``XmlBody``, ``CurrentEnterprise``,
``SignaturesDep``, ``AdminDep``); they never
reach into ``app.state`` themselves; tests replace a dependency with
``app.dependency_overrides`` if they must. ``read_body`` is the one reader of request bodies.
The objects behind them (settings, key cache, database, worker) are built once by
``app.main`` (the database by its lifespan) and kept on ``app.state``.

Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in its
threadpool, and each such hop (queue a job, wake a thread, hand the result back to the event
loop) costs more than the work itself. Only those that read the database stay ``def``.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from app.accounts import KeyCache, Principal
from app.db.engine import Database
from app.errors import ServiceError, forbidden, unauthorized
from app.quota import LedgerQuota
from app.services import certificates
from app.settings import Settings
from declarations import SignaturePolicy


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_key_cache(request: Request) -> KeyCache:
    cache: KeyCache = request.app.state.key_cache
    return cache


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
KeyCacheDep = Annotated[KeyCache, Depends(get_key_cache)]


async def get_quota(database: DatabaseDep) -> LedgerQuota:
    """The buyers' annual quota for ``declarations.validate(..., quota=...)``."""
    return LedgerQuota(database)


QuotaDep = Annotated[LedgerQuota, Depends(get_quota)]


async def read_body(
    request: Request, limit: int, *, name: str = "message", name_zh: str = "报文"
) -> bytes:
    """The request body, refused with 413 ``request.too_large`` beyond ``limit`` bytes.

    The limit is enforced while reading, so a client that lies about (or omits) its
    Content-Length cannot make the service buffer more than the limit. ``name`` and
    ``name_zh`` say what the body is in the error message.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit, name, name_zh)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, name, name_zh)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int, name: str, name_zh: str) -> ServiceError:
    return ServiceError(
        413,
        "request.too_large",
        f"the {name} is larger than the limit of {limit} bytes",
        f"{name_zh}超过大小上限{limit}字节",
    )


async def xml_body(request: Request, settings: SettingsDep) -> bytes:
    """The request body of one XML message, refused with 413 beyond ``max_document_bytes``."""
    return await read_body(request, settings.max_document_bytes)


XmlBody = Annotated[bytes, Depends(xml_body)]

# auto_error=False: we answer a missing key ourselves, with our JSON error body.
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")


async def presented_key(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key_header)],
) -> str:
    key = bearer.credentials if bearer is not None else header_key
    if not key:
        raise unauthorized(
            "auth.missing_key",
            "send your API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            "请在请求头 Authorization: Bearer <密钥> 或 X-API-Key 中提供API密钥",
        )
    return key.strip()


KeyDep = Annotated[str, Depends(presented_key)]


async def current_enterprise(key: KeyDep, cache: KeyCacheDep, database: DatabaseDep) -> Principal:
    """The enterprise whose active API key came with the request (401 otherwise).

    A key verified in the last few seconds is answered on the event loop from the process's
    ``app.accounts.KeyCache`` (the comment above it says when a revocation takes effect);
    otherwise the database is asked, in the threadpool.
    """
    principal = cache.get(key)
    if principal is None:
        principal = await run_in_threadpool(cache.verify, database, key)
    if principal is None:
        raise unauthorized(
            "auth.unknown_key",
            "this API key is unknown or has been revoked",
            "API密钥无效或已被吊销",
        )
    return principal


CurrentEnterprise = Annotated[Principal, Depends(current_enterprise)]


async def signature_policy(
    enterprise: CurrentEnterprise, database: DatabaseDep, settings: SettingsDep
) -> SignaturePolicy:
    """How the caller's signatures are judged (``DANCHUANG_SIGNATURE_MODE``)."""
    return certificates.signature_policy(
        database, enterprise, settings.signature_mode,
        allow_rsa=settings.signature_allow_rsa_sha1,
    )  # fmt: skip


SignaturesDep = Annotated[SignaturePolicy, Depends(signature_policy)]


async def require_admin(key: KeyDep, settings: SettingsDep) -> None:
    """Only the operator's admin key (``DANCHUANG_ADMIN_KEY``) passes."""
    admin = settings.admin_key.get_secret_value() if settings.admin_key else ""
    if not admin:
        raise forbidden(
            "auth.admin_disabled",
            "the admin API is closed: no DANCHUANG_ADMIN_KEY is configured",
            "管理接口未开放：未配置 DANCHUANG_ADMIN_KEY",
        )
    if not hmac.compare_digest(key.encode(), admin.encode()):
        raise forbidden(
            "auth.not_admin",
            "this operation needs the admin key",
            "此操作需要管理员密钥",
        )


AdminDep = Depends(require_admin)
