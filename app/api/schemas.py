"""Request and response bodies of the API (pydantic models), the error answers every
operation documents (``errors``), and the id and cursor parameters the routes share.

The response models describe the JSON that ``app.services.history``, ``app.receipts`` and the
validation report build; tests/app/test_openapi_description.py holds their fields to those
builders, so the OpenAPI description cannot drift from what the service sends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.db.models import Role
from simulation.scenario import CreditClass

# -- errors -----------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, e.g. auth.unknown_key; see docs/error-codes.md.")
    message_en: str
    message_zh: str


class ErrorBody(BaseModel):
    """The body of every error answer (4xx and 5xx), whatever raised it."""

    error: ErrorDetail


# What each error status means in this API; an operation lists those it can answer.
ERROR_MEANINGS: dict[int, str] = {
    400: "The request body could not be read (not UTF-8, broken encoding).",
    401: "No API key, or an unknown or revoked one.",
    403: "The key may not do this (not the admin key; not a sender of this message or set).",
    404: "No such resource among yours (another enterprise's answers 404 too).",
    409: "Conflicts with the current state (a reused guid, an existing enterprise, too late).",
    413: "The body is larger than the service's limit.",
    415: "The body is not sent as XML (Content-Type: application/xml).",
    422: "The request is invalid: parameters, body, or the message itself.",
    503: "The database stayed busy past its busy timeout: nothing stored; retry after Retry-After.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries of an operation's error answers, all with ``ErrorBody``."""
    return {
        status: {"model": ErrorBody, "description": ERROR_MEANINGS[status]} for status in statuses
    }


# -- ids and cursors --------------------------------------------------------------------------

# Ids are 64-bit signed integers in both databases; a larger number is refused (422) before it
# reaches one, where SQLite could not even bind it.
MAX_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="The resource's id.")]
Cursor = Annotated[
    int,
    Query(
        ge=0,
        le=MAX_ID,
        description="The `cursor` of the previous page: the last id you have seen (0 to start).",
    ),
]

IsoTime = Annotated[str, Field(description="ISO 8601 date and time.")]


# An enterprise's customs registration code (10 characters, or an 18-character credit code).
_CODE: dict[str, Any] = {"min_length": 10, "max_length": 18, "pattern": r"^[0-9A-Za-z]+$"}
EnterpriseCode = Annotated[str, Path(**_CODE, description="The enterprise's code.")]
KeyPrefix = Annotated[
    str, Path(pattern=r"^dck_[0-9a-f]{8}$", description="The key's visible prefix.")
]


# The spellings the API took before the service and the model shared one CreditClass.
# Deprecated (docs/api.md): accepted on input, never answered.
_OLD_CREDIT_SPELLINGS = {"AEO": CreditClass.AEO.value, "low": CreditClass.LOW_CREDIT.value}


def _credit_class(value: object) -> object:
    return _OLD_CREDIT_SPELLINGS.get(value, value) if isinstance(value, str) else value


# TransInfo/SenderId: an16, assigned by the data exchange platform (CEB spec 202205 §4.4 p. 107).
DxpId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=16,
        pattern=r"^[0-9A-Za-z]+$",
        description="The enterprise's id on the data exchange platform: the SenderId of the "
        "DxpMsg envelopes it sends (letters and digits, at most 16).",
    ),
]


class EnterpriseIn(BaseModel):
    code: Annotated[str, Field(**_CODE)]
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)
    credit_class: Annotated[
        CreditClass,
        BeforeValidator(_credit_class),
        Field(description="aeo (高级认证), general (一般信用) or low_credit (失信)."),
    ] = CreditClass.GENERAL
    dxp_id: DxpId | None = None


class EnterpriseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    roles: list[Role]
    credit_class: CreditClass
    dxp_id: str | None = None
    created_at: datetime | None = None


class DxpIdIn(BaseModel):
    dxp_id: DxpId


class KeyIn(BaseModel):
    label: str = Field(default="", max_length=100)


class KeyOut(BaseModel):
    enterprise: str
    prefix: str
    label: str
    key: str = Field(description="The API key. Shown only in this response: store it now.")


class EntrustmentIn(BaseModel):
    agent: Annotated[
        str,
        Field(
            **_CODE,
            description="The express operator or postal enterprise (role express) you entrust.",
        ),
    ]
    message: Literal["CEB311", "CEB411"] = Field(description="The message it may send for you.")


class EntrustmentOut(BaseModel):
    id: int
    principal: str = Field(description="The party that entrusts (named in the message).")
    agent: str = Field(description="The entrusted enterprise, which transmits the message.")
    message: str
    created_at: datetime


class CertificateIn(BaseModel):
    certificate: str = Field(
        min_length=1,
        max_length=20_000,
        description="An X.509 certificate (SM2 or RSA key): PEM, or the Base64 DER that "
        "ds:X509Certificate holds (CEB spec 202205 §6.2.3).",
    )


class CertificateOut(BaseModel):
    fingerprint: str = Field(description="SHA-256 of the certificate's DER, lower-case hex.")
    subject: str = Field(description="The subject's common name.")
    key_type: Literal["sm2", "rsa"]
    not_before: datetime
    not_after: datetime
    created_at: datetime


class IssuedCertificate(BaseModel):
    certificate: CertificateOut
    certificate_pem: str
    private_key_pem: str = Field(
        description="PKCS#8, unencrypted: a sandbox key, shown once and never stored."
    )


class IssueIn(BaseModel):
    key_type: Literal["sm2", "rsa"] = Field(
        default="sm2", description="sm2 (SM2-SM3, the 2022 algorithm) or rsa (RSA-SHA1, 2018)."
    )
    days: float = Field(default=365, gt=0, le=3650, description="How long it is valid.")


class SignaturePolicyOut(BaseModel):
    mode: Literal["off", "warn", "require"]
    methods: list[str] = Field(description="The SignatureMethod algorithms accepted.")


# -- documents, receipts, declarations --------------------------------------------------------


class ReceiptOut(BaseModel):
    """A receipt (回执), as in the feed and in webhook bodies (``app.receipts.receipt_json``)."""

    id: int
    message_code: str = Field(description="The receipt message, e.g. CEB312, CEB622.")
    return_status: int
    return_info: str
    declaration_id: int | None
    document_id: int | None
    seq: int = Field(description="Its order within its declaration (or document).")
    sim_time: IsoTime | None = Field(description="On the virtual clock; null for submission's.")
    created_at: IsoTime


class DocumentOut(BaseModel):
    """A stored message (``app.services.history.document_json``)."""

    id: int
    guid: str
    message_code: str = Field(description="e.g. CEB311; UNKNOWN when it was not identified.")
    direction: str | None
    regime: str | None
    app_type: str | None
    order_no: str | None
    ebp_code: str | None
    logistics_no: str | None
    logistics_code: str | None
    invt_no: str | None
    declaration_id: int | None
    return_status: int | None
    current: bool
    received_at: IsoTime


class DeclarationOut(BaseModel):
    """One order's set (``app.services.history.declaration_json``)."""

    id: int
    regime: str | None
    direction: str
    order_no: str
    ebp_code: str
    state: str
    return_status: int | None
    forced_outcome: str | None
    created_at: IsoTime
    updated_at: IsoTime
    sim_declared_at: IsoTime | None
    sim_updated_at: IsoTime | None
    delivered_at: IsoTime | None = Field(
        default=None, description="When the buyer signed for the goods (the carrier's CEB513)."
    )
    site_entered_at: IsoTime | None = Field(
        default=None, description="When the goods entered the supervised site (CEB711)."
    )


class FindingOut(BaseModel):
    rule: str = Field(description="The rule id; see docs/error-codes.md.")
    layer: str
    severity: str
    message: str
    message_zh: str
    xpath: str | None
    line: int | None
    column: int | None
    field: str | None
    source: str | None
    spec_code: str | None


class DocumentSummaryOut(BaseModel):
    source: str
    message_type: str | None
    direction: str | None
    regime: str | None
    guid: str | None


class ReportOut(BaseModel):
    """Every finding about a message (``declarations.Report.to_dict``)."""

    valid: bool
    documents: list[DocumentSummaryOut]
    findings: list[FindingOut]


class SubmissionOut(BaseModel):
    """The answer to a submitted message."""

    document: DocumentOut
    repeat: bool = Field(description="True when this guid was received before (a resend).")
    return_status: int | None
    declaration: DeclarationOut | None
    receipts: list[ReceiptOut]
    report: ReportOut | None = Field(description="Null for a resend.")


class BatchRecordOut(SubmissionOut):
    """One record of a batch: its own document and answer."""

    number: int = Field(description="The record's place in the message, from 1.")
    guid: str = Field(description="The record's own guid (its head's), which its receipts name.")


class BatchOut(BaseModel):
    """The answer to a message of several records: each record's own answer."""

    guid: str = Field(description="The message's guid (its root's).")
    message_code: str
    repeat: bool = Field(description="True when every record was received before (a resend).")
    records: list[BatchRecordOut]


class BundleOut(BaseModel):
    documents: list[SubmissionOut]


class DocumentWithReceipts(BaseModel):
    document: DocumentOut
    receipts: list[ReceiptOut]


class ReceiptList(BaseModel):
    receipts: list[ReceiptOut]


class ReceiptPage(ReceiptList):
    cursor: int = Field(description="Pass it as `after` next time.")


class DeclarationPage(BaseModel):
    declarations: list[DeclarationOut]
    cursor: int = Field(description="Pass it as `after` next time.")


class DocumentEvent(DocumentOut):
    event: Literal["document"]
    at: IsoTime


class ReceiptEvent(ReceiptOut):
    event: Literal["receipt"]
    at: IsoTime


class DeclarationHistory(BaseModel):
    declaration: DeclarationOut
    history: list[DocumentEvent | ReceiptEvent]


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, dict[str, Any]] = Field(
        description="database, migrations, engine, webhooks: each with its `ok`."
    )


class ForcedOutcome(BaseModel):
    declaration_id: int
    outcome: str | None
    state: str


# Media types the responses carrying CEB XML are documented with.
XML_CONTENT: dict[str, Any] = {"application/xml": {"schema": {"type": "string"}}}
