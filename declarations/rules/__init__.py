"""Business rules on single documents (layer ``rule``), one module per document kind.

The pipeline calls ``check_document`` once per document that passed the schema layer. Each
module registers its rules with ``define_rule`` at import time; this package imports them all so
that ``declarations.findings.RULES`` is complete once ``declarations.rules`` is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from declarations.document import Document
from declarations.findings import Finding
from declarations.quota import QuotaProvider
from declarations.rules._common import QuotaScope, Unit, read_units
from declarations.rules.export_after import (
    check_cancellation,
    check_return,
    check_split,
    check_summary,
)
from declarations.rules.fields import check_fields, check_repeated_order_no
from declarations.rules.inventory import check_export_inventory, check_import_inventory
from declarations.rules.limits import buyer_years
from declarations.rules.order import check_export_order, check_import_order

__all__ = ["CHECKS", "Check", "QuotaScope", "Unit", "check_document", "read_units"]

Check = Callable[[Unit, QuotaScope], Iterable[Finding]]


def _fields_only(unit: Unit, scope: QuotaScope) -> Iterable[Finding]:
    return check_fields(unit)


# Message code -> the checks of one of its records. Payments and waybills have only the field
# rules every message shares (appType, code values; ``rules.fields``): their amounts and parties
# are checked against the order in reconciliation. Receipts have none.
CHECKS: dict[str, Check] = {
    "CEB311": check_import_order,
    "CEB411": _fields_only,
    "CEB511": _fields_only,
    "CEB621": check_import_inventory,
    "CEB303": check_export_order,
    "CEB403": _fields_only,
    "CEB505": _fields_only,
    "CEB603": check_export_inventory,
    # after the export 清单 (rules.export_after)
    "CEB507": check_split,
    "CEB509": check_split,
    "CEB607": check_split,
    "CEB605": check_cancellation,
    "CEB213": check_return,
    "CEB215": check_return,
    "CEB701": check_summary,
}


def check_document(
    doc: Document,
    *,
    quota: QuotaProvider | None = None,
    units: Sequence[Unit] | None = None,
) -> list[Finding]:
    """Every business-rule finding about one document (layer ``rule``). ``units`` are the
    document's records as ``read_units`` gives them, when the caller has read them already."""
    check = CHECKS.get(doc.message.code)
    if check is None:
        return []
    records = read_units(doc) if units is None else units
    several = quota is not None and len(records) > 1
    scope = QuotaScope(quota=quota, ahead=(lambda: buyer_years(records)) if several else None)
    findings: list[Finding] = []
    for unit in records:
        findings.extend(check(unit, scope))
    findings.extend(check_repeated_order_no(records))
    return findings
