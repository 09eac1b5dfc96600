"""One CEB message from the party that sends it, answered as the single window would.

    identify → may this enterprise send it? → same guid again? → schema and rules
             → store it (always) → a format failure (parse, schema, signature) gets a CEB900
             → lifecycle (appType 1/2/3, ``declarations.lifecycle.judge``)
             → receipts: 2 → 3 → 120, or 100 / the spec's negative code
             → its set (``app.services.sets``): reconcile and hand over to the clearance engine

Decisions where the brief is silent:

- The raw bytes are stored whatever the outcome (an unidentified message under a generated
  guid); a parse or schema failure gets a CEB900 alone (``answers.format_failure``). Messages
  refused at the door (403: not the sender's; 422: a ``?regime=`` the message's tradeMode or
  orderType contradicts) are not stored.
- A message of several records (the format allows 100) is a batch: ``app.services.batches``
  cuts it into one-record messages and takes them together (``app.services.taking``), in one
  transaction (docs/live-clearance.md "Batched messages"). ``submit_document`` itself (a
  bundle's member) takes one record: more is a 422.
- A message may come in a DxpMsg or DxpMsgSv envelope (``app.services.transport``).
- A resent guid from the same sender with the same bytes is the same message: the stored
  answer comes back (HTTP 200, ``repeat: true``), no receipt added; else a 409.
- A rejected message (100 / negative code) is kept in the history but holds no place in its
  set; the party sends a corrected one with a new guid (appType 1).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

import structlog
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from app import metrics
from app.accounts import Principal
from app.db.engine import Database
from app.db.models import Declaration, DocumentRow, Receipt
from app.errors import ServiceError, conflict
from app.quota import LedgerQuota
from app.receipts import STORED, StoredReceipt
from app.services import entrustments, taking, transport
from app.services.answers import answer_format_failure, findings_text, format_failure
from app.services.taking import Outcome
from declarations import (
    FAILS_SCHEMA,
    REGIME_CONFLICT,
    Checked,
    Regime,
    Report,
    ReturnStatus,
    SignatureMode,
    SignaturePolicy,
    check,
    parse_regime,
)

__all__ = [
    "ATTEMPTS",
    "Outcome",
    "count",
    "refuse_regime_conflict",
    "regime_argument",
    "repeat_of",
    "retry_reason",
    "submit_checked",
    "submit_document",
    "write_retrying",
]

ATTEMPTS = 3  # a write that loses a race on a unique key (guid, set key) is retried
_GUID_CONSTRAINT = "uq_documents_guid"  # PostgreSQL's name of the documents' unique guid

log = structlog.get_logger("danchuang.submission")
T = TypeVar("T")


def regime_argument(value: str | None) -> Regime | None:
    """A ``?regime=`` argument, checked early with a clear 422."""
    try:
        return parse_regime(value)
    except ValueError as exc:
        raise ServiceError(
            422, "request.unknown_regime", str(exc), f"未知的监管方式：{value}"
        ) from exc


def refuse_regime_conflict(report: Report) -> None:
    """A ``?regime=`` the message's own tradeMode or orderType contradicts is the request's
    error, not the message's: 422 naming both values, nothing stored."""
    for finding in report.findings:
        if finding.rule == REGIME_CONFLICT.id:
            raise ServiceError(
                422, "request.regime_conflict", finding.message_en, finding.message_zh
            )


def submit_document(
    database: Database,
    enterprise: Principal,
    data: bytes,
    *,
    regime: Regime | None = None,
    source: str = "<request body>",
    signatures: SignaturePolicy | None = None,
) -> Outcome:
    """One message of one record, checked and answered (a batch: ``app.services.batches``)."""
    # Checked once, against the ledger as it stands (the quota is checked again when a set is
    # counted, app.services.set_quota) and the signature policy of the caller.
    checked = check(data, regime, source=source, quota=LedgerQuota(database), signatures=signatures)
    return submit_checked(database, enterprise, data, checked)


def submit_checked(
    database: Database, enterprise: Principal, data: bytes, checked: Checked
) -> Outcome:
    """``submit_document`` once the message is checked."""
    report = checked.report
    refuse_regime_conflict(report)
    transport.ensure_sender(enterprise, checked.envelope)
    document = checked.document
    if document is None:
        return _store_unidentified(database, enterprise, data, checked)
    code = document.message.code
    try:
        acting = entrustments.ensure_may_send(database, enterprise, document)
    except ServiceError:
        metrics.SUBMISSIONS.labels(message=code, outcome="refused").inc()
        raise
    if len(document.records()) != 1:
        metrics.SUBMISSIONS.labels(message=code, outcome="refused").inc()
        raise ServiceError(
            422,
            "submission.one_record",
            f"a bundle's message holds one {document.message.record} record; this {code} "
            f"holds {len(document.records())}: send it on its own to POST /api/v1/documents",
            f"报文包中每份报文只能包含一条{document.message.record}记录，本{code}报文包含"
            f"{len(document.records())}条：请单独发送至 POST /api/v1/documents",
        )
    guid = document.guid or ""
    facts = checked.facts()

    # A resent guid is recognised by the write itself: the guid is unique, so storing it again
    # fails, and the next attempt looks the guid up (no race). Validating a rare repeat first
    # costs less than a lookup for every message.
    def take(session: Session, again: bool) -> Outcome:
        repeat = repeat_of(session, enterprise, guid, data) if again else None
        if repeat is not None:
            return repeat
        arrival = taking.Arrival(facts, acting, guid, data, checked)
        (outcome,) = taking.take_all(session, enterprise, [arrival])
        return outcome

    try:
        outcome = write_retrying(database, take)
    except ServiceError:  # not this sender's to change, or not its set (403)
        metrics.SUBMISSIONS.labels(message=code, outcome="refused").inc()
        raise
    if not outcome.repeat:
        count(code, outcome)
    return outcome


def write_retrying(database: Database, work: Callable[[Session, bool], T]) -> T:
    """``work(session, again)`` in a write transaction, taken again (``again`` true) when the
    write fails for a reason the next attempt resolves (``retry_reason``), at most ``ATTEMPTS``
    times. Each retry is counted (``danchuang_write_retries_total``); one that redoes work
    because of a concurrent write is also logged, at WARNING."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with database.write() as session:
                return work(session, attempt > 1)
        except (IntegrityError, OperationalError) as exc:
            reason = retry_reason(exc)
            if reason is None or attempt == ATTEMPTS:
                raise
            metrics.WRITE_RETRIES.labels(reason=reason).inc()
            if reason != "resend":
                log.warning("write.retried", reason=reason, attempt=attempt, error=str(exc.orig))
    raise AssertionError("unreachable")  # the loop returns or raises


def retry_reason(exc: IntegrityError | OperationalError) -> str | None:
    """Why a failed write is worth taking again, or None:

    - ``resend``: its guid is stored already (the next attempt answers it as a repeat);
    - ``race``: another unique key, which a concurrent write took first (a set's key);
    - ``deadlock``: one PostgreSQL broke (``set_locks`` orders the locks to avoid them)."""
    if isinstance(exc, IntegrityError):
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        if constraint == _GUID_CONSTRAINT or f"{DocumentRow.__tablename__}.guid" in str(exc.orig):
            return "resend"
        return "race"
    return "deadlock" if getattr(exc.orig, "sqlstate", "") == "40P01" else None


_PLAYED_SIGNATURES = SignaturePolicy(SignatureMode.OFF)  # danchuang's own: not judged


def played(enterprise: Principal, data: bytes, *, source: str) -> taking.Arrival:
    """A message danchuang sends itself, playing a party (``app.services.stand_ins``), checked
    like any other (its sample signature judged under ``off``: it is danchuang's own), to be
    taken by ``take_played``. Raises ``ValueError`` when danchuang built a message its own
    checks refuse (a bug, not an input error)."""
    checked = check(data, None, source=source, signatures=_PLAYED_SIGNATURES)
    if checked.document is None or not checked.report.valid:
        raise ValueError(f"danchuang's own {source} does not pass: {checked.report.findings}")
    guid = checked.document.guid or ""
    return taking.Arrival(checked.facts(), enterprise.code, guid, data, checked)


def take_played(
    session: Session, enterprise: Principal, arrivals: list[taking.Arrival]
) -> list[Outcome]:
    """Messages of danchuang's (``played``), all from ``enterprise``, taken together."""
    outcomes = taking.take_all(session, enterprise, arrivals, played=True)
    for arrival, outcome in zip(arrivals, outcomes, strict=True):
        count(arrival.facts.message.code, outcome)
    return outcomes


def count(code: str, outcome: Outcome) -> None:
    """Metrics of a new submission (a repeat is not counted again)."""
    accepted = outcome.document.return_status in (ReturnStatus.SENT, ReturnStatus.ACCEPTED)
    metrics.SUBMISSIONS.labels(message=code, outcome="accepted" if accepted else "rejected").inc()
    for finding in outcome.report.findings if outcome.report else ():
        metrics.FINDINGS.labels(rule=finding.rule, severity=finding.severity.value).inc()


# Hot-path statements are built once: building a select() costs more than running it here.
_BY_GUID = select(DocumentRow).where(DocumentRow.guid == bindparam("guid"))


def repeat_of(session: Session, enterprise: Principal, guid: str, data: bytes) -> Outcome | None:
    """The stored answer when this guid was received before (idempotent resend)."""
    if not guid:
        return None
    row = session.scalars(_BY_GUID, {"guid": guid}).first()
    if row is None:
        return None
    if row.sender_id != enterprise.id or row.raw_xml != data:
        # Another enterprise's document is not named: its id is none of this sender's business.
        yours = f" (your document {row.id})" if row.sender_id == enterprise.id else ""
        raise conflict(
            "submission.guid_reused",
            f"guid {guid} was already used for another message{yours}; "
            "every message needs its own guid",
            f"报文编号(guid) {guid} 已被另一份报文使用，每份报文须使用新的guid",
        )
    declaration = session.get(Declaration, row.declaration_id) if row.declaration_id else None
    return Outcome(row, receipts_of(session, row), None, repeat=True, http_status=200,
                   declaration=declaration)  # fmt: skip


def receipts_of(session: Session, row: DocumentRow) -> list[StoredReceipt]:
    query = select(*STORED).where(Receipt.document_id == row.id).order_by(Receipt.id)
    return [StoredReceipt(*receipt) for receipt in session.execute(query)]


def _store_unidentified(
    database: Database, enterprise: Principal, data: bytes, checked: Checked
) -> Outcome:
    report = checked.report
    with database.write() as session:  # no set: nothing to lock
        row = DocumentRow(
            guid=str(uuid.uuid4()).upper(),
            message_code="UNKNOWN",
            direction="",
            raw_xml=data,
            sender_id=enterprise.id,
            current=False,
        )
        transport.keep(row, checked.envelope)
        failure = format_failure(report.findings) or (FAILS_SCHEMA, findings_text(report.findings))
        receipts = answer_format_failure(session, row, failure)
    outcome = Outcome(row, receipts, report, http_status=422)
    count("UNKNOWN", outcome)
    return outcome
