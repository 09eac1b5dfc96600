"""The domain of documents: hardened parsing, identification, schemas, rules, reconciliation.

The public surface is this package (``__all__``); its modules are private to it, except two
tools built on it: ``declarations.samples`` (sample sets) and ``declarations.dictionary`` (the
error-code dictionary). Where to start:

- ``check(xml)`` identifies one document and runs every check on it: a ``Checked`` with its
  report and, for a one-record document, the ``Facts`` the live service keeps of it;
  ``check_message(xml)`` checks a message of several records record by record.
- ``check_stored_set(facts)`` reconciles a set kept as facts; ``validate``, ``validate_set`` and
  ``validate_batch`` answer with reports only (the CLI, ``POST /api/v1/validate``).
- The annual quota: ``QuotaProvider`` is the ledger interface, ``Purchase`` what a 清单 counts,
  ``annual_refusal`` the re-check when it is counted.
"""

from declarations.after_list import (
    RETURN_WINDOW,
    judge_delivery,
    judge_export_return,
    judge_return,
    returned_value,
)
from declarations.batches import group_sets, validate_batch
from declarations.bonded_stock import (
    INSUFFICIENT_STOCK,
    UNKNOWN_ITEM,
    drawn_quantities,
    insufficient_stock,
    returned_quantities,
    unknown_item,
)
from declarations.cancellation import judge_cancellation
from declarations.codes import DETENTIONS, ReturnStatus
from declarations.document import Document
from declarations.envelope import DXP_NS, Envelope, is_envelope, seal
from declarations.export_summary import (
    DEC_STATE_FORMED,
    Period,
    Summary,
    SummaryGroup,
    SummaryList,
    build_summary_result,
    decl_seq_no,
    sum_no,
    summarise,
    summary_list_of,
)
from declarations.facts import Facts, check_stored_set
from declarations.findings import RULES, DocumentSummary, Finding, Layer, Report, RuleInfo, Severity
from declarations.identifiers import invt_no, pre_no
from declarations.identify import REGIME_CONFLICT, parse_regime
from declarations.lifecycle import AppType, Held, Refusal, judge
from declarations.master_waybill import TRANSPORT_FIELDS, BoundParcel, judge_master_waybill
from declarations.message_check import CheckedMessage, CheckedRecord, check_message
from declarations.messages import (
    BY_CODE,
    BY_ROOT,
    CEB_NS,
    PARTY_FIELDS,
    SET_KINDS,
    Direction,
    Kind,
    MessageType,
    Regime,
    data_message,
    return_trade_mode,
    send_rank,
)
from declarations.parsing import DEFAULT_LIMITS, ParseLimits, parse_xml
from declarations.pipeline import (
    Checked,
    check,
    identify_document,
    validate,
    validate_set,
)
from declarations.pki import (
    Certificate,
    CertificateError,
    KeyType,
    PrivateKey,
    Signer,
    issue_certificate,
    load_certificate,
    load_private_key,
    new_key,
)
from declarations.quota import InMemoryQuota, OrderKey, QuotaProvider, QuotaReadAhead
from declarations.receipts import (
    FAILS_SCHEMA,
    FORMAT_RECEIPT,
    FORMAT_STATUS_MEANINGS,
    NOT_WELL_FORMED,
    FormatReceipt,
    ReceiptEntry,
    build_format_receipt,
    build_receipt,
    original_type,
    receipt_keys,
    receipt_type,
)
from declarations.reconcile_rules import MISSING_DOCUMENT, required_kinds
from declarations.records import RecordMessage, record_messages
from declarations.rules.limits import Purchase, annual_refusal
from declarations.schemas import SchemaNotFoundError
from declarations.signature_check import CertificateOwners, SignatureMode, SignaturePolicy
from declarations.site_entry import EnteredWaybill, judge_arrival, judge_departure, judge_entry
from declarations.tax import ANNUAL_LIMIT, SINGLE_TRANSACTION_LIMIT
from declarations.tax_bill import (
    SUM_AFTER as TAX_SUM_AFTER,
)
from declarations.tax_bill import (
    TaxBill,
    TaxBillStatus,
    build_tax_bill,
    build_tax_status,
    tax_bill_of,
    tax_total_mismatch,
)
from declarations.xmldsig import (
    RSA_SHA1,
    SM2_SM3,
    Problem,
    Verification,
    sign_message,
    verify_signature,
)

__all__ = [
    "ANNUAL_LIMIT",
    "BY_CODE",
    "BY_ROOT",
    "CEB_NS",
    "DEC_STATE_FORMED",
    "DEFAULT_LIMITS",
    "DETENTIONS",
    "DXP_NS",
    "FAILS_SCHEMA",
    "FORMAT_RECEIPT",
    "FORMAT_STATUS_MEANINGS",
    "INSUFFICIENT_STOCK",
    "MISSING_DOCUMENT",
    "NOT_WELL_FORMED",
    "PARTY_FIELDS",
    "REGIME_CONFLICT",
    "RETURN_WINDOW",
    "RSA_SHA1",
    "RULES",
    "SET_KINDS",
    "SINGLE_TRANSACTION_LIMIT",
    "SM2_SM3",
    "TAX_SUM_AFTER",
    "TRANSPORT_FIELDS",
    "UNKNOWN_ITEM",
    "AppType",
    "BoundParcel",
    "Certificate",
    "CertificateError",
    "CertificateOwners",
    "Checked",
    "CheckedMessage",
    "CheckedRecord",
    "Direction",
    "Document",
    "DocumentSummary",
    "EnteredWaybill",
    "Envelope",
    "Facts",
    "Finding",
    "FormatReceipt",
    "Held",
    "InMemoryQuota",
    "KeyType",
    "Kind",
    "Layer",
    "MessageType",
    "OrderKey",
    "ParseLimits",
    "Period",
    "PrivateKey",
    "Problem",
    "Purchase",
    "QuotaProvider",
    "QuotaReadAhead",
    "ReceiptEntry",
    "RecordMessage",
    "Refusal",
    "Regime",
    "Report",
    "ReturnStatus",
    "RuleInfo",
    "SchemaNotFoundError",
    "Severity",
    "SignatureMode",
    "SignaturePolicy",
    "Signer",
    "Summary",
    "SummaryGroup",
    "SummaryList",
    "TaxBill",
    "TaxBillStatus",
    "Verification",
    "annual_refusal",
    "build_format_receipt",
    "build_receipt",
    "build_summary_result",
    "build_tax_bill",
    "build_tax_status",
    "check",
    "check_message",
    "check_stored_set",
    "data_message",
    "decl_seq_no",
    "drawn_quantities",
    "group_sets",
    "identify_document",
    "insufficient_stock",
    "invt_no",
    "is_envelope",
    "issue_certificate",
    "judge",
    "judge_arrival",
    "judge_cancellation",
    "judge_delivery",
    "judge_departure",
    "judge_entry",
    "judge_export_return",
    "judge_master_waybill",
    "judge_return",
    "load_certificate",
    "load_private_key",
    "new_key",
    "original_type",
    "parse_regime",
    "parse_xml",
    "pre_no",
    "receipt_keys",
    "receipt_type",
    "record_messages",
    "required_kinds",
    "return_trade_mode",
    "returned_quantities",
    "returned_value",
    "seal",
    "send_rank",
    "sign_message",
    "sum_no",
    "summarise",
    "summary_list_of",
    "tax_bill_of",
    "tax_total_mismatch",
    "unknown_item",
    "validate",
    "validate_batch",
    "validate_set",
    "verify_signature",
]
