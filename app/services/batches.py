"""A message of several records (a batch), answered record by record as the single window does.

    check the whole message once (parse, envelope, signature, schema), and each record cut
    out as the one-record message it stands for, on its own: its business rules
    (``declarations.check_message``)
      → may this enterprise send every record of it? (all or nothing: 403, nothing stored)
      → a format failure (parse, schema, signature) refuses the whole message: stored once,
        answered with one CEB900 (``answers.format_failure``), as a one-record message is
      → every record taken as its own document, in one write transaction (``taking``: the
        records stored and answered together): its own business key, findings, receipts, set

A message of one record goes the way it always went (``submission.submit_checked``).

Decisions where the brief is silent (docs/live-clearance.md "Batched messages"):

- A record's document keeps the one-record message cut from the batch (the root, its guid the
  record's, with that record, ``BaseTransfer`` and the rest): what the record would have been
  sent alone, so that its answer, its repeat and ``GET …/xml`` read like any one-record
  document's. The batch's signature is judged once, on the whole message (its verdict is in
  every record's report); the cut keeps the signature element (the 清单's schema requires
  one), which verifies against the whole message only, and the whole message's bytes are not
  kept (no table holds a message beside its documents: keeping them would take a migration).
- A repeated record guid within one message is the request's error: 422, nothing stored.
- One transaction per message: a record that may not join its set (403), or a record guid used
  before for another message (409), refuses the whole message and nothing of it is stored. A
  record sent before with the same bytes is answered with its stored answer (``repeat``); a
  batch whose every record is a repeat is answered 200.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lxml import etree
from sqlalchemy.orm import Session

from app import metrics
from app.accounts import Principal
from app.db.engine import Database
from app.db.models import DocumentRow
from app.errors import ServiceError
from app.quota import MessageQuota
from app.services import (
    certificates,
    entrustments,
    history,
    set_locks,
    submission,
    taking,
    transport,
)
from app.services.answers import answer_format_failure, format_failure
from app.services.taking import Outcome
from declarations import (
    Checked,
    CheckedRecord,
    Document,
    Regime,
    SignaturePolicy,
    check_message,
    identify_document,
    record_messages,
)


@dataclass(slots=True)
class BatchOutcome:
    """The answer to a batch: each record's own, in the message's order."""

    guid: str  # the message's guid (its root's)
    message_code: str
    records: list[Outcome]
    http_status: int = 201

    @property
    def repeat(self) -> bool:
        """Every record was received before (the whole message resent)."""
        return all(outcome.repeat for outcome in self.records)


def submit_message(
    database: Database,
    enterprise: Principal,
    data: bytes,
    *,
    regime: Regime | None = None,
    source: str = "<request body>",
    signatures: SignaturePolicy | None = None,
) -> Outcome | BatchOutcome:
    """One CEB message of up to 100 records: a one-record message's answer, or each record's."""
    message = check_message(
        data, regime, source=source, quota=MessageQuota(database), signatures=signatures
    )
    checked = message.whole
    document = checked.document
    if document is None or len(document.records()) <= 1:
        return submission.submit_checked(database, enterprise, data, checked)
    code = document.message.code
    submission.refuse_regime_conflict(checked.report)
    transport.ensure_sender(enterprise, checked.envelope)
    try:
        _ensure_may_send(database, enterprise, document)
        failure = format_failure(checked.report.findings)
        if failure is not None:  # the exchange platform's format check refuses it whole
            return _store_whole(database, enterprise, data, checked, failure)
        assert message.records is not None  # a message that passed the format check
        records = _records(database, enterprise, document, message.records)
        outcome = _write(database, enterprise, document.guid or "", code, records)
    except ServiceError:
        metrics.SUBMISSIONS.labels(message=code, outcome="refused").inc()
        raise
    for answered in outcome.records:
        if not answered.repeat:
            submission.count(code, answered)
    return outcome


def _ensure_may_send(database: Database, enterprise: Principal, document: Document) -> None:
    """Every record must be the sender's (``app.security.check_sender``: all or nothing), else
    403 naming the first record it may not send."""
    try:
        entrustments.ensure_may_send(database, enterprise, document)
    except ServiceError as refused:
        # An entrusted agent's refusal names the first record that does not name the agent
        # itself, not necessarily one that no entrustment covers: each record's own check
        # finds that one.
        for part in record_messages(document):
            cut, _ = identify_document(part.data)
            try:
                if cut is not None:
                    entrustments.ensure_may_send(database, enterprise, cut)
            except ServiceError as exc:
                raise _naming(exc, part.number) from refused
        raise


def _naming(refusal: ServiceError, number: int) -> ServiceError:
    """A record's refusal (``check_sender`` calls a one-record message's record 1) with the
    record's place in the whole message."""
    return ServiceError(
        refusal.status,
        refusal.code,
        refusal.message_en.replace("record 1 of", f"record {number} of", 1),
        refusal.message_zh.replace("第1条记录", f"第{number}条记录", 1),
    )


def _records(
    database: Database, enterprise: Principal, document: Document, checked: list[CheckedRecord]
) -> list[taking.Arrival]:
    """Each record as the one-record message it stands for; refuses the whole message (nothing
    stored) for a record guid given twice, a ``?regime=`` a record contradicts, or a record its
    sender may not send."""
    seen: dict[str, int] = {}
    records = []
    for record in checked:
        message, part = record.message, record.checked
        guid = message.guid or ""
        if guid in seen:
            raise ServiceError(
                422,
                "submission.record_guid_repeated",
                f"records {seen[guid]} and {message.number} of this {document.message.code} "
                f"both have guid {guid}: every record needs its own guid",
                f"本{document.message.code}报文第{seen[guid]}条与第{message.number}条记录的"
                f"系统唯一序号(guid)同为{guid}，每条记录须使用不同的guid",
            )
        seen[guid] = message.number
        cut = part.document
        if cut is None:  # a record of an identified message is identified alike
            raise AssertionError(f"{part.source} was not identified")
        submission.refuse_regime_conflict(part.report)
        acting = entrustments.ensure_may_send(database, enterprise, cut)
        records.append(taking.Arrival(part.facts(), acting, guid, message.data, part))
    return records


def _write(
    database: Database, enterprise: Principal, guid: str, code: str, records: list[taking.Arrival]
) -> BatchOutcome:
    """Every record taken in one write transaction (``taking.take_all``). A resent guid is
    recognised by the write itself (as in ``submission.submit_checked``): the next attempt
    answers each record received before with its stored answer and takes the others."""

    def take(session: Session, again: bool) -> list[Outcome]:
        # Every record's keys at once, in the one order (``set_locks``).
        keys = [key for r in records for key in set_locks.keys_of(r.facts)]
        set_locks.lock(session, keys, exclusive=any(set_locks.whole(r.facts) for r in records))
        return _take(session, enterprise, records, again=again)

    outcomes = submission.write_retrying(database, take)
    status = 200 if all(o.repeat for o in outcomes) else 201
    return BatchOutcome(guid, code, outcomes, http_status=status)


def _take(
    session: Session, enterprise: Principal, records: list[taking.Arrival], *, again: bool
) -> list[Outcome]:
    """Each record's outcome, in order: its stored answer if it was received before (looked
    up only on a retry), else taken with the other new ones."""
    repeats = [
        submission.repeat_of(session, enterprise, r.guid, r.data) if again else None
        for r in records
    ]
    new = [r for r, repeat in zip(records, repeats, strict=True) if repeat is None]
    taken = iter(taking.take_all(session, enterprise, new))
    return [repeat if repeat is not None else next(taken) for repeat in repeats]


def _store_whole(
    database: Database,
    enterprise: Principal,
    data: bytes,
    checked: Checked,
    failure: tuple[int, str],
) -> Outcome:
    """A batch that fails the format check: stored once, as received, with its CEB900."""
    document = checked.document
    assert document is not None
    given = document.guid or ""
    guid = given if 0 < len(given) <= 36 else str(uuid.uuid4()).upper()

    def store(session: Session, again: bool) -> Outcome:
        repeat = submission.repeat_of(session, enterprise, guid, data) if again else None
        if repeat is not None:
            return repeat
        row = DocumentRow(
            guid=guid,
            message_code=document.message.code,
            direction=document.direction.value,
            regime=document.regime.value if document.regime else None,
            raw_xml=data,
            sender_id=enterprise.id,
            current=False,
        )
        transport.keep(row, checked.envelope)
        return Outcome(row, answer_format_failure(session, row, failure), checked.report)

    outcome = submission.write_retrying(database, store)
    if not outcome.repeat:
        submission.count(document.message.code, outcome)
    return outcome


def answer_xml(session: Session, outcome: BatchOutcome) -> bytes:
    """The batch's answer as one CEB receipt message: one node per record, its latest receipt
    (as the official receipt samples hold several nodes), in the envelope its message came in
    (``transport.in_kind``)."""
    combined: etree._Element | None = None
    prolog = b""
    for answered in outcome.records:
        xml = history.receipts_xml(answered.document, answered.receipts[-1:])
        root = etree.fromstring(xml)
        if combined is None:
            combined = root
            prolog = xml[: xml.index(b"?>") + 2] if xml.startswith(b"<?xml") else b""
        else:
            combined.extend(list(root))
    assert combined is not None  # a batch has records
    body = etree.tostring(combined, encoding="UTF-8", xml_declaration=False)
    first = outcome.records[0].document
    return transport.in_kind(first, prolog + body, certificates.customs_signer(session))
