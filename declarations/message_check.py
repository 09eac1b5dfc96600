"""A message of several records checked as the live service takes it (``app.services.batches``):
the whole message's format once, then each record as the one-record message it stands for.

    parse → identify → signature → schema              (the whole message, once)
          → each record cut out (``records.record_messages``)
          → identify → schema → business rules          (each record; its signature is the
                                                         whole's, judged once)

Every CEB data message carries up to 100 records (``declarations.records``), and each record is
answered on its own: the whole message's business rules would be found and never read, so they
are not run. Only a message that fails the format check is answered whole (one CEB900, CEB spec
202205 §3.19 p. 105), with every finding ``pipeline.check`` makes of it, rules included; a
message of one record is checked as ``pipeline.check`` checks it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from declarations.findings import Finding, Layer, Report, Severity
from declarations.messages import Regime
from declarations.parsing import ParseLimits
from declarations.pipeline import FORMAT_STEPS, Checked, Context, _options, _run, rules_step
from declarations.quota import OrderKey, QuotaProvider, QuotaReadAhead
from declarations.records import RecordMessage, record_messages
from declarations.rules.limits import buyer_years
from declarations.schemas import SchemaRegistry
from declarations.signature_check import SignatureMode, SignaturePolicy

__all__ = ["CheckedMessage", "CheckedRecord", "check_message"]

# The signature is judged on the whole message: a record's cut keeps the whole's signature
# element, which only the whole can be verified against (``records.record_messages``).
_UNSIGNED = SignaturePolicy(SignatureMode.OFF)
# What the whole message's check found that holds for each of its records: the envelope's and
# the signature's warnings (their errors fail the format check).
_MESSAGE_LAYERS = (Layer.PARSE, Layer.SIGNATURE)


@dataclass(frozen=True, slots=True)
class CheckedRecord:
    """One record of a message, checked as the one-record message it stands for."""

    message: RecordMessage  # its place, guid and bytes
    checked: Checked  # the whole message's parse and signature findings first, then its own


@dataclass(frozen=True, slots=True)
class CheckedMessage:
    """A message after ``check_message``."""

    whole: Checked  # of a message of several records that passed it: its format check
    # Each record's check, in order; None for a message of one record (``whole`` is then its
    # every check), one that was not identified, or one that failed the format check.
    records: list[CheckedRecord] | None = None


def check_message(
    xml: bytes,
    regime: str | Regime | None = None,
    *,
    source: str = "<input>",
    quota: QuotaProvider | None = None,
    limits: ParseLimits | None = None,
    schemas: SchemaRegistry | None = None,
    signatures: SignaturePolicy | None = None,
) -> CheckedMessage:
    """One message of up to 100 records, checked as the single window answers it: a message of
    several records that passes the format check, record by record (each named ``{source}
    record {number}``); any other as ``pipeline.check`` checks it. The arguments, and what it
    raises, are ``check``'s."""
    ctx = Context(source, xml, _options(regime, quota, limits, schemas, signatures))
    _run([ctx], FORMAT_STEPS)
    document = ctx.document
    if document is None or len(document.records()) <= 1 or _failed(ctx.findings):
        rules_step(ctx)
        return CheckedMessage(ctx.checked())
    whole = ctx.checked()
    carried = [f for f in whole.report.findings if f.layer in _MESSAGE_LAYERS]
    reading = _ReadAhead(ctx.options.quota) if ctx.options.quota is not None else None
    options = replace(ctx.options, quota=reading, signatures=_UNSIGNED)
    messages = record_messages(document)
    contexts = [Context(f"{source} record {m.number}", m.data, options) for m in messages]
    _run(contexts, FORMAT_STEPS)  # every record's format first: the ledger reads ahead for all
    if reading is not None:
        reading.contexts = contexts
    _run(contexts, (rules_step,))
    records = []
    for message, part in zip(messages, contexts, strict=True):
        checked = part.checked()
        report = Report([*carried, *checked.report.findings], checked.report.documents)
        checked = replace(checked, report=report, envelope=whole.envelope)
        records.append(CheckedRecord(message, checked))
    return CheckedMessage(whole, records)


def _failed(findings: Sequence[Finding]) -> bool:
    """Whether the format check refused the message: any error of it (its findings are all of
    the parse, schema and signature layers, the CEB900's, ``Layer``)."""
    return any(f.severity is Severity.ERROR for f in findings)


class _ReadAhead:
    """The ledger as the records of one message ask it: the first ask names every record's
    buyer to a ledger that reads ahead (``quota.QuotaReadAhead``), as the rules of the whole
    message would (``rules.check_document``)."""

    def __init__(self, quota: QuotaProvider) -> None:
        self.quota = quota
        self.contexts: Sequence[Context] | None = None  # the records, until the first ask

    def used(
        self, buyer_id_number: str, year: int, *, replacing: OrderKey | None = None
    ) -> Decimal:
        contexts, self.contexts = self.contexts, None
        if contexts is not None and isinstance(self.quota, QuotaReadAhead):
            checked = [c for c in contexts if c.schema_valid]
            self.quota.read_ahead(buyer_years(u for c in checked for u in c.read_units()))
        return self.quota.used(buyer_id_number, year, replacing=replacing)
