"""Request and response bodies of the API (pydantic models)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from app.db.models import CreditClass, Role


class ErrorDetail(BaseModel):
    code: str
    message_en: str
    message_zh: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class EnterpriseIn(BaseModel):
    code: str = Field(min_length=10, max_length=18, pattern=r"^[0-9A-Za-z]+$")
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)
    credit_class: CreditClass = CreditClass.GENERAL


class EnterpriseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    roles: list[Role]
    credit_class: CreditClass
    created_at: datetime | None = None


class KeyIn(BaseModel):
    label: str = Field(default="", max_length=100)


class KeyOut(BaseModel):
    enterprise: str
    prefix: str
    label: str
    key: str = Field(description="The API key. Shown only in this response: store it now.")


class WebhookIn(BaseModel):
    url: AnyHttpUrl
    events: list[str] = Field(
        default_factory=list,
        description="Receipt message codes to receive (e.g. CEB622); empty for all.",
        max_length=50,
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
    active: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="The signing secret. Shown only in this response.")
