"""Business rules on single documents (contract; the rules themselves are being written).

The pipeline calls ``check_document`` once per document that passed the schema layer.
"""

from __future__ import annotations

from declarations.document import Document
from declarations.findings import Finding
from declarations.quota import QuotaProvider


def check_document(doc: Document, *, quota: QuotaProvider | None = None) -> list[Finding]:
    """Every business-rule finding about one document (layer ``rule``)."""
    return []
