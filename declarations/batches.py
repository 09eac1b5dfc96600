"""Batches: many files, some of which form sets (``danchuang validate`` of a folder, the
dashboard's conformance page). Built on the pipeline's steps (``declarations.pipeline``)."""

from __future__ import annotations

from collections.abc import Sequence

from declarations.document import Document
from declarations.findings import Finding, Report
from declarations.grouping import connected
from declarations.messages import Kind, Regime
from declarations.parsing import ParseLimits
from declarations.pipeline import (
    CHECK_STEPS,
    IDENTIFY_STEPS,
    Context,
    _named,
    _options,
    _run,
    accept,
    reconcile_step,
    share_regime,
)
from declarations.quota import QuotaProvider
from declarations.schemas import SchemaRegistry


def set_keys(document: Document) -> set[tuple[str, str, str]]:
    """The business keys that tie a document to others of its set (CEB spec 202205 §3.9.4): the
    orderNo, and the logisticsNo that links an export waybill to its 清单."""
    if document.message.kind is Kind.RETURN:
        return set()
    direction = document.direction.value
    keys: set[tuple[str, str, str]] = set()
    for record in document.records():
        order_no = record.head.text("orderNo")
        if order_no:
            keys.add((direction, "orderNo", order_no))
        # Export waybills carry no orderNo: they join their set through the 清单's logisticsNo.
        logistics_no = record.head.text("logisticsNo")
        if logistics_no:
            keys.add((direction, "logisticsNo", logistics_no))
    return keys


def group_sets(documents: Sequence[Document | None]) -> list[list[int]]:
    """Indices of the documents that share a key, transitively; singletons included."""
    return connected([set_keys(d) if d is not None else () for d in documents])


def validate_batch(
    documents: Sequence[bytes | tuple[str, bytes]],
    regime: str | Regime | None = None,
    *,
    quota: QuotaProvider | None = None,
    limits: ParseLimits | None = None,
    schemas: SchemaRegistry | None = None,
) -> list[Report]:
    """One report per document, in order. Documents that form a set (same orderNo; export
    waybills through the 清单's logisticsNo) are also reconciled, as ``validate_set`` does, and
    each reconciliation finding is attached to the documents it concerns (all of the set's
    when it names none)."""
    options = _options(regime, quota, limits, schemas)
    contexts = [Context(source, data, options) for source, data in _named(documents)]
    _run(contexts, IDENTIFY_STEPS)
    groups = [g for g in group_sets([c.document for c in contexts]) if len(g) > 1]
    for group in groups:
        share_regime([contexts[i] for i in group])
    _run(contexts, CHECK_STEPS)
    extra: list[list[Finding]] = [[] for _ in contexts]
    for group in groups:
        members = [contexts[i] for i in group]
        for finding in reconcile_step(members, options):
            concerned = [i for i in group if contexts[i].source == finding.source] or group
            for i in concerned:
                extra[i].append(finding)
    return [accept([ctx], more) for ctx, more in zip(contexts, extra, strict=True)]
