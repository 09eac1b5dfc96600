"""Request and response bodies of the webhook endpoints (``/api/v1/webhooks``); docs/api.md
("Webhooks") says what a delivery carries."""

from __future__ import annotations

from datetime import datetime

from pydantic import AnyHttpUrl, BaseModel, Field

MAX_RECEIPTS_PER_POST = 100  # as many records as a CEB message carries (maxOccurs="100")


class WebhookIn(BaseModel):
    url: AnyHttpUrl
    events: list[str] = Field(
        default_factory=list,
        description="Receipt message codes to receive (e.g. CEB622); empty for all.",
        max_length=50,
    )
    xml: bool = Field(
        default=False,
        description="Also send each receipt as its CEB receipt message (body field xml): in a "
        "DxpMsg when it answers a document you sent in one.",
    )
    receipts_per_post: int = Field(
        default=1,
        ge=1,
        le=MAX_RECEIPTS_PER_POST,
        description="At most this many due receipts in one POST. 1: a POST a receipt. Above "
        'one, every POST is {"type": "batch", "deliveries": [...]}, each element the body a '
        "receipt of its own would have had (docs/api.md, Webhooks).",
    )
    secret: str | None = Field(
        default=None,
        max_length=200,
        description="Your own signing secret; one is generated when omitted.",
    )


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    xml: bool
    receipts_per_post: int
    active: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret. Shown only in this response.")
