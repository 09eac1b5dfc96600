"""Cross-document reconciliation of a set (三单对碰; contract, being written).

The pipeline calls ``check_set`` once per set, with the documents that passed the schema layer.
"""

from __future__ import annotations

from collections.abc import Sequence

from declarations.document import Document
from declarations.findings import Finding
from declarations.quota import QuotaProvider


def check_set(docs: Sequence[Document], *, quota: QuotaProvider | None = None) -> list[Finding]:
    """Every reconciliation finding about a set of documents (layer ``reconcile``)."""
    return []
