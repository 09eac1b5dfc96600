"""The service's tables, as typed SQLAlchemy 2 models.

The schema is changed only through Alembic migrations (``app/db/migrations``); these classes
describe what the latest migration creates, and a test checks the two agree.

Who is who: an ``Enterprise`` (a platform, e-commerce enterprise, payment company, carrier or
declarant) holds ``ApiKey``s and sends ``DocumentRow``s; documents that belong together (order,
payment, waybill, declaration list of one orderNo) form a ``Declaration``; customs answers with
``Receipt``s, which are pulled through a feed (``Receipt.id`` is the cursor) or pushed to the
enterprise's ``Webhook``s through the ``Delivery`` outbox.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app import states
from simulation.scenario import CreditClass

# Stable constraint names, so that migrations (and SQLite batch mode) can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite's INTEGER PRIMARY KEY is its rowid (auto-increment); BigInteger would not be.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime}


class Role(StrEnum):
    """What an enterprise may do, named after the CEB fields that carry its code."""

    EBP = "ebp"  # e-commerce platform (ebpCode)
    EBC = "ebc"  # e-commerce enterprise (ebcCode)
    PAY = "pay"  # payment company (payCode)
    LOGISTICS = "logistics"  # carrier (logisticsCode)
    AGENT = "agent"  # customs broker / declarant (agentCode)
    # 受委托的快件运营人、邮政企业: an express operator or postal enterprise that sends orders
    # (CEB311) and payments (CEB411) on behalf of the parties that entrust it (``Entrustment``).
    EXPRESS = "express"
    # 监管场所经营人: the operator of a customs-supervised site, who records the goods' entry
    # (CEB711's operatorCode).
    OPERATOR = "operator"


class Enterprise(Base):
    __tablename__ = "enterprises"
    __table_args__ = (CheckConstraint("length(code) BETWEEN 10 AND 18", name="code_length"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(18), unique=True)  # customs registration code
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)  # values of Role
    # A simulation.scenario.CreditClass value: the rating that picks the model's risk profile.
    credit_class: Mapped[str] = mapped_column(String(10), default=CreditClass.GENERAL.value)
    # Its id on the data exchange platform (DXP, TransInfo/SenderId of CEB spec 202205 §4.4):
    # the envelopes it sends must name it.
    dxp_id: Mapped[str | None] = mapped_column(String(16), unique=True, index=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    keys: Mapped[list[ApiKey]] = relationship(back_populates="enterprise")
    webhooks: Mapped[list[Webhook]] = relationship(back_populates="enterprise")


class ApiKey(Base):
    """An API key, stored as the SHA-256 of the key; ``prefix`` (shown in clear) finds the row."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the whole key
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    enterprise: Mapped[Enterprise] = relationship(back_populates="keys")


class Declaration(Base):
    """A set of documents declared together (订单 + 支付单 + 运单 + 清单 of one orderNo)."""

    __tablename__ = "declarations"
    __table_args__ = (
        UniqueConstraint("direction", "ebp_code", "order_no", name="set_key"),
        # The engine looks declarations up by state (clearance_ready, clearing) on every tick.
        Index("ix_declarations_state", "state"),
        # Import waybills name an orderNo but no ebpCode: they find their set by orderNo alone.
        Index("ix_declarations_direction_order_no", "direction", "order_no"),
        # The engine looks for danchuang's deliveries due on every tick (app.engine.store).
        Index("ix_declarations_delivery_due_at", "delivery_due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    regime: Mapped[str | None] = mapped_column(String(4))  # 9610, 1210, 9710, 9810
    direction: Mapped[str] = mapped_column(String(6))  # import / export
    order_no: Mapped[str] = mapped_column(String(60))
    ebp_code: Mapped[str] = mapped_column(String(18))
    state: Mapped[str] = mapped_column(String(30), default=states.INCOMPLETE)
    return_status: Mapped[int | None] = mapped_column(default=None)  # latest receipt's code
    # A test-support override ("magic value"): the outcome the clearance engine must produce.
    forced_outcome: Mapped[str | None] = mapped_column(String(30), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Times on the virtual clock of the clearance model.
    sim_declared_at: Mapped[datetime | None] = mapped_column(default=None)
    sim_updated_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the carrier's 运单状态 (CEB513) says the buyer signed for the goods (logisticsTime).
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the goods entered the supervised site (CEB711; 9610 import release waits for it).
    site_entered_at: Mapped[datetime | None] = mapped_column(default=None)
    # When danchuang, playing the carrier, sends the delivery record (virtual clock).
    delivery_due_at: Mapped[datetime | None] = mapped_column(default=None)

    documents: Mapped[list[DocumentRow]] = relationship(back_populates="declaration")


class DocumentRow(Base):
    """One CEB message exactly as received, with the keys that tie it to its set."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_order", "ebp_code", "order_no"),
        Index("ix_documents_logistics", "logistics_code", "logistics_no"),
        Index("ix_documents_pay_transaction_id", "pay_transaction_id"),
        Index("ix_documents_invt_no", "invt_no"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    guid: Mapped[str] = mapped_column(String(36), unique=True, insert_sentinel=True)
    message_code: Mapped[str] = mapped_column(String(10))  # CEB311, CEB621, ...
    direction: Mapped[str] = mapped_column(String(6))
    regime: Mapped[str | None] = mapped_column(String(4), default=None)
    app_type: Mapped[str | None] = mapped_column(String(1), default=None)  # 1 new, 2 change, 3 del
    raw_xml: Mapped[bytes] = mapped_column(LargeBinary)  # the bytes received, untouched
    # What the core learnt of it on arrival (``declarations.Facts.to_json``), so that nothing
    # reads the XML again; None for a message that could not be identified.
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    order_no: Mapped[str | None] = mapped_column(String(60), default=None)
    ebp_code: Mapped[str | None] = mapped_column(String(18), default=None)
    logistics_no: Mapped[str | None] = mapped_column(String(80), default=None)
    logistics_code: Mapped[str | None] = mapped_column(String(18), default=None)
    pay_transaction_id: Mapped[str | None] = mapped_column(String(60), default=None)
    invt_no: Mapped[str | None] = mapped_column(String(20), default=None)
    # The transport envelope it came in ("DxpMsg", "DxpMsgSv"; None: sent bare), its CopMsgId
    # and SenderId: receipts answer it in a DxpMsg addressed to that sender.
    envelope: Mapped[str | None] = mapped_column(String(8), default=None)
    cop_msg_id: Mapped[str | None] = mapped_column(String(255), default=None)
    dxp_sender: Mapped[str | None] = mapped_column(String(16), default=None)
    sender_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    declaration_id: Mapped[int | None] = mapped_column(
        ForeignKey("declarations.id", ondelete="SET NULL"), index=True, default=None
    )
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The latest returnStatus answered for this document (2, 3, 120, 100 or a negative code).
    return_status: Mapped[int | None] = mapped_column(default=None)
    # Whether the document is the one customs holds for its business key: False once it is
    # rejected, replaced by a change (appType 2) or withdrawn by a delete (appType 3); a delete
    # message itself is stored with False. Only current documents make up a declaration's set.
    current: Mapped[bool] = mapped_column(default=True, server_default="1")

    declaration: Mapped[Declaration | None] = relationship(back_populates="documents")
    sender: Mapped[Enterprise] = relationship()


class Receipt(Base):
    """A receipt (回执) customs sent back. ``id`` only grows: clients poll with ``after=<id>``."""

    __tablename__ = "receipts"
    __table_args__ = (
        CheckConstraint(
            "declaration_id IS NOT NULL OR document_id IS NOT NULL", name="has_subject"
        ),
        UniqueConstraint("declaration_id", "seq", name="declaration_seq"),
        Index("ix_receipts_document", "document_id", "seq"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    declaration_id: Mapped[int | None] = mapped_column(
        ForeignKey("declarations.id", ondelete="CASCADE"), default=None
    )
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), default=None
    )
    message_code: Mapped[str] = mapped_column(String(10))  # the receipt's own code: CEB622...
    return_status: Mapped[int]  # ReturnStatus value, or a negative business code
    return_info: Mapped[str] = mapped_column(Text, default="")
    seq: Mapped[int]  # 1, 2, 3... per declaration (or per document when it has no set)
    sim_time: Mapped[datetime | None] = mapped_column(default=None)  # on the virtual clock
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # wall clock


class QuotaEntry(Base):
    """One purchase counted against a buyer's annual limit (26,000 CNY; 财关税〔2018〕49号)."""

    __tablename__ = "quota_ledger"
    __table_args__ = (Index("ix_quota_ledger_buyer_year", "buyer_id_number", "year"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    buyer_id_number: Mapped[str] = mapped_column(String(60))
    year: Mapped[int]
    # In fen (分, 0.01 CNY): exact integer sums on every backend (SQLite has no decimal type).
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    declaration_id: Mapped[int | None] = mapped_column(
        ForeignKey("declarations.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Entrustment(Base):
    """``principal`` lets ``agent`` (an express operator or postal enterprise) send its
    ``message_code`` messages: the official import structure names 受委托的快件运营人、邮政企业
    among the senders of CEB311 and CEB411 (``app.services.entrustments``)."""

    __tablename__ = "entrustments"
    __table_args__ = (UniqueConstraint("principal_id", "agent_id", "message_code", name="pair"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    principal_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    message_code: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class SigningCertificate(Base):
    """A certificate an enterprise signs its messages with (CEB spec 202205 §6.2.3: the
    ``KeyInfo`` certificate). ``fingerprint`` (SHA-256 of the DER) finds it; one certificate
    belongs to one enterprise (``app.services.certificates``)."""

    __tablename__ = "signing_certificates"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    key_type: Mapped[str] = mapped_column(String(8))  # declarations.pki.KeyType: sm2, rsa
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    der: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthorityKey(Base):
    """The sandbox's own keys, made on first use and shared by every process of one database:
    ``ca`` (the test certificate authority) and ``customs`` (signs receipts)."""

    __tablename__ = "authority_keys"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    key_pem: Mapped[str] = mapped_column(Text)
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Webhook(Base):
    """Where an enterprise wants its receipts pushed. ``events``: receipt codes, empty = all."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    # The HMAC key must be readable to sign, so it is stored as given; it is shown to the
    # subscriber once, at creation, and never returned by the API again.
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Deliveries also carry the receipt as its CEB receipt message (``xml``).
    xml: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # At most this many due receipts a POST; above 1 the body lists them (docs/api.md).
    receipts_per_post: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    enterprise: Mapped[Enterprise] = relationship(back_populates="webhooks")


_PENDING = text("delivered_at IS NULL AND failed_at IS NULL")  # a delivery still to be made


class Delivery(Base):
    """The outbox: one row per (receipt, webhook); the worker POSTs it until it is delivered."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("receipt_id", "webhook_id", name="receipt_webhook"),
        # The pending rows in the order the worker claims them (migration 0015 says why the
        # two columns of its condition are in it too).
        Index(
            "ix_deliveries_due",
            "next_attempt_at",
            "id",
            "delivered_at",
            "failed_at",
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id", ondelete="CASCADE"))
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_at: Mapped[datetime | None] = mapped_column(default=None)  # gave up after max attempts
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    receipt: Mapped[Receipt] = relationship()
    webhook: Mapped[Webhook] = relationship()


# --- the clearance engine (migration 0003) ---------------------------------------------------


class EngineLease(Base):
    """Who runs the clearance engine: one row per engine name, held by ``owner`` until
    ``expires_at`` and renewed while it runs (``app.engine.lease``). ``sim_clock`` is the
    virtual clock's last reading, so that a restarted engine's clock carries on from there."""

    __tablename__ = "engine_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime]
    acquired_at: Mapped[datetime]
    sim_clock: Mapped[datetime | None] = mapped_column(default=None)


from app.db import models_after, models_jobs, models_summary  # noqa: E402, F401  (this Base)
