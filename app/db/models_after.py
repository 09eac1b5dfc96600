"""The tables of what follows a release: the tax bills customs issues and who plays the parties
a tester does not (``real_senders``, migration 0012); the bonded account books a 1210 release
draws on (migration 0013).

Kept beside ``app.db.models`` (which imports this module, so one ``Base.metadata`` holds every
table) to keep each module short.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models import Base, BigId, utcnow


class TaxBillRow(Base):
    """The electronic tax bill of one released import 清单 (CEB816, ``app.services.tax_bills``).

    ``status`` is the spec's (1 已生成, 2 已汇总, 3 作废); ``state`` is danchuang's finer one:
    ``issued``, ``summed`` (paid or deducted from the guarantee), ``deduction_failed`` (still 1)
    or ``void``. ``due_at`` is when, on the virtual clock, the bill is summed into a payment.
    """

    __tablename__ = "tax_bills"
    __table_args__ = (Index("ix_tax_bills_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    declaration_id: Mapped[int] = mapped_column(
        ForeignKey("declarations.id", ondelete="CASCADE"), unique=True
    )
    tax_no: Mapped[str] = mapped_column(String(50), unique=True)
    status: Mapped[int]
    state: Mapped[str] = mapped_column(String(20))
    bill: Mapped[dict[str, Any]] = mapped_column(JSON)  # declarations.TaxBill.to_json()
    ent_duty_no: Mapped[str | None] = mapped_column(String(50), default=None)
    fails_deduction: Mapped[bool] = mapped_column(default=False)  # forced by a test
    issued_at: Mapped[datetime]  # virtual clock
    due_at: Mapped[datetime]  # virtual clock
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RealSender(Base):
    """An enterprise that sends its own messages of one kind (``message_code``: CEB513 for a
    carrier, CEB711 for a site operator): for the declarations it is a party to, danchuang
    waits for the real message instead of sending a simulated one. No row: danchuang plays."""

    __tablename__ = "real_senders"

    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), primary_key=True
    )
    message_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountBook(Base):
    """A zone warehouse enterprise's bonded account book (账册, ``emsNo``), registered in
    danchuang (``app.services.account_books``; the real one is the special zone's system)."""

    __tablename__ = "account_books"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ems_no: Mapped[str] = mapped_column(String(30), unique=True)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountBookItem(Base):
    """One registered item (``itemRecordNo``) and its stock, in the 清单's units (``qty``)."""

    __tablename__ = "account_book_items"
    __table_args__ = (UniqueConstraint("book_id", "item_record_no", name="book_item"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("account_books.id", ondelete="CASCADE"))
    item_record_no: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(250), default="")
    stock: Mapped[Decimal] = mapped_column(Numeric(19, 5))


class AccountBookMove(Base):
    """A change of an item's stock: ``drawn`` by a 清单 (negative), ``returned`` when the
    清单 is refused, cancelled or its goods come back (positive), ``added`` by the owner."""

    __tablename__ = "account_book_moves"
    __table_args__ = (Index("ix_account_book_moves_declaration_id", "declaration_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("account_book_items.id", ondelete="CASCADE"))
    declaration_id: Mapped[int | None] = mapped_column(
        ForeignKey("declarations.id", ondelete="CASCADE"), default=None
    )
    kind: Mapped[str] = mapped_column(String(10))  # drawn / returned / added
    quantity: Mapped[Decimal] = mapped_column(Numeric(19, 5))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
