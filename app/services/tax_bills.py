"""The electronic tax bills customs issues after releasing an import 清单 (电子税单 CEB816, its
status CEB818; CEB spec 202205 §3.17-3.18).

- **Issued** when the clearance engine records the release (800) of an import 清单: the 清单's
  tax as ``declarations.tax_bill_of`` computes it (status 1 已生成), a CEB816 receipt of the
  declaration. The bill's text compares it with the order's ``taxTotal``.
- **Summed** ``SUM_AFTER`` later on the virtual clock (at once in ``instant`` mode): the tax is
  deducted from the guarantee ``assureCode`` names, the bill gets its 缴款书 number
  (``entDutyNo``) and status 2 已汇总, a CEB818 receipt. The spec gives no time; danchuang waits
  out the 30-day return window (公告2020年第45号) and one day more (docs/live-clearance.md).
- **Deduction failed** when a test forced it (the word ``TAXFAIL`` in the outcome, e.g.
  ``DANCHUANG:RELEASE+TAXFAIL``): the CEB818 says status 1 still, and its receipt text why.
- **Void** (3 作废) when the 清单 is cancelled after release.

The parties of the declaration read the bills like any receipt: in the feed, by webhook, as
XML (the CEB816 / CEB818 message itself, ``receipt_xml``) and on the declaration
(``GET /api/v1/declarations/{id}/tax-bill``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import structlog
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.db.models import Declaration
from app.db.models_after import TaxBillRow
from app.receipts import AnyReceipt, NewReceipt, record_receipts
from app.services.set_documents import current_of, facts_of
from declarations import (
    TAX_SUM_AFTER,
    TaxBill,
    TaxBillStatus,
    build_tax_bill,
    build_tax_status,
    tax_bill_of,
    tax_total_mismatch,
)

BILL, STATUS = "CEB816", "CEB818"
CODES = (BILL, STATUS)
SUM_AFTER = TAX_SUM_AFTER
FAIL_WORD = "TAXFAIL"  # in a forced outcome: the guarantee deduction fails

ISSUED, SUMMED, DEDUCTION_FAILED, VOID = "issued", "summed", "deduction_failed", "void"

log = structlog.get_logger("danchuang.tax_bills")


# Built once: the engine asks it for every transaction's released imports.
_BILLED = select(TaxBillRow.declaration_id).where(
    TaxBillRow.declaration_id.in_(bindparam("ids", expanding=True))
)
_TABLE = cast(Table, TaxBillRow.__table__)
_INSERT = insert(_TABLE).returning(_TABLE.c.declaration_id, _TABLE.c.id)
# What summing a bill reads of it, and writes (``_settled``: one statement for them all).
_DUE = (
    TaxBillRow.id,
    TaxBillRow.declaration_id,
    TaxBillRow.bill,
    TaxBillRow.fails_deduction,
    TaxBillRow.issued_at,
    TaxBillRow.due_at,
)
_SETTLE = update(_TABLE).where(_TABLE.c.id == bindparam("ident"))
# A released import 清单 to bill: the declaration, its release time and its forced outcome
# (``app.engine.outcomes``), which may say ``TAXFAIL``.
Release = tuple[Declaration, datetime, str | None]


def issue_all(session: Session, releases: Sequence[Release]) -> list[int]:
    """Issue the bills of released import 清单, once each (``forced`` of a release: the
    declaration's forced outcome, ``app.engine.outcomes``, which may say ``TAXFAIL``), with a
    read of the bills issued already, one statement for the bills and one for their receipts;
    the ids of the bills issued now, in the releases' order. An export, a set without a 清单 or
    one billed already gets none; a 清单 the tax function cannot tax (the rules refuse those
    before) is logged and left without one."""
    imports = [release for release in releases if release[0].direction == "import"]
    billed = _billed(session, [declaration.id for declaration, _, _ in imports])
    bills, receipts = [], []
    for release in imports:
        if release[0].id in billed:
            continue
        try:
            made = _bill(session, release)
        except ValueError:
            log.exception("tax_bill.failed", declaration_id=release[0].id)
            continue
        if made is not None:
            bills.append(made[0])
            receipts.append(made[1])
    if not bills:
        return []
    # Core INSERT ... RETURNING: no ORM object, no unit of work. RETURNING promises no order
    # (SQLite's), so the ids are matched back by declaration, which has one bill at most.
    returned = session.execute(_INSERT, bills)
    by_declaration = {declaration_id: ident for declaration_id, ident in returned}
    record_receipts(session, receipts)
    return [by_declaration[bill["declaration_id"]] for bill in bills]


def _billed(session: Session, declaration_ids: list[int]) -> set[int]:
    """Which of the declarations have a bill."""
    if not declaration_ids:
        return set()
    return set(session.scalars(_BILLED, {"ids": sorted(declaration_ids)}))


def _bill(session: Session, release: Release) -> tuple[dict[str, Any], NewReceipt] | None:
    """The bill of a released import 清单 (its row's values) and its CEB816 receipt, for the
    caller to store; None when the set has no 清单."""
    declaration, at, forced = release
    inventory = current_of(session, declaration.id, "CEB621")
    if inventory is None:
        return None
    facts = facts_of(inventory)
    bill = tax_bill_of(facts.head, facts.lines, invt_no=inventory.invt_no or inventory.guid[:18])
    values = {
        "declaration_id": declaration.id,
        "tax_no": bill.tax_no,
        "status": int(TaxBillStatus.ISSUED),
        "state": ISSUED,
        "bill": bill.to_json(),
        "fails_deduction": FAIL_WORD in (forced or "").upper().split("+"),
        "issued_at": at,
        "due_at": at + SUM_AFTER,
    }
    order = current_of(session, declaration.id, "CEB311")
    mismatch = tax_total_mismatch(facts_of(order).head.get("taxTotal"), bill) if order else None
    text = f"电子税单{bill.tax_no}已生成，应征税额{bill.total} / tax bill issued: {bill.total} CNY"
    info = "; ".join(t for t in (text, mismatch) if t)
    return values, NewReceipt(BILL, 1, info, declaration_id=declaration.id, sim_time=at)


def sum_due(session: Session, now: datetime | None) -> int:
    """Sum the bills due by ``now`` (None: every issued bill, ``instant`` mode); returns how
    many were settled (summed or failed). Read as values and updated with one statement (no
    ORM objects: the engine sums a chunk's bills at once)."""
    query = select(*_DUE).where(TaxBillRow.state == ISSUED).order_by(TaxBillRow.id)
    if now is not None:
        query = query.where(TaxBillRow.due_at <= now)
    rows = session.execute(query.limit(500)).all()
    settled: list[dict[str, Any]] = []
    receipts = []  # recorded together, in the bills' order: one statement
    for ident, declaration_id, stored, fails_deduction, issued_at, due_at in rows:
        at = due_at if now is None else max(due_at, issued_at)
        bill = TaxBill.from_json(stored)
        guarantee = bill.assure_code or "-"
        if fails_deduction:
            settled.append(_settled(ident, DEDUCTION_FAILED, TaxBillStatus.ISSUED, None))
            text = (f"担保企业{guarantee}担保额度扣减失败，税款未缴 / the deduction from "
                    f"{guarantee}'s guarantee failed: the tax is unpaid")  # fmt: skip
            receipts.append(_status(declaration_id, TaxBillStatus.ISSUED, text, at))
            continue
        duty = f"{bill.customs_code or '0000'}{at:%Y%m%d}{ident:08d}"
        settled.append(_settled(ident, SUMMED, TaxBillStatus.SUMMED, duty))
        text = (f"已汇总，缴款书{duty}，由担保企业{guarantee}担保扣减 / summed and "
                f"deducted from {guarantee}'s guarantee")  # fmt: skip
        receipts.append(_status(declaration_id, TaxBillStatus.SUMMED, text, at))
    if settled:
        session.execute(_SETTLE, settled)
    record_receipts(session, receipts)
    return len(rows)


def _settled(ident: int, state: str, status: TaxBillStatus, duty: str | None) -> dict[str, Any]:
    """The values ``_SETTLE`` writes of a bill summed or failed."""
    return {"ident": ident, "state": state, "status": int(status), "ent_duty_no": duty}


def void(session: Session, declaration_id: int, at: datetime) -> bool:
    """Void the unpaid bill of a cancelled 清单 (3 作废); False when it has none unpaid."""
    row = session.scalar(select(TaxBillRow).where(TaxBillRow.declaration_id == declaration_id))
    if row is None or row.state not in (ISSUED, DEDUCTION_FAILED):
        return False  # none, void already, or paid
    row.state, row.status = VOID, int(TaxBillStatus.VOID)
    text = "作废 / void: the 清单 is cancelled"
    record_receipts(session, [_status(declaration_id, TaxBillStatus.VOID, text, at)])
    return True


def _status(declaration_id: int, status: TaxBillStatus, text: str, at: datetime) -> NewReceipt:
    """A CEB818 receipt of the declaration's bill: its status now."""
    return NewReceipt(STATUS, int(status), text, declaration_id=declaration_id, sim_time=at)


def bill_of(session: Session, declaration_id: int) -> TaxBillRow | None:
    return session.scalar(select(TaxBillRow).where(TaxBillRow.declaration_id == declaration_id))


def bill_json(row: TaxBillRow) -> dict[str, Any]:
    """The bill as the API shows it."""
    return {
        **row.bill,
        "status": row.status,
        "state": row.state,
        "ent_duty_no": row.ent_duty_no,
        "issued_at": row.issued_at.isoformat(),
        "due_at": row.due_at.isoformat(),
    }


def bill_xml(row: TaxBillRow) -> bytes:
    """The bill as it stands, as a CEB816 message."""
    status = TaxBillStatus(row.status)
    return build_tax_bill(TaxBill.from_json(row.bill), status, row.issued_at,
                          ent_duty_no=row.ent_duty_no)  # fmt: skip


def receipt_xml(session: Session, receipt: AnyReceipt) -> bytes | None:
    """A tax receipt as the message customs sends: CEB816 (the bill) or CEB818 (its status)."""
    if receipt.declaration_id is None or receipt.message_code not in CODES:
        return None
    row = bill_of(session, receipt.declaration_id)
    if row is None:
        return None
    bill = TaxBill.from_json(row.bill)
    status = TaxBillStatus(receipt.return_status)
    at = receipt.sim_time or receipt.created_at
    duty = row.ent_duty_no if status is TaxBillStatus.SUMMED else None
    if receipt.message_code == BILL:
        return build_tax_bill(bill, status, at, note=receipt.return_info)
    return build_tax_status(bill, status, at, ent_duty_no=duty)
