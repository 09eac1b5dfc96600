"""Sets: tying stored documents to their declaration, and moving a complete set on.

A declaration is the set of one order (the 清单 names its order and platform: CEB spec 202205
§3.9.4 p. 82), keyed by direction + ebpCode + orderNo.
Documents find it by the keys they carry:

- the order, the payment (import CEB411, export CEB403) and the 清单 name orderNo and ebpCode;
- the import waybill names orderNo (no ebpCode): it joins the one declaration of that orderNo;
- the export waybill names only logisticsNo + logisticsCode: it joins through the 清单 that
  names the same waybill.

A document that arrives before anything it could join waits as an *orphan* (no declaration)
and is adopted when its set appears. Only ``current`` documents count: a rejected, replaced or
deleted one stays in the history but not in the set.

When a set holds a 清单 and every document its regime requires, it is reconciled (三单对碰,
``declarations.reconcile``) and the buyer's annual quota is counted; on success the declaration
becomes ``clearance_ready`` for the engine, otherwise the 清单 is refused with the rule named.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.orm import Session

from app.db.engine import Database
from app.db.models import Declaration, QuotaEntry, Receipt
from app.db.models import Document as DocumentRow
from app.quota import LedgerQuota
from app.receipts import first_receipts
from app.services.answers import answer, findings_text, is_inventory, refusal_status
from declarations import pipeline, reconcile
from declarations.codes import ReturnStatus
from declarations.document import Document, Fields
from declarations.findings import Severity
from declarations.messages import BY_CODE, Direction, Kind, Regime, data_message
from declarations.rules import limits

# Declaration states of the submission side; the engine's are in ``app.engine.states``.
INCOMPLETE = "incomplete"  # documents arriving; waiting for the rest of the set
CLEARANCE_READY = "clearance_ready"  # complete and reconciled: the clearance engine takes it
REJECTED = "rejected"  # refused (reconciliation, quota, incomplete past the window)
OPEN_STATES = (INCOMPLETE, REJECTED)  # a new or changed document may (re)open the set

ANNUAL_LIMIT = Decimal(26_000)
_INVENTORIES = tuple(m.code for m in BY_CODE.values() if m.kind is Kind.INVENTORY)


@dataclass(frozen=True, slots=True)
class Keys:
    """The business keys of a one-record document, as read from its record (head)."""

    order_no: str | None = None
    ebp_code: str | None = None
    logistics_no: str | None = None
    logistics_code: str | None = None
    pay_transaction_id: str | None = None

    @classmethod
    def of(cls, head: Fields) -> Keys:
        return cls(
            order_no=head.text("orderNo"),
            ebp_code=head.text("ebpCode"),
            logistics_no=head.text("logisticsNo"),
            logistics_code=head.text("logisticsCode"),
            pay_transaction_id=head.text("payTransactionId"),
        )


def kind_of(row: DocumentRow) -> Kind:
    return BY_CODE[row.message_code].kind


# Hot-path statements, built once (building a select() costs about as much as running it).
_CURRENT = select(DocumentRow).where(
    DocumentRow.message_code == bindparam("code"), DocumentRow.current.is_(True)
)
_HELD_WAYBILL = (
    _CURRENT.where(
        DocumentRow.logistics_code == bindparam("logistics_code"),
        DocumentRow.logistics_no == bindparam("logistics_no"),
    )
    .order_by(DocumentRow.id.desc())
    .limit(1)
)
_HELD_BY_ORDER = (
    _CURRENT.where(
        DocumentRow.ebp_code == bindparam("ebp_code"),
        DocumentRow.order_no == bindparam("order_no"),
    )
    .order_by(DocumentRow.id.desc())
    .limit(1)
)
_SET_DOCUMENTS = (
    select(DocumentRow)
    .where(DocumentRow.declaration_id == bindparam("declaration_id"), DocumentRow.current.is_(True))
    .order_by(DocumentRow.id)
)
_DECLARATION = select(Declaration).where(
    Declaration.direction == bindparam("direction"),
    Declaration.ebp_code == bindparam("ebp_code"),
    Declaration.order_no == bindparam("order_no"),
)
_DECLARATIONS_OF_ORDER = (
    select(Declaration)
    .where(
        Declaration.direction == bindparam("direction"),
        Declaration.order_no == bindparam("order_no"),
    )
    .limit(2)
)
_DECLARATION_OF_WAYBILL = (
    select(Declaration)
    .join(DocumentRow, DocumentRow.declaration_id == Declaration.id)
    .where(
        DocumentRow.message_code.in_(_INVENTORIES),
        DocumentRow.current.is_(True),
        DocumentRow.logistics_no == bindparam("logistics_no"),
        DocumentRow.logistics_code == bindparam("logistics_code"),
    )
    .limit(1)
)
_ORPHANS = select(DocumentRow).where(
    DocumentRow.declaration_id.is_(None),
    DocumentRow.current.is_(True),
    DocumentRow.direction == bindparam("direction"),
)
_ORPHANS_OF_ORDER = _ORPHANS.where(
    DocumentRow.order_no == bindparam("order_no"), DocumentRow.ebp_code.is_(None)
)
_ORPHANS_OF_WAYBILL = _ORPHANS.where(
    DocumentRow.logistics_no == bindparam("logistics_no"),
    DocumentRow.logistics_code == bindparam("logistics_code"),
    DocumentRow.order_no.is_(None),
)


def held_document(session: Session, message_code: str, keys: Keys) -> DocumentRow | None:
    """The current document customs holds under the same business key, if any."""
    if BY_CODE[message_code].kind is Kind.WAYBILL:
        query = _HELD_WAYBILL
        values = {"logistics_code": keys.logistics_code, "logistics_no": keys.logistics_no}
    else:
        query = _HELD_BY_ORDER
        values = {"ebp_code": keys.ebp_code, "order_no": keys.order_no}
    return session.scalars(query, {"code": message_code, **values}).first()


def current_documents(session: Session, declaration_id: int) -> list[DocumentRow]:
    return list(session.scalars(_SET_DOCUMENTS, {"declaration_id": declaration_id}))


def attach(session: Session, row: DocumentRow, regime: Regime | None) -> Declaration | None:
    """Put ``row`` in its declaration (creating it when the row names ebpCode + orderNo), adopt
    the orphans that belong with it, and return the declaration (None: the row waits).

    ``row`` may still be unsaved: its ``declaration_id`` is then written with its INSERT."""
    direction = row.direction
    declaration: Declaration | None = None
    created = False
    if row.ebp_code and row.order_no:
        declaration = session.scalars(
            _DECLARATION,
            {"direction": direction, "ebp_code": row.ebp_code, "order_no": row.order_no},
        ).first()
        if declaration is None:
            declaration = Declaration(
                direction=direction,
                ebp_code=row.ebp_code,
                order_no=row.order_no,
                state=INCOMPLETE,
                regime=regime.value if regime else None,
            )
            session.add(declaration)
            session.flush()
            first_receipts(session, declaration_id=declaration.id)  # numbered from 1
            created = True
    elif row.order_no:  # the import waybill
        found = session.scalars(
            _DECLARATIONS_OF_ORDER, {"direction": direction, "order_no": row.order_no}
        ).all()
        declaration = found[0] if len(found) == 1 else None
    elif row.logistics_no:  # the export waybill, through its 清单
        declaration = session.scalars(
            _DECLARATION_OF_WAYBILL,
            {"logistics_no": row.logistics_no, "logistics_code": row.logistics_code},
        ).first()
    if declaration is None:
        return None
    row.declaration_id = declaration.id
    # A 清单's tradeMode names the regime for sure; other documents may only suggest one.
    if regime is not None and (declaration.regime is None or is_inventory(row)):
        declaration.regime = regime.value
    # Orphans wait for a new declaration of their orderNo (import waybills) or for the 清单
    # naming their waybill (export waybills): only then is there anything to adopt.
    if created or is_inventory(row):
        _adopt_orphans(session, declaration, row)
    return declaration


def _adopt_orphans(session: Session, declaration: Declaration, row: DocumentRow) -> None:
    direction = declaration.direction
    waiting = list(
        session.scalars(
            _ORPHANS_OF_ORDER, {"direction": direction, "order_no": declaration.order_no}
        )
    )
    if is_inventory(row) and row.logistics_no:
        waiting += session.scalars(
            _ORPHANS_OF_WAYBILL,
            {
                "direction": direction,
                "logistics_no": row.logistics_no,
                "logistics_code": row.logistics_code,
            },
        )
    for orphan in waiting:
        orphan.declaration_id = declaration.id


def missing_kinds(declaration: Declaration, documents: Sequence[DocumentRow]) -> list[Kind]:
    direction = Direction(declaration.direction)
    regime = Regime(declaration.regime) if declaration.regime else None
    present = {kind_of(d) for d in documents}
    return [k for k in reconcile.required_kinds(direction, regime) if k not in present]


def describe_missing(declaration: Declaration, kinds: Sequence[Kind]) -> tuple[str, str]:
    direction = Direction(declaration.direction)
    messages = [data_message(direction, k) for k in kinds]
    en = ", ".join(f"{m.name_en} ({m.code})" for m in messages)
    zh = "、".join(f"{m.name_zh}({m.code})" for m in messages)
    return en, zh


def advance(
    session: Session,
    declaration: Declaration,
    *,
    arriving: Mapping[int, pipeline.Context] | None = None,
) -> Receipt | None:
    """Move the set on if it can: a complete set with its 清单 is reconciled, its buyer's quota
    counted, and it becomes clearance-ready; a failure refuses the 清单 (that receipt is
    returned). ``arriving``: documents of the set already identified (by id), not parsed again."""
    if declaration.state not in OPEN_STATES:
        return None
    if declaration.return_status is None:
        # No standing 清单: answering one sets its declaration's ``return_status`` (and a
        # withdrawn one clears it), so there is nothing to reconcile; skip reading the set.
        declaration.state = INCOMPLETE
        return None
    documents = current_documents(session, declaration.id)
    if refused(declaration.return_status):
        # Customs refused the set's 清单 (here, or the engine at audit). It stays in the
        # history but no longer counts: the set waits for a new one.
        for row in documents:
            if is_inventory(row):
                row.current = False
        documents = [d for d in documents if d.current]
    inventory = next((d for d in documents if is_inventory(d)), None)
    if inventory is None or missing_kinds(declaration, documents):
        declaration.state = INCOMPLETE
        return None
    parsed = parse_stored(documents, arriving)
    findings = reconcile.check_set(list(parsed.values()))
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors:
        return refuse_inventory(
            session, declaration, inventory, refusal_status(errors), findings_text(errors)
        )
    over = count_quota(session, declaration, parsed[inventory.id])
    if over is not None:
        status = int(limits.ANNUAL.spec_code or 100)
        return refuse_inventory(session, declaration, inventory, status, over)
    declaration.state = CLEARANCE_READY
    declaration.return_status = int(ReturnStatus.SENT)
    return None


def refused(status: int | None) -> bool:
    """A 清单 status that ends it: 100 (海关退单) or a negative business code."""
    return status is not None and (status == ReturnStatus.REJECTED or status < 0)


def refuse_inventory(
    session: Session, declaration: Declaration, inventory: DocumentRow, status: int, info: str
) -> Receipt:
    receipt = answer(session, inventory, status, info)
    inventory.current = False  # the declarant sends a new 清单 (appType 1) once fixed
    declaration.state = REJECTED
    release_quota(session, declaration.id)
    return receipt


def parse_stored(
    rows: Sequence[DocumentRow], arriving: Mapping[int, pipeline.Context] | None = None
) -> dict[int, Document]:
    """The stored documents parsed again (they passed every check on arrival), with the set's
    regime shared as the validation pipeline does for a set. A document in ``arriving`` (by
    id: the one being submitted, identified from the same bytes with the same options a moment
    ago) is not parsed again; a copy of it is relabelled as a stored one."""
    arriving = arriving or {}
    contexts = {
        row.id: pipeline.Context(
            f"document {row.id} ({row.message_code})", row.raw_xml, pipeline.Options()
        )
        for row in rows
    }
    for row_id, ctx in contexts.items():
        known = arriving.get(row_id)
        if known is not None and known.document is not None:
            ctx.document = dataclasses.replace(known.document, source=ctx.source)
            ctx.regime_tentative = known.regime_tentative
            continue
        for step in pipeline.IDENTIFY_STEPS:
            step(ctx)
    pipeline.share_regime(list(contexts.values()))
    parsed: dict[int, Document] = {}
    for row_id, ctx in contexts.items():
        if ctx.document is None:  # cannot happen for a stored current document
            raise RuntimeError(f"stored document {row_id} no longer parses")
        parsed[row_id] = ctx.document
    return parsed


# -- the buyers' annual quota (26,000 CNY a year, 财关税〔2018〕49号) -----------------------


@dataclass(frozen=True, slots=True)
class Purchase:
    buyer_id_number: str
    year: int
    amount: Decimal


def purchase_of(inventory: Document) -> Purchase | None:
    """What an import 清单 counts against its buyer: Σ totalPrice + freight + insuredFee (the
    value ``declarations.rules.limits`` checks), in the year of declTime (else appTime)."""
    if inventory.direction is not Direction.IMPORT:
        return None
    record = inventory.records()[0]
    head = record.head
    buyer = head.text("buyerIdNumber")
    when = head.text("declTime") or head.text("appTime") or ""
    if buyer is None or len(when) < 4 or not when[:4].isdigit():
        return None
    amount = sum((line.decimal("totalPrice") or Decimal(0) for line in record.lines), Decimal(0))
    amount += (head.decimal("freight") or Decimal(0)) + (head.decimal("insuredFee") or Decimal(0))
    return Purchase(buyer, int(when[:4]), amount)


class LedgerQuotaExcept(LedgerQuota):
    """The ledger without one declaration's own entry: what a changed 清单 is checked against
    (its earlier version is replaced, not added to)."""

    def __init__(self, database: Database, declaration_id: int) -> None:
        super().__init__(database)
        self._declaration_id = declaration_id

    def used(self, buyer_id_number: str, year: int) -> Decimal:
        with self._database.read() as session:
            total = session.scalar(
                select(func.coalesce(func.sum(QuotaEntry.amount_fen), 0)).where(
                    QuotaEntry.buyer_id_number == buyer_id_number,
                    QuotaEntry.year == year,
                    QuotaEntry.declaration_id.is_distinct_from(self._declaration_id),
                )
            )
        return Decimal(int(total or 0)) / 100


def quota_for(database: Database, document: Document) -> LedgerQuota:
    """The quota an arriving document is validated against: the whole ledger, except for a
    changed import 清单 (appType 2), whose own declaration's entry does not count."""
    quota = LedgerQuota(database)
    if document.message.kind is not Kind.INVENTORY or document.direction is not Direction.IMPORT:
        return quota
    head = document.records()[0].head if document.records() else None
    if head is None or head.text("appType") != "2":
        return quota
    with database.read() as session:
        declaration_id = session.scalar(
            select(Declaration.id).where(
                Declaration.direction == document.direction.value,
                Declaration.ebp_code == head.text("ebpCode"),
                Declaration.order_no == head.text("orderNo"),
            )
        )
    return quota if declaration_id is None else LedgerQuotaExcept(database, declaration_id)


def count_quota(session: Session, declaration: Declaration, inventory: Document) -> str | None:
    """Count the 清单's purchase in the ledger, or say (returnInfo) why it crosses the limit.

    Validation already checked the quota when the 清单 arrived; this re-check runs inside the
    write transaction, so two 清单 of one buyer arriving together cannot both slip under it.
    The declaration's own earlier entry (a changed 清单) is replaced, not added to.
    """
    purchase = purchase_of(inventory)
    if purchase is None:
        return None
    if session.get_bind().dialect.name == "postgresql":
        # SQLite's write transaction already excludes every other writer.
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:buyer))"),
            {"buyer": purchase.buyer_id_number},
        )
    release_quota(session, declaration.id)
    used_fen = session.scalar(
        select(func.coalesce(func.sum(QuotaEntry.amount_fen), 0)).where(
            QuotaEntry.buyer_id_number == purchase.buyer_id_number,
            QuotaEntry.year == purchase.year,
        )
    )
    used = Decimal(int(used_fen or 0)) / 100
    if used + purchase.amount > ANNUAL_LIMIT:
        total = used + purchase.amount
        return (  # Chinese first, like every returnInfo
            f"[{limits.ANNUAL.id}] 订购人 {purchase.buyer_id_number} {purchase.year}年已用额度 "
            f"{used:.2f} 元，加本次 {purchase.amount:.2f} 元"
            f"共 {total:.2f} 元，超过年度限值26000元 / "
            f"buyer {purchase.buyer_id_number} has used {used:.2f} CNY of the 26,000 CNY annual "
            f"limit in {purchase.year}; this purchase of {purchase.amount:.2f} CNY would bring it "
            f"to {total:.2f}"
        )
    LedgerQuota.add(
        session,
        purchase.buyer_id_number,
        purchase.amount,
        date(purchase.year, 1, 1),
        declaration_id=declaration.id,
    )
    return None


def release_quota(session: Session, declaration_id: int) -> int:
    """Give back what the declaration counted against its buyer's annual quota (its 清单 was
    refused, deleted or changed, or customs rejected or returned it); returns rows removed."""
    result = session.execute(delete(QuotaEntry).where(QuotaEntry.declaration_id == declaration_id))
    return int(getattr(result, "rowcount", 0) or 0)
