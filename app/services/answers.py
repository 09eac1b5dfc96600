"""Receipts for documents: which receipt message answers which document, and what it says.

Every receipt goes through ``app.receipts.record_receipts`` (numbering, webhooks; what it
stored comes back as ``StoredReceipt`` values, as this module returns them); this module only
chooses its message code, its ``returnInfo`` text, and keeps the document's (and for a 清单
the declaration's) latest status in step with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from app.db.models import Declaration, DocumentRow
from app.receipts import NewReceipt, StoredReceipt, first_receipts, record_receipts
from declarations import (
    BY_CODE,
    FAILS_SCHEMA,
    FORMAT_RECEIPT,
    NOT_WELL_FORMED,
    Finding,
    Kind,
    Layer,
    ReturnStatus,
    Severity,
    receipt_type,
)

MAX_INFO = 1000  # returnInfo is C..1000 in the receipt XML


def is_inventory(row: DocumentRow) -> bool:
    message = BY_CODE.get(row.message_code)
    return message is not None and message.kind is Kind.INVENTORY


def record(session: Session, row: DocumentRow, status: int, info: str) -> StoredReceipt:
    """Record one receipt answering ``row``, leaving the document's own status as it is.

    The receipt is filed under the document's declaration when it has one (numbered with the
    set's other receipts) and always names the document. The status of the set's standing
    (current) 清单 is its declaration's status (``Declaration.return_status``), as the
    clearance engine keeps it afterwards.
    """
    return record_answers(session, [(row, [(status, info)])])[0][0]


def record_answers(
    session: Session, answers: Sequence[tuple[DocumentRow, Sequence[tuple[int, str]]]]
) -> list[list[StoredReceipt]]:
    """``record`` for several documents, each with its receipts (status, returnInfo) in a row:
    one statement for all of them, in this order; each document's receipts returned."""
    receipts = iter(
        record_receipts(
            session,
            [
                NewReceipt(
                    receipt_type(row.message_code).code,
                    status,
                    info,
                    declaration_id=row.declaration_id,
                    document_id=row.id,
                )
                for row, steps in answers
                for status, info in steps
            ],
        )
    )
    recorded = []
    for row, steps in answers:
        recorded.append([next(receipts) for _ in steps])
        if steps and row.declaration_id is not None and row.current and is_inventory(row):
            declaration = session.get(Declaration, row.declaration_id)
            if declaration is not None:
                declaration.return_status = steps[-1][0]
    return recorded


def answer(session: Session, row: DocumentRow, status: int, info: str) -> StoredReceipt:
    """Record a receipt that changes the document's status (a later refusal)."""
    row.return_status = status
    return record(session, row, status, info)


def status_text(status: ReturnStatus, guid: str) -> str:
    """``returnInfo`` of a plain status receipt, Chinese first, like E-Port's own."""
    return f"{status.meaning_zh}[{guid}] / {status.meaning_en}"


def findings_text(findings: Iterable[Finding]) -> str:
    """``returnInfo`` naming each error: rule id, Chinese message, English message."""
    parts = [
        f"[{f.rule}] {f.message_zh} / {f.message_en}"
        for f in findings
        if f.severity is Severity.ERROR
    ]
    return "; ".join(parts)


def refusal_status(findings: Iterable[Finding]) -> int:
    """The spec's negative code of the first error that has one (e.g. -621005), else 100.

    Platform-level codes (four digits such as 0002 "fails schema") are not receipt statuses:
    they stay in ``returnInfo`` through the rule id, and the receipt says 100.
    """
    for finding in findings:
        code = finding.spec_code or ""
        if finding.severity is Severity.ERROR and code.startswith("-") and code[1:].isdigit():
            return int(code)
    return int(ReturnStatus.REJECTED)


# What the exchange platform checks before the business system sees a message, in its order.
_FORMAT_LAYERS = (Layer.PARSE, Layer.SCHEMA, Layer.SIGNATURE)


def format_failure(findings: Iterable[Finding]) -> tuple[int, str] | None:
    """(returnStatus, returnInfo) of the format-check receipt (CEB900, CEB spec 202205 §3.19
    p. 105) a message gets when it cannot be parsed, fails the schema, or (under the
    ``require`` signature mode) is not signed as §6 says; None when it passes.

    Such a message never reaches the business system: no 2/3/100, only the CEB900. Its status
    is the exchange platform's code of table 7-1 (§7 p. 112), negative as §3.19 asks: -1
    (0001, 报文格式错误), -2 (0002, schema), or the signature's -1001 (数字签名无效), -1002
    (过期), -1004 (签名与数据不符), -1999 (其他安全错误). A message that passes these but
    breaks a business rule keeps its business receipts.
    """
    errors = [f for f in findings if f.severity is Severity.ERROR]
    for layer in _FORMAT_LAYERS:
        failed = [f for f in errors if f.layer is layer]
        if failed:
            break
    else:
        return None
    if layer is Layer.PARSE:
        status = NOT_WELL_FORMED
    elif layer is Layer.SCHEMA:
        status = FAILS_SCHEMA
    else:
        status = -int(failed[0].spec_code or "1999")
    format_errors = [f for f in errors if f.layer in _FORMAT_LAYERS]
    return status, findings_text(format_errors)


def answer_format_failure(
    session: Session, row: DocumentRow, failure: tuple[int, str]
) -> list[StoredReceipt]:
    """Store ``row`` (a message that failed the format check: no set, no lifecycle) with the
    CEB900 that answers it."""
    status, info = failure
    row.return_status = status
    session.add(row)
    session.flush()
    first_receipts(session, document_id=row.id)
    return record_receipts(session, [NewReceipt(FORMAT_RECEIPT, status, info, document_id=row.id)])
