"""The tables of the export summary declaration (汇总申报, ``app.services.summaries``, migration
0014): the summary applications customs accepted (CEB701, CEB spec 202205 §2.21), the 报关单
each formed (one CEB792 summary result each, §2.23) and the 清单 summarised in them.

A 清单 enters one summary only: ``summary_lists.invt_no`` is unique, so two applications
naming it cannot both be stored, whatever the checks before saw.

Kept beside ``app.db.models`` (which imports this module, so one ``Base.metadata`` holds every
table).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base, BigId, utcnow


class SummaryRow(Base):
    """One accepted summary application (its CEB701 document) and its number (``sumNo``).

    ``period_start`` and ``period_end`` bound the time its 清单 closed (the application's
    startTime and endTime, or the calendar month of the 清单 it names), in UTC."""

    __tablename__ = "summaries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), unique=True
    )
    sender_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), index=True
    )
    sum_no: Mapped[str] = mapped_column(String(18), unique=True)
    customs_code: Mapped[str] = mapped_column(String(4))
    agent_code: Mapped[str] = mapped_column(String(18))
    ebc_code: Mapped[str] = mapped_column(String(18))
    summary_flag: Mapped[str] = mapped_column(String(1))
    item_name_flag: Mapped[str | None] = mapped_column(String(1), default=None)
    by_range: Mapped[bool]  # True: startTime/endTime chose the 清单; False: the list body
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SummaryGroupRow(Base):
    """One 报关单 a summary formed: its ``declSeqNo``, what its 清单 share (``head``: customs,
    ebc, trafMode, owner, country, port), its items (``items``: gseqno order), and the CEB792
    message customs sent for it (``result_xml``), recorded as the receipt ``receipt_id`` of
    the application's document."""

    __tablename__ = "summary_groups"
    __table_args__ = (UniqueConstraint("summary_id", "seq", name="summary_seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    summary_id: Mapped[int] = mapped_column(ForeignKey("summaries.id", ondelete="CASCADE"))
    seq: Mapped[int]  # 1, 2, ... within the summary
    decl_seq_no: Mapped[str] = mapped_column(String(18), unique=True)
    dec_state: Mapped[str] = mapped_column(String(3))
    head: Mapped[dict[str, Any]] = mapped_column(JSON)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    gross_weight: Mapped[Decimal] = mapped_column(Numeric(19, 5))  # the sum of its 清单'
    net_weight: Mapped[Decimal] = mapped_column(Numeric(19, 5))
    result_xml: Mapped[bytes] = mapped_column(LargeBinary)
    receipt_id: Mapped[int | None] = mapped_column(
        ForeignKey("receipts.id", ondelete="SET NULL"), unique=True, default=None
    )


class SummaryListRow(Base):
    """One 清单 summarised: its number (unique: a 清单 enters one summary), its declaration,
    the 报关单 it went into and when it closed (its CEB604 899, UTC)."""

    __tablename__ = "summary_lists"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    summary_id: Mapped[int] = mapped_column(
        ForeignKey("summaries.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(ForeignKey("summary_groups.id", ondelete="CASCADE"))
    invt_no: Mapped[str] = mapped_column(String(20), unique=True)
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("declarations.id", ondelete="CASCADE"), index=True
    )
    closed_at: Mapped[datetime]
