"""Sets: tying stored documents to their declaration, and moving a complete set on.

A declaration is the set of one order (the 清单 names its order and platform: CEB spec 202205
§3.9.4 p. 82), keyed by direction + ebpCode + orderNo.
Documents find it by the keys they carry:

- the order, the payment (import CEB411, export CEB403) and the 清单 name orderNo and ebpCode;
- a waybill (import and export alike) is keyed by logisticsCode + logisticsNo: it joins the set
  whose current 清单 names that waybill (the 清单 declares it: CEB spec 202205 §2.11.4 p. 29,
  §3.9.4 p. 83). The import waybill's orderNo does not choose its set: anyone may send an order
  under someone else's orderNo.

A waybill that arrives before its 清单 waits as an *orphan* (no declaration) and is adopted when
the 清单 naming it arrives, if its sender may join that set as a direct submission could
(``authority.may_join``). When the current 清单 of more than one set name the same waybill,
it joins none of them: it waits, and no stranger's set receives it. Only ``current`` documents
count: a rejected, replaced or deleted one stays in the history but not in the set.

When a set holds a 清单 and every document its regime requires, it is reconciled (三单对碰,
``declarations.check_stored_set``, from the facts its documents were stored with) and the
buyer's annual quota is counted (``set_quota``; the sets of a group of records taken together,
read once for all: ``counting``); on success the declaration becomes ``clearance_ready`` for the
engine, otherwise the 清单 is refused with the rule named.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.db.models import Declaration, DocumentRow
from app.receipts import StoredReceipt, first_receipts
from app.services import authority, bonded_books, set_keys, set_lookups, set_quota
from app.services.answers import answer, findings_text, is_inventory, refusal_status
from app.services.set_documents import current_documents, facts_of, kind_of, source_of
from app.services.set_parties import file_adopted, set_parties, share_receipts

# The quota is counted per set; its functions live in set_quota and are used as sets.<name>.
from app.services.set_quota import count_quota, release_quota
from app.states import CLEARANCE_READY, INCOMPLETE, OPEN_STATES, REJECTED, move
from declarations import (
    Direction,
    Kind,
    Regime,
    ReturnStatus,
    Severity,
    check_stored_set,
    data_message,
    required_kinds,
)

__all__ = [
    "Place",
    "advance",
    "attach",
    "count_quota",
    "counting",
    "current_documents",
    "describe_missing",
    "give_back",
    "kind_of",
    "missing_kinds",
    "refuse_inventory",
    "refused",
    "welcome",
]


@dataclass(frozen=True, slots=True)
class Place:
    """The set a document joins: its declaration, whether this transaction created it, and its
    current documents as the document found them (the orphans it adopted included, itself not):
    read once, for ``authority.may_join`` and then ``advance``."""

    declaration: Declaration
    created: bool
    documents: list[DocumentRow]


def attach(session: Session, row: DocumentRow, regime: Regime | None) -> Place | None:
    """Put ``row`` in its declaration (creating it when the row names ebpCode + orderNo), adopt
    the orphan waybill its 清单 names, and return its place (None: the row waits).

    ``row`` may still be unsaved: its ``declaration_id`` is then written with its INSERT, and a
    set it starts (but a 清单's, whose orphans need its id) is written with it."""
    declaration: Declaration | None = None
    created = False
    if kind_of(row) is Kind.WAYBILL:
        declaration = _set_naming_waybill(session, row)
    elif (key := set_keys.set_key(row)) is not None:
        declaration = set_lookups.declaration_of(session, key)
        if declaration is None:
            declaration = Declaration(
                direction=row.direction,
                ebp_code=row.ebp_code,
                order_no=row.order_no,
                state=INCOMPLETE,
                regime=regime.value if regime else None,
            )
            created = True
            if not is_inventory(row):  # nothing else to do: written with the row's INSERT
                row.declaration = declaration
                return Place(declaration, created, [])
            session.add(declaration)
            session.flush()
            first_receipts(session, declaration_id=declaration.id)  # numbered from 1
    if declaration is None:
        return None
    parties = set() if created else set_lookups.parties(session, declaration.id, row.sender_id)
    documents = [] if created else set_lookups.set_documents(session, declaration.id)
    row.declaration_id = declaration.id
    # What changes from here on is written with the row's INSERT: nothing read below depends
    # on it (the sets naming a waybill, orphans, receipts, webhooks).
    with session.no_autoflush:
        # A 清单's tradeMode names the regime for sure; other documents may only suggest one.
        if regime is not None and (declaration.regime is None or is_inventory(row)):
            declaration.regime = regime.value
        # An orphan waybill waits for the 清单 naming it: only then is there anything to adopt.
        # Its receipts join the set's, and every party sees the set's receipts (app.receipts).
        adopted = _adopt_orphans(session, declaration, row, documents) if is_inventory(row) else []
        refiled = file_adopted(session, declaration.id, [orphan.id for orphan in adopted])
        if refiled or not created:  # a new set without orphans has no receipts to share yet
            newcomers = {row.sender_id, *(orphan.sender_id for orphan in adopted)} - parties
            share_receipts(
                session, declaration.id, newcomers=newcomers, members=parties, refiled=refiled
            )
    return Place(declaration, created, [*documents, *adopted])


def welcome(session: Session, declaration_id: int, sender_id: int) -> None:
    """``sender_id`` sends a document of the set outside ``attach`` (a delete): if it is new to
    the set, its webhooks are given the set's receipts, as its feed now shows them."""
    if sender_id not in set_parties(session, declaration_id, sender_id):
        share_receipts(session, declaration_id, newcomers={sender_id})


def sets_named_by(
    session: Session,
    direction: str,
    logistics_code: str | None,
    waybills: Sequence[str],
    inventories: Sequence[str] = (),
) -> list[tuple[str, str, str]]:
    """The keys (direction, ebpCode, orderNo) of the sets whose current 清单 names one of the
    carrier's ``waybills`` or is numbered one of ``inventories`` (invtNo)."""
    named = (DocumentRow.logistics_code == logistics_code) & DocumentRow.logistics_no.in_(waybills)
    query = set_lookups.listing(
        Declaration.direction, Declaration.ebp_code, Declaration.order_no
    ).where(Declaration.direction == direction, named | DocumentRow.invt_no.in_(inventories))
    return [(d, e, o) for d, e, o in session.execute(query)]


def _set_naming_waybill(session: Session, waybill: DocumentRow) -> Declaration | None:
    """The one set whose current 清单 names ``waybill``; none when no set or several do."""
    if not waybill.logistics_no:
        return None
    found = set_lookups.naming_sets(session, set_keys.waybill_key(waybill))
    return session.get(Declaration, found[0]) if len(found) == 1 else None


def _adopt_orphans(
    session: Session,
    declaration: Declaration,
    inventory: DocumentRow,
    documents: Sequence[DocumentRow],
) -> list[DocumentRow]:
    """Put the orphan waybill ``inventory`` names in its declaration (whose current
    ``documents`` are these); returns it (or nothing: another set's 清单 names it too, or its
    sender may not join this set)."""
    if not inventory.logistics_no:
        return []
    if any(
        found != declaration.id
        for found in set_lookups.naming_sets(session, set_keys.waybill_key(inventory))
    ):
        return []  # ambiguous: no set gets the waybill, it keeps waiting
    waiting = set_lookups.orphan_waybills(session, set_keys.waybill_key(inventory))
    with_it = [*documents, inventory]  # the set as the orphan would join it
    adopted = [
        orphan
        for orphan, code in waiting
        if authority.orphan_may_join(session, declaration, orphan, with_it, code=code)
    ]
    for orphan in adopted:
        orphan.declaration_id = declaration.id
    return adopted


def missing_kinds(declaration: Declaration, documents: Sequence[DocumentRow]) -> list[Kind]:
    direction = Direction(declaration.direction)
    regime = Regime(declaration.regime) if declaration.regime else None
    present = {kind_of(d) for d in documents}
    return [k for k in required_kinds(direction, regime) if k not in present]


def describe_missing(declaration: Declaration, kinds: Sequence[Kind]) -> tuple[str, str]:
    direction = Direction(declaration.direction)
    messages = [data_message(direction, k) for k in kinds]
    en = ", ".join(f"{m.name_en} ({m.code})" for m in messages)
    zh = "、".join(f"{m.name_zh}({m.code})" for m in messages)
    return en, zh


def advance(
    session: Session, declaration: Declaration, documents: Sequence[DocumentRow]
) -> StoredReceipt | None:
    """Move the set on if it can: a complete set with its 清单 is reconciled, its buyer's quota
    counted, and it becomes clearance-ready; a failure refuses the 清单 (that receipt is
    returned). ``documents`` are those the set holds (the ones still current count: a
    ``Place``'s documents and the one that joined it). The set is reconciled from its
    documents' facts, not from their XML."""
    if declaration.state not in OPEN_STATES:
        return None
    if declaration.return_status is None:
        # No standing 清单: answering one sets its declaration's ``return_status`` (and a
        # withdrawn one clears it), so there is nothing to reconcile.
        move(declaration, INCOMPLETE)
        return None
    documents = sorted((d for d in documents if d.current), key=lambda d: d.id)
    if refused(declaration.return_status):
        # Customs refused the set's 清单 (here, or the engine at audit). It stays in the
        # history but no longer counts: the set waits for a new one.
        for row in documents:
            if is_inventory(row):
                row.current = False
        documents = [d for d in documents if d.current]
    inventory = next((d for d in documents if is_inventory(d)), None)
    if inventory is None or missing_kinds(declaration, documents):
        move(declaration, INCOMPLETE)
        return None
    members = {source_of(row): facts_of(row) for row in documents}
    findings = check_stored_set(members)
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors:
        return refuse_inventory(
            session, declaration, inventory, refusal_status(errors), findings_text(errors)
        )
    declared = members[source_of(inventory)]
    over = count_quota(session, declaration, declared.purchase)
    if over is not None:
        status, info = refusal_status([over]), findings_text([over])
        return refuse_inventory(session, declaration, inventory, status, info)
    short = bonded_books.draw(session, declaration, declared)  # 1210: its account book
    if short is not None:
        info = f"{short.message_zh} / {short.message_en}"
        return refuse_inventory(session, declaration, inventory, int(short.code), info)
    move(declaration, CLEARANCE_READY)
    declaration.return_status = int(ReturnStatus.SENT)
    return None


def counting(
    session: Session, places: Iterable[tuple[Declaration, Sequence[DocumentRow]]]
) -> AbstractContextManager[None]:
    """The quota of a group of sets, each to ``advance`` with these documents, counted as one
    (``set_quota.counting``): the purchases of those that hold a standing 清单 and every
    document their regime requires, read together at the group's first count."""
    purchases: list[set_quota.Counted] = []
    for declaration, documents in places:
        if declaration.return_status is None or refused(declaration.return_status):
            continue
        current = [d for d in documents if d.current]
        inventory = next((d for d in current if is_inventory(d)), None)
        if inventory is None or missing_kinds(declaration, current):
            continue
        purchase = facts_of(inventory).purchase
        if purchase is not None:
            purchases.append((declaration.id, purchase))
    return set_quota.counting(session, purchases)


def give_back(session: Session, declaration_id: int) -> None:
    """What the declaration's 清单 counted goes back: the buyer's annual quota and what it drew
    from its account book (1210). For a 清单 refused (here or by customs), withdrawn, changed
    or cancelled."""
    release_quota(session, declaration_id)
    bonded_books.give_back(session, declaration_id)


def refused(status: int | None) -> bool:
    """A 清单 status that ends it: 100 (海关退单) or a negative business code."""
    return status is not None and (status == ReturnStatus.REJECTED or status < 0)


def refuse_inventory(
    session: Session, declaration: Declaration, inventory: DocumentRow, status: int, info: str
) -> StoredReceipt:
    receipt = answer(session, inventory, status, info)
    inventory.current = False  # the declarant sends a new 清单 (appType 1) once fixed
    move(declaration, REJECTED)
    give_back(session, declaration.id)
    return receipt
