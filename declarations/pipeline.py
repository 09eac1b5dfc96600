"""The validation pipeline: small steps over one context, after the KoSIT validator.

    parse → identify → signature → schema → business rules        (each document)
          → reconciliation (三单对碰)                   (each set)
          → acceptance                                  (the report)

Every step reads and extends a ``Context``; a step whose input is missing does nothing, so a
document that failed the schema is not rule-checked, while a set still reconciles the documents
that passed. All findings are kept, not only the first. The CLI and the HTTP API are thin layers
over ``validate``, ``validate_set`` and ``validate_batch``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lxml import etree

from declarations import reconcile, rules
from declarations.document import Document
from declarations.envelope import Envelope, is_envelope, open_envelope
from declarations.facts import Facts, common_regime, facts_of
from declarations.findings import DocumentSummary, Finding, Report, Severity
from declarations.identify import identify, parse_regime
from declarations.messages import CEB_NS, DSIG_NS, Kind, Regime
from declarations.parsing import DEFAULT_LIMITS, ParseLimits, parse_xml, tree_refusal
from declarations.quota import QuotaProvider
from declarations.schemas import SchemaRegistry, default_registry
from declarations.signature_check import SignatureMode, SignaturePolicy, check_signatures
from declarations.xmldsig import SIGNATURE_TAG

DEFAULT_POLICY = SignaturePolicy()  # warn; nobody's ownership checked (offline validation)

# Enum members read in every call, bound once: on Python 3.11 ``Kind.RETURN`` is a class
# attribute lookup through the enum's metaclass, several times a module global's cost.
_RETURN = Kind.RETURN
_ERROR = Severity.ERROR


@dataclass(slots=True)
class Options:
    """What stays the same for every document of one call."""

    regime: Regime | None = None
    quota: QuotaProvider | None = None
    limits: ParseLimits = DEFAULT_LIMITS
    schemas: SchemaRegistry | None = None
    signatures: SignaturePolicy = DEFAULT_POLICY


@dataclass(slots=True)
class Context:
    """One document on its way through the steps."""

    source: str
    data: bytes
    options: Options
    findings: list[Finding] = field(default_factory=list)
    root: etree._Element | None = None
    document: Document | None = None
    regime_tentative: bool = False  # assumed, not named: see identify.Identified
    envelope: Envelope | None = None  # the transport envelope it came in (DxpMsg, DxpMsgSv)
    signed_envelope: bytes | None = None  # that envelope's bytes, when it is signed itself
    schema_valid: bool = False
    # The document's records with their fields, read once (rules.read_units) and shared by the
    # rules and the reconciliation of this call.
    units: list[rules.Unit] | None = None

    def read_units(self) -> list[rules.Unit]:
        if self.units is None:
            assert self.document is not None, "only an identified document has records"
            self.units = rules.read_units(self.document)
        return self.units

    def checked(self) -> Checked:
        return Checked(self.source, accept([self]), self.document, not self.regime_tentative,
                       self.units if self.schema_valid else None, self.envelope)  # fmt: skip

    def summary(self) -> DocumentSummary:
        doc = self.document
        if doc is None:
            return DocumentSummary(self.source)
        # ``_value_`` rather than ``.value``: the same text, but a plain attribute, where
        # Python 3.11 runs ``.value`` through a descriptor written in Python (~10x the cost).
        regime = doc.regime
        return DocumentSummary(
            self.source,
            doc.message.code,
            doc.direction._value_,
            regime._value_ if regime is not None else None,
            doc.guid,
        )


@dataclass(frozen=True, slots=True)
class Checked:
    """One document after every check of the core (``check``): the report, and what was learnt
    about it, so that nobody reads its XML again."""

    source: str
    report: Report
    document: Document | None  # None: it could not be identified (the report says why)
    regime_named: bool  # the document (or the caller) named its regime; else it was assumed
    # The records as the rules read them, when the document passed the schema (else None).
    units: list[rules.Unit] | None = None
    envelope: Envelope | None = None  # the transport envelope it came in, if any

    def facts(self) -> Facts:
        """What to keep of a one-record document (``declarations.facts``)."""
        document = self.document
        if document is None:
            raise ValueError(f"{self.source} was not identified: it has no facts")
        if len(document.records()) != 1:
            raise ValueError(
                f"{self.source} holds several records: only one-record documents have facts "
                "(the live service takes one record per message)"
            )
        unit: rules.Unit | None = None
        if self.report.valid:
            (unit,) = self.units if self.units is not None else rules.read_units(document)
        return facts_of(document, unit, regime_named=self.regime_named)


def parse_step(ctx: Context) -> None:
    # The checks on the built tree (depth, XInclude) wait: see _refused_tree.
    parsed = parse_xml(
        ctx.data, source=ctx.source, limits=ctx.options.limits, defer_tree_checks=True
    )
    ctx.root = parsed.root
    ctx.findings.extend(parsed.findings)
    if ctx.root is not None and is_envelope(ctx.root):  # checked as the message it carries
        if _signed(ctx.root):
            ctx.signed_envelope = ctx.data
        opened = open_envelope(ctx.root, source=ctx.source, limits=ctx.options.limits)
        ctx.envelope, ctx.root, ctx.data = opened.envelope, opened.root, opened.data
        ctx.findings.extend(opened.findings)


def _signed(root: etree._Element) -> bool:
    return len(root) > 0 and root[-1].tag == SIGNATURE_TAG


def signature_step(ctx: Context) -> None:
    """The message's signature, and its envelope's, under the caller's policy (only a signed
    message is read again: ``declarations.signature_check``)."""
    policy = ctx.options.signatures
    root = ctx.root
    if root is None or policy.mode is SignatureMode.OFF:
        return
    if policy.mode is SignatureMode.WARN and not _signed(root) and ctx.signed_envelope is None:
        return
    ctx.findings += check_signatures(
        ctx.data, policy, source=ctx.source, root_name=f"ceb:{etree.QName(root).localname}",
        envelope_data=ctx.signed_envelope,
        envelope_name=ctx.envelope.kind if ctx.envelope is not None else None,
    )  # fmt: skip


# The only elements of a schema-valid message under which the schema lets any XML through
# (xs:any): the signature and the extension, which stand last among the root's children.
# tests/declarations/test_tree_checks.py holds our XSDs to this.
_OPEN_CONTENT = frozenset({"{" + DSIG_NS + "}Signature", "{" + CEB_NS + "}ExtendMessage"})


def _schema_vouches(root: etree._Element) -> bool:
    """Whether a tree that passed the schema is known to be shallow and free of XInclude: the
    schema admits neither, except under the signature or the extension."""
    if len(root) == 0:
        return False
    last: object = root[-1].tag  # (see document.TAG_NOTE)
    return last not in _OPEN_CONTENT


def _refused_tree(ctx: Context) -> bool:
    """The parse step's checks on the built tree (``parsing.tree_refusal``), run only where the
    schema cannot vouch for the tree: a document that was not identified, failed the schema,
    or holds a signature or an extension. A refusal replaces what the later steps said, as if
    the parse step had made it; the document goes no further."""
    assert ctx.root is not None
    refusal = tree_refusal(ctx.root, ctx.data, source=ctx.source, limits=ctx.options.limits)
    if refusal is None:
        return False
    ctx.findings = [refusal]
    ctx.root = ctx.document = None
    ctx.regime_tentative = ctx.schema_valid = False
    return True


def identify_step(ctx: Context) -> None:
    if ctx.root is None:
        return
    identified = identify(
        ctx.root, source=ctx.source, regime=ctx.options.regime, raw_size=len(ctx.data)
    )
    if identified.document is None and _refused_tree(ctx):
        return
    ctx.document = identified.document
    if ctx.document is not None:
        ctx.document.comment_free = True  # parse_step's tree: parse_xml drops comments and PIs
    ctx.regime_tentative = identified.tentative
    ctx.findings.extend(identified.findings)


def schema_step(ctx: Context) -> None:
    if ctx.document is None:
        return
    registry = ctx.options.schemas or default_registry()
    found = registry.check(ctx.document)
    assert ctx.root is not None  # identified documents have their tree
    if not found and _schema_vouches(ctx.root):  # the usual case
        ctx.schema_valid = True
        return
    if _refused_tree(ctx):
        return
    ctx.findings.extend(found)
    ctx.schema_valid = not any(f.severity is _ERROR for f in found)


def rules_step(ctx: Context) -> None:
    if ctx.document is None or not ctx.schema_valid:
        return
    if ctx.document.message.code not in rules.CHECKS:
        return  # receipts: nothing to check until the reconciliation
    found = rules.check_document(ctx.document, quota=ctx.options.quota, units=ctx.read_units())
    if found:  # (most documents have no finding: no list to copy)
        ctx.findings.extend(_with_source(found, ctx.source))


Step = Callable[[Context], None]
# Until the regime is known, then after: a set settles its regime between the two (share_regime).
IDENTIFY_STEPS: tuple[Step, ...] = (parse_step, identify_step)
CHECK_STEPS: tuple[Step, ...] = (signature_step, schema_step, rules_step)
DOCUMENT_STEPS: tuple[Step, ...] = IDENTIFY_STEPS + CHECK_STEPS
# The exchange platform's format check (CEB900, CEB spec 202205 §3.19 p. 105): all but the rules.
FORMAT_STEPS: tuple[Step, ...] = DOCUMENT_STEPS[:-1]


def share_regime(members: Sequence[Context]) -> None:
    """The documents of one deal share its regime (``facts.common_regime``)."""
    regime = common_regime(
        (c.document.regime, not c.regime_tentative) for c in members if c.document is not None
    )
    if regime is None:
        return
    for ctx in members:
        doc = ctx.document
        if doc is not None and ctx.regime_tentative and doc.direction in regime.directions:
            doc.regime = regime
            ctx.regime_tentative = False


def _with_source(findings: Sequence[Finding], source: str) -> list[Finding]:
    """Name the document on findings whose maker did not."""
    return [f if f.source else f._replace(source=source) for f in findings]


def _run(contexts: Sequence[Context], steps: Sequence[Step]) -> None:
    for ctx in contexts:
        for step in steps:
            step(ctx)


def reconcile_step(members: Sequence[Context], options: Options) -> list[Finding]:
    """Cross-document checks over the members of one set that passed the schema."""
    passed = [
        c.read_units()
        for c in members
        if c.schema_valid and c.document is not None and c.document.message.kind is not _RETURN
    ]
    if not passed:
        return []
    return reconcile.check_units(passed)


def accept(contexts: Sequence[Context], set_findings: Sequence[Finding] = ()) -> Report:
    """The acceptance step: every finding in pipeline order, and what was learnt about each
    document. The verdict (``Report.valid``) is that no finding is an error; warnings, such as
    a set that lacks a document still to come, do not refuse it."""
    findings = [f for ctx in contexts for f in ctx.findings]
    findings.extend(set_findings)
    return Report(findings, [ctx.summary() for ctx in contexts])


def _named(documents: Sequence[bytes | tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    named: list[tuple[str, bytes]] = []
    for number, item in enumerate(documents, start=1):
        if isinstance(item, tuple):
            named.append(item)
        else:
            named.append((f"<document {number}>", item))
    return named


def _options(
    regime: str | Regime | None,
    quota: QuotaProvider | None,
    limits: ParseLimits | None,
    schemas: SchemaRegistry | None,
    signatures: SignaturePolicy | None = None,
) -> Options:
    return Options(parse_regime(regime), quota, limits or DEFAULT_LIMITS, schemas,
                   signatures or DEFAULT_POLICY)  # fmt: skip


def check(
    xml: bytes,
    regime: str | Regime | None = None,
    *,
    source: str = "<input>",
    quota: QuotaProvider | None = None,
    limits: ParseLimits | None = None,
    schemas: SchemaRegistry | None = None,
    signatures: SignaturePolicy | None = None,
) -> Checked:
    """Identify one document and run every check on it: the core's entry point. ``regime``
    given overrides the document's own; ``signatures`` is how signatures are judged (by
    default: ``warn``, nobody's ownership checked). Raises as ``validate`` does."""
    ctx = Context(source, xml, _options(regime, quota, limits, schemas, signatures))
    _run([ctx], DOCUMENT_STEPS)
    return ctx.checked()


def identify_document(
    xml: bytes,
    regime: str | Regime | None = None,
    *,
    source: str = "<input>",
    limits: ParseLimits | None = None,
) -> tuple[Document | None, list[Finding]]:
    """Only parse and identify a document (to route or group it, not to judge it): the
    document, or None with the findings that say why not."""
    ctx = Context(source, xml, _options(regime, None, limits, None))
    _run([ctx], IDENTIFY_STEPS)
    return ctx.document, ctx.findings


def validate(
    xml: bytes,
    regime: str | Regime | None = None,
    *,
    source: str = "<input>",
    quota: QuotaProvider | None = None,
    limits: ParseLimits | None = None,
    schemas: SchemaRegistry | None = None,
) -> Report:
    """Every finding about one document. ``regime`` given overrides the document's own.

    Raises ValueError for an unknown regime code, and ``schemas.SchemaNotFoundError`` when the
    installation lacks the schema a document needs (a deployment error, not the caller's)."""
    return check(xml, regime, source=source, quota=quota, limits=limits, schemas=schemas).report


def validate_set(
    documents: Sequence[bytes | tuple[str, bytes]],
    regime: str | Regime | None = None,
    *,
    quota: QuotaProvider | None = None,
    limits: ParseLimits | None = None,
    schemas: SchemaRegistry | None = None,
) -> Report:
    """Every finding about the documents of one set (order, payment, waybill, 清单) and the
    set as a whole. Documents are ``bytes`` or ``(source, bytes)``."""
    options = _options(regime, quota, limits, schemas)
    contexts = [Context(source, data, options) for source, data in _named(documents)]
    _run(contexts, IDENTIFY_STEPS)
    share_regime(contexts)
    _run(contexts, CHECK_STEPS)
    return accept(contexts, reconcile_step(contexts, options))
