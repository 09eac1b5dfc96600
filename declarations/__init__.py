"""The domain of documents: hardened parsing, identification, schemas, rules, reconciliation."""

from declarations.findings import Finding, Layer, Report, RuleInfo, Severity
from declarations.messages import Direction, Kind, MessageType, Regime
from declarations.pipeline import validate, validate_batch, validate_set

__all__ = [
    "Direction",
    "Finding",
    "Kind",
    "Layer",
    "MessageType",
    "Regime",
    "Report",
    "RuleInfo",
    "Severity",
    "validate",
    "validate_batch",
    "validate_set",
]
