"""An enterprise's webhooks: where its receipts are pushed. Each sees only its own."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Response, status
from sqlalchemy import select

from app.api.deps import CurrentEnterprise, DatabaseDep, SettingsDep
from app.api.schemas import RowId, errors
from app.api.schemas_webhooks import WebhookCreated, WebhookIn, WebhookOut
from app.db.models import Webhook
from app.errors import ServiceError, not_found
from app.webhooks.targets import private_address
from declarations import BY_CODE, Kind

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

# What customs sends: the receipts, the tax bill and its status (CEB816, CEB818) and the
# summary result (CEB792).
RECEIPT_CODES = sorted(
    code
    for code, m in BY_CODE.items()
    if m.is_receipt or m.kind in (Kind.TAX_BILL, Kind.TAX_STATUS, Kind.SUMMARY_RESULT)
)


def _out(hook: Webhook) -> WebhookOut:
    return WebhookOut(
        id=hook.id, url=hook.url, events=hook.events, xml=bool(hook.xml),
        receipts_per_post=hook.receipts_per_post, active=hook.active, created_at=hook.created_at,
    )  # fmt: skip


def _invalid(code: str, en: str, zh: str) -> ServiceError:
    return ServiceError(422, code, en, zh)


@router.post("", status_code=status.HTTP_201_CREATED, responses=errors(400, 401, 422))
def create_webhook(
    body: WebhookIn, enterprise: CurrentEnterprise, database: DatabaseDep, settings: SettingsDep
) -> WebhookCreated:
    """Subscribe a URL. The signing secret is returned here once; docs/api.md ("Webhooks")
    says how deliveries are signed and retried."""
    if settings.webhook_require_https and body.url.scheme != "https":
        raise _invalid(
            "webhook.https_required", "webhook URLs must use https", "回调地址必须使用https"
        )
    address = None if settings.webhooks_reach_private else private_address(str(body.url))
    if address is not None:
        raise _invalid(
            "webhook.private_target",
            f"the webhook's host resolves to {address}, which is not a public address; "
            "this service only calls public ones",
            f"回调地址的主机解析为非公网地址 {address}；本服务只回调公网地址",
        )
    unknown = sorted(set(body.events) - set(RECEIPT_CODES))
    if unknown:
        raise _invalid(
            "webhook.unknown_event",
            f"unknown receipt codes {unknown}; choose among {RECEIPT_CODES}",
            f"未知的回执报文代码{unknown}，可选：{RECEIPT_CODES}",
        )
    secret = body.secret or secrets.token_urlsafe(32)
    if len(secret) < settings.webhook_secret_min_length:
        raise _invalid(
            "webhook.weak_secret",
            f"the secret must have at least {settings.webhook_secret_min_length} characters",
            f"签名密钥至少需要{settings.webhook_secret_min_length}个字符",
        )
    with database.write() as session:
        hook = Webhook(
            enterprise_id=enterprise.id,
            url=str(body.url),
            secret=secret,
            events=sorted(set(body.events)),
            xml=body.xml,
            receipts_per_post=body.receipts_per_post,
        )
        session.add(hook)
        session.flush()
        return WebhookCreated(**_out(hook).model_dump(), secret=secret)


@router.get("", responses=errors(401))
def list_webhooks(enterprise: CurrentEnterprise, database: DatabaseDep) -> list[WebhookOut]:
    with database.read() as session:
        hooks = session.scalars(
            select(Webhook).where(Webhook.enterprise_id == enterprise.id).order_by(Webhook.id)
        )
        return [_out(h) for h in hooks]


@router.delete(
    "/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 404, 422)
)
def delete_webhook(
    webhook_id: RowId, enterprise: CurrentEnterprise, database: DatabaseDep
) -> Response:
    """Unsubscribe; pending deliveries to it are dropped."""
    with database.write() as session:
        hook = session.get(Webhook, webhook_id)
        # Another enterprise's webhook answers 404, like a missing one: ids are not secrets,
        # but whether they exist is none of the caller's business.
        if hook is None or hook.enterprise_id != enterprise.id:
            raise not_found(
                "webhook.not_found", f"you have no webhook {webhook_id}", f"未找到回调{webhook_id}"
            )
        session.delete(hook)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
