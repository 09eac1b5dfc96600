"""Who may send, modify and withdraw each document of a set (documented in docs/api.md,
"Who may send, modify and withdraw").

``app.security.check_sender`` already decides, from the message alone, that its transmitter is
the party named in its sender field (CEB spec 202205, the 企业代码 fields of each message: order
§2.1.4 pp. 3–4 / §3.1.4 p. 63, 收款单 §2.3.4 p. 9, payment §3.3.4 p. 68, waybill §2.5.4 p. 14 /
§3.5.4 p. 73, 清单 §2.11.4 p. 29 / §3.9.4 p. 83). That alone lets any registered enterprise name
itself in its own field and the victim's ``ebpCode`` + ``orderNo`` everywhere else. Two rules,
checked inside the write transaction that stores the document, close that:

1. **The held document's sender owns its business key.** A document that customs holds under
   the same business key (order, payment and 清单: ``ebpCode`` + ``orderNo``; waybill:
   ``logisticsCode`` + ``logisticsNo``) is changed (appType 2), withdrawn (appType 3) or sent
   anew (appType 1) only by the enterprise that sent it (``access.not_the_sender``). Its role
   follows: the key and ``check_sender`` pin the field that names it.
2. **A set's parties are the ones its documents name.** A document joining a set must be sent
   by the enterprise the set names in the sender's role: the code its current documents of the
   other kinds carry in that field (the 清单 names the platform, the seller and the carrier; the
   import order names the payment company), else the sender of the set's latest document of the
   same kind, current or not (``access.not_in_set``). Where neither names the role (the first
   清单 of a set, the first export 收款单), the first sender names itself: danchuang's only
   register of who entrusted whom is the express operators' (``app.services.entrustments``),
   who act for the party that entrusted them. A waybill joins only the set whose 清单 names it
   (``app.services.sets``); one that waited for that 清单 is adopted only if its sender passes
   this same check (``orphan_may_join``).

Refused documents are not stored, so a refused enterprise never becomes a party of the set and
cannot read its history (``app.services.history``). The refusals name no other enterprise.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.db.models import Declaration, DocumentRow
from app.errors import ServiceError, forbidden
from app.services import set_lookups
from app.services.set_documents import facts_of, kind_of
from declarations import BY_CODE, Facts


def naming_fields(code: str, facts: Facts) -> tuple[str, ...]:
    """The sender fields of a (one-record) document that name the enterprise ``code``."""
    parties = facts.parties
    return tuple(f for f in facts.message.senders(parties.get) if parties.get(f) == code)


def ensure_owner(row: DocumentRow, held: DocumentRow | None) -> None:
    """Rule 1: only the sender of the held document changes, withdraws or supersedes it."""
    if held is None or held.sender_id == row.sender_id:
        return
    raise forbidden(
        "access.not_the_sender",
        f"the {row.message_code} customs holds under this business key was sent by another "
        f"enterprise: only its sender may change (appType 2), delete (appType 3) or replace it",
        f"该业务编号下的{row.message_code}单证由其他企业发送，只有原发送企业可以变更、删除或重新申报",
    )


def ensure_may_join(
    session: Session,
    declaration: Declaration,
    row: DocumentRow,
    code: str,
    fields: Sequence[str],
    *,
    documents: Sequence[DocumentRow],
    created: bool = False,
) -> None:
    """Rule 2: the enterprise ``code``, named in ``fields`` of ``row``, is the party the set
    names in one of those roles (the set's current ``documents`` name them)."""
    if not may_join(session, declaration, row, code, fields, documents=documents, created=created):
        raise _not_in_set(row, fields)


def may_join(
    session: Session,
    declaration: Declaration,
    row: DocumentRow,
    code: str,
    fields: Sequence[str],
    *,
    documents: Sequence[DocumentRow],
    created: bool = False,
) -> bool:
    """Rule 2 as a question, given the set's current ``documents`` (``sets.Place``; with a
    document of the set not stored yet, the 清单 adopting ``row``). A set ``created`` in this
    transaction has had no other document, current or not."""
    kind = kind_of(row)
    named: dict[str, set[str]] = {}
    for other in documents:
        if other.id != row.id and kind_of(other) is not kind:
            for name, value in facts_of(other).parties.items():
                named.setdefault(name, set()).add(value)
    for field in fields:
        if field in named:
            if code in named[field]:
                return True
            continue
        owner = None if created else _latest_sender_of_kind(session, declaration.id, row)
        if owner is None or owner == row.sender_id:
            return True  # the set names nobody in this role yet, or names this sender
    return False


def orphan_may_join(
    session: Session,
    declaration: Declaration,
    orphan: DocumentRow,
    documents: Sequence[DocumentRow],
    *,
    code: str,
) -> bool:
    """Whether the set may adopt ``orphan``, sent by the enterprise ``code``, its current
    ``documents`` being these (the 清单 naming the orphan, arriving, among them): the check its
    sender would have met sending it to the set directly."""
    parties = facts_of(orphan).parties
    sender_fields = BY_CODE[orphan.message_code].senders(parties.get)
    fields = [f for f, v in parties.items() if v == code and f in sender_fields]
    return may_join(session, declaration, orphan, code, fields, documents=documents)


def _latest_sender_of_kind(session: Session, declaration_id: int, row: DocumentRow) -> int | None:
    """The sender of the set's latest document of ``row``'s kind other than ``row``, current
    or not (a refused or withdrawn 清单 still says who declares the set)."""
    read = set_lookups.documents_of_code(session, declaration_id, row.message_code)
    if read is not None:  # read ahead for a group of records: the same answer
        others = [other.sender_id for other in read if other.id != row.id]
        return others[-1] if others else None
    values = {"declaration_id": declaration_id, "code": row.message_code, "id": row.id}
    return session.scalar(_LATEST if row.id is None else _LATEST_OTHER, values)


# Built once. Nothing pending can change the answer (a joining document changes the set's
# documents of other kinds): it is written with the document's INSERT, not flushed first.
_LATEST = (
    select(DocumentRow.sender_id)
    .where(
        DocumentRow.declaration_id == bindparam("declaration_id"),
        DocumentRow.message_code == bindparam("code"),
    )
    .order_by(DocumentRow.id.desc())
    .limit(1)
    .execution_options(autoflush=False)
)
_LATEST_OTHER = _LATEST.where(DocumentRow.id != bindparam("id"))  # a stored ``row``


def _not_in_set(row: DocumentRow, fields: Sequence[str]) -> ServiceError:
    roles = " / ".join(fields)
    return forbidden(
        "access.not_in_set",
        f"the set of order {row.order_no or row.logistics_no} names another enterprise as its "
        f"{roles}: only that party may send its {row.message_code}",
        f"订单{row.order_no or row.logistics_no}所属申报的单证中{roles}为其他企业，"
        f"只有该企业可以发送{row.message_code}",
    )
