"""Reading back: declarations and documents as their parties see them, receipts as CEB XML.

Who sees what: an enterprise reads a declaration when it sent at least one document of it
(any party of the set sees the whole history, as the single window's 三单 are compared for all
of them); it reads a document's raw XML only when it sent that document. Anything else is
answered 404, like a missing id: whether it exists is none of the caller's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Integer, Select, bindparam, or_, select
from sqlalchemy.orm import Session

from app.db.models import Declaration, DocumentRow, Receipt
from app.errors import ServiceError, not_found
from app.receipts import AnyReceipt, receipt_json
from app.services import certificates, summary_results, tax_bills, transport
from app.services.set_documents import facts_of
from declarations import (
    BY_CODE,
    FORMAT_RECEIPT,
    FormatReceipt,
    Kind,
    ReceiptEntry,
    ReturnStatus,
    build_format_receipt,
    build_receipt,
    original_type,
    pre_no,
    receipt_keys,
    receipt_type,
)

# What a party polls (its documents, their receipts, its declarations), built once, its values
# bound per call: building a statement cost more than running it (docs/performance.md).
_DOCUMENT = select(DocumentRow).where(DocumentRow.id == bindparam("id"))
_DECLARATION = select(Declaration).where(Declaration.id == bindparam("id"))
_DECLARATION_FOR_UPDATE = _DECLARATION.with_for_update()
_IS_PARTY = (
    select(DocumentRow.id)
    .where(
        DocumentRow.declaration_id == bindparam("declaration_id"),
        DocumentRow.sender_id == bindparam("enterprise_id"),
    )
    .limit(1)
)
_SET_DOCUMENTS = (
    select(DocumentRow)
    .where(DocumentRow.declaration_id == bindparam("declaration_id"))
    .order_by(DocumentRow.id)
)
_SET_RECEIPTS = (
    select(Receipt)
    .where(
        or_(
            Receipt.declaration_id == bindparam("declaration_id"),
            Receipt.document_id.in_(bindparam("ids", expanding=True)),
        )
    )
    .order_by(Receipt.id)
)
_OWN_RECEIPTS = select(Receipt).where(Receipt.document_id == bindparam("id")).order_by(Receipt.id)
# A current 清单's receipts: its own, and those the engine recorded for its declaration since
# it arrived (not those of an earlier 清单 of the set, rejected, then declared anew).
_LIST_RECEIPTS = (
    select(Receipt)
    .where(
        or_(
            Receipt.document_id == bindparam("id"),
            (Receipt.declaration_id == bindparam("declaration_id"))
            & Receipt.document_id.is_(None)
            & (Receipt.message_code == bindparam("code"))
            & (Receipt.created_at >= bindparam("received_at")),
        )
    )
    .order_by(Receipt.id)
)


def document_json(row: DocumentRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "guid": row.guid,
        "message_code": row.message_code,
        "direction": row.direction or None,
        "regime": row.regime,
        "app_type": row.app_type,
        "order_no": row.order_no,
        "ebp_code": row.ebp_code,
        "logistics_no": row.logistics_no,
        "logistics_code": row.logistics_code,
        "invt_no": row.invt_no,
        "declaration_id": row.declaration_id,
        "return_status": row.return_status,
        "current": row.current,
        "received_at": row.received_at.isoformat(),
    }


def declaration_json(declaration: Declaration) -> dict[str, Any]:
    return {
        "id": declaration.id,
        "regime": declaration.regime,
        "direction": declaration.direction,
        "order_no": declaration.order_no,
        "ebp_code": declaration.ebp_code,
        "state": declaration.state,
        "return_status": declaration.return_status,
        "forced_outcome": declaration.forced_outcome,
        "created_at": declaration.created_at.isoformat(),
        "updated_at": declaration.updated_at.isoformat(),
        "sim_declared_at": _iso(declaration.sim_declared_at),
        "sim_updated_at": _iso(declaration.sim_updated_at),
        "delivered_at": _iso(declaration.delivered_at),
        "site_entered_at": _iso(declaration.site_entered_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _declaration_not_found(declaration_id: int) -> ServiceError:
    return not_found(
        "declaration.not_found",
        f"you are not a party to any declaration {declaration_id}",
        f"未找到您参与的申报单{declaration_id}",
    )


def party_declaration(
    session: Session, declaration_id: int, enterprise_id: int, *, for_update: bool = False
) -> Declaration:
    """The declaration, if the enterprise sent a document of it; 404 otherwise.

    ``for_update`` locks its row for the rest of the transaction (to change it)."""
    query = _DECLARATION_FOR_UPDATE if for_update else _DECLARATION
    declaration = session.scalars(query, {"id": declaration_id}).first()
    if declaration is None or not _is_party(session, declaration_id, enterprise_id):
        raise _declaration_not_found(declaration_id)
    return declaration


def _is_party(session: Session, declaration_id: int, enterprise_id: int) -> bool:
    given = {"declaration_id": declaration_id, "enterprise_id": enterprise_id}
    return session.scalar(_IS_PARTY, given) is not None


def own_document(session: Session, document_id: int, enterprise_id: int) -> DocumentRow:
    row = session.scalars(_DOCUMENT, {"id": document_id}).first()
    if row is None or row.sender_id != enterprise_id:
        raise not_found(
            "document.not_found",
            f"you sent no document {document_id}",
            f"未找到您发送的单证{document_id}",
        )
    return row


def history(session: Session, declaration: Declaration) -> list[dict[str, Any]]:
    """Everything received and sent for the declaration, in order: documents as they arrived,
    receipts as they were recorded (wall time ``at``; ``sim_time`` on the virtual clock for the
    engine's receipts)."""
    documents = list(session.scalars(_SET_DOCUMENTS, {"declaration_id": declaration.id}))
    ids = [d.id for d in documents]
    receipts = session.scalars(_SET_RECEIPTS, {"declaration_id": declaration.id, "ids": ids})
    events: list[tuple[datetime, int, int, dict[str, Any]]] = []
    for row in documents:
        entry = {"event": "document", "at": row.received_at.isoformat(), **document_json(row)}
        events.append((row.received_at, 0, row.id, entry))
    for receipt in receipts:
        entry = {"event": "receipt", "at": receipt.created_at.isoformat(), **receipt_json(receipt)}
        events.append((receipt.created_at, 1, receipt.id, entry))
    # A document comes before the receipts answering it, even within one clock tick.
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    return [entry for *_, entry in events]


def list_declarations(
    session: Session,
    enterprise_id: int,
    *,
    state: str | None,
    regime: str | None,
    after: int,
    limit: int,
) -> list[Declaration]:
    given: dict[str, Any] = {"enterprise_id": enterprise_id, "after": after, "limit": limit}
    given |= {"state": state, "regime": regime}
    return list(session.scalars(_listing(bool(state), bool(regime)), given))


@cache
def _listing(by_state: bool, by_regime: bool) -> Select[Declaration]:
    """A party's declarations after a cursor, of a state and of a regime when asked."""
    mine = select(DocumentRow.declaration_id).where(
        DocumentRow.sender_id == bindparam("enterprise_id"), DocumentRow.declaration_id.is_not(None)
    )
    query = select(Declaration).where(Declaration.id.in_(mine), Declaration.id > bindparam("after"))
    if by_state:
        query = query.where(Declaration.state == bindparam("state"))
    if by_regime:
        query = query.where(Declaration.regime == bindparam("regime"))
    return query.order_by(Declaration.id).limit(bindparam("limit", type_=Integer))


# -- receipts as CEB XML --------------------------------------------------------------------


def document_receipts(session: Session, row: DocumentRow) -> list[Receipt]:
    """The receipts answering the document: its own, and for a 清单 that is its declaration's
    current one, those the clearance engine recorded for the declaration."""
    if row.declaration_id is not None and BY_CODE.get(row.message_code) is not None:
        code = BY_CODE[row.message_code]
        if code.receipt is not None and row.current and code.kind is Kind.INVENTORY:
            given = {"id": row.id, "declaration_id": row.declaration_id, "code": code.receipt}
            given["received_at"] = row.received_at
            return list(session.scalars(_LIST_RECEIPTS, given))
    return list(session.scalars(_OWN_RECEIPTS, {"id": row.id}))


def receipts_xml(
    row: DocumentRow, receipts: Sequence[AnyReceipt], *, sum_no: str | None = None
) -> bytes:
    """The receipts as one CEB receipt message (CEB312, CEB622, CEB604...), newest last; a
    message that failed the format check: its CEB900 (one per message). ``sum_no``: the
    summary number customs gave a summary application (CEB701), which its CEB702 receipts
    name once it is accepted (120, 399; §2.22.4 p. 58)."""
    # customs' own summary results (CEB792) answer by themselves, not as CEB702 nodes
    receipts = [r for r in receipts if r.message_code != summary_results.RESULT]
    if not receipts:
        raise ServiceError(
            404,
            "receipt.none",
            f"document {row.id} has no receipt yet",
            f"单证{row.id}尚无回执",
        )
    if receipts[-1].message_code == FORMAT_RECEIPT:
        return _format_receipt_xml(row, receipts[-1])
    # the document's own keys, but the numbers the service gives are the service's
    fields = {k: v for k, v in facts_of(row).keys.items() if k not in _ASSIGNED}
    assigned = {"preNo": pre_no(row.received_at.date(), row.id % 10**9)}
    if row.invt_no:
        assigned["invtNo"] = row.invt_no
    numbered = {**assigned, "sumNo": sum_no} if sum_no else assigned
    entries = [
        ReceiptEntry(
            receipt_keys(
                row.message_code,
                row.guid,
                fields,
                numbered if r.return_status in _NUMBERED_SUMMARY else assigned,
            ),
            r.return_status,
            r.return_info,
            r.created_at,
        )
        for r in receipts[-100:]  # a receipt message holds at most 100 nodes
    ]
    return build_receipt(receipt_type(row.message_code).code, entries)


def answer_xml(session: Session, row: DocumentRow, receipts: Sequence[AnyReceipt]) -> bytes:
    """``receipts_xml`` as the document's sender gets it: in a DxpMsg signed by customs when
    the document came in an envelope (``transport.in_kind``)."""
    xml = receipts_xml(row, receipts, sum_no=summary_results.sum_no_of(session, row))
    return transport.in_kind(row, xml, certificates.customs_signer(session))


_ASSIGNED = ("guid", "preNo", "invtNo")  # numbers the service gives, not the document's
_NUMBERED_SUMMARY = (int(ReturnStatus.ACCEPTED), int(ReturnStatus.DECIDED))


def _format_receipt_xml(row: DocumentRow, receipt: AnyReceipt) -> bytes:
    message = BY_CODE.get(row.message_code)
    return build_format_receipt(
        FormatReceipt(
            status=receipt.return_status,
            info=receipt.return_info,
            time=receipt.created_at,
            original=row.raw_xml,
            original_type=original_type(message.root if message else None),
            original_guid=row.guid,
            original_cop_msg_id=row.cop_msg_id or row.guid,  # a bare message: its guid
        )
    )


# -- one receipt, and the document it answers ------------------------------------------


def documents_of(session: Session, declaration_id: int) -> list[DocumentRow]:
    """Every document ever filed under the declaration (replaced and refused ones too)."""
    return list(
        session.scalars(
            select(DocumentRow)
            .where(DocumentRow.declaration_id == declaration_id)
            .order_by(DocumentRow.id)
        )
    )


def engine_inventory(documents: list[DocumentRow]) -> DocumentRow | None:
    """The 清单 the engine's receipts (filed under the declaration only) answer: the
    declaration's current 清单, else the newest one."""
    inventories = [
        d
        for d in documents
        if (m := BY_CODE.get(d.message_code)) is not None and m.kind is Kind.INVENTORY
    ]
    current = [d for d in inventories if d.current]
    chosen = current or inventories
    return chosen[-1] if chosen else None


def answered_document(session: Session, receipt: AnyReceipt) -> DocumentRow | None:
    """The document a receipt answers: its own document, or — for the engine's receipts — the
    declaration's ``engine_inventory``."""
    if receipt.document_id is not None:
        return session.get(DocumentRow, receipt.document_id)
    if receipt.declaration_id is None:
        return None
    return engine_inventory(documents_of(session, receipt.declaration_id))


def receipt_message(
    session: Session, receipt: AnyReceipt, *, for_enterprise: int | None = None
) -> bytes | None:
    """One receipt as its CEB receipt message (None when it answers no document it could
    be written for). For ``for_enterprise``, the sender of the answered document, it comes in
    the form that document came in (a DxpMsg for an enveloped one, ``transport.in_kind``)."""
    if receipt.message_code in tax_bills.CODES:  # customs' own message, to every party
        return tax_bills.receipt_xml(session, receipt)
    if receipt.message_code == summary_results.RESULT:  # customs' own message, to its sender
        return summary_results.receipt_xml(session, receipt)
    row = answered_document(session, receipt)
    if row is None:
        return None
    if BY_CODE.get(row.message_code) is None and receipt.message_code != FORMAT_RECEIPT:
        return None
    xml = receipts_xml(row, [receipt], sum_no=summary_results.sum_no_of(session, row))
    if for_enterprise != row.sender_id:
        return xml
    return transport.in_kind(row, xml, certificates.customs_signer(session))
