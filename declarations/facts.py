"""What the core learnt about a one-record document, kept so that nothing reads its XML again.

The live service checks a document once, when it arrives, and stores these facts beside the
bytes (as JSON): the fields the reconciliation reads, the keys its receipts carry, the parties
it names, the 清单's note and purchase, and whether it named its regime. Advancing a set,
answering in XML and clearing a declaration read the facts, never the stored XML.

Reconciling stored documents (``stored_units``) gives the findings a fresh reconciliation of
the same documents gives, with the same XPath; only the line is unknown (None): the facts keep
no line numbers, and nothing that reconciles a stored set shows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from declarations import reconcile
from declarations.document import Document
from declarations.findings import Finding
from declarations.messages import BY_CODE, PARTY_FIELDS, Direction, MessageType, Regime
from declarations.receipts import RECEIPT_KEY_FIELDS
from declarations.rules._common import StoredDocument, Unit, stored_units
from declarations.rules.limits import Purchase, purchase_of

__all__ = ["Facts", "check_stored_set", "common_regime", "facts_of", "settle_regimes"]

_NOTE = "note"
_IMPORT_INVENTORY = "CEB621"  # the 清单 that counts against a buyer's annual quota


@dataclass(slots=True)
class Facts:
    """One stored document as the core sees it, without its XML.

    ``head`` and ``lines`` hold the texts, as the document has them, of the fields the rules and
    the reconciliation read (``rules._common.HEAD_FIELDS`` / ``LINE_FIELDS``); ``keys`` the
    stripped texts of its receipt keys, party codes and note; ``regime`` is the one it was
    checked under, ``regime_named`` whether the document named it (rather than it being assumed).
    """

    message: MessageType
    direction: Direction
    regime: Regime | None
    regime_named: bool
    head: dict[str, str | None] = field(default_factory=dict)
    lines: list[dict[str, str | None]] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    purchase: Purchase | None = None

    def key(self, name: str) -> str | None:
        """A receipt key, party code or the note, stripped; None when the document has none."""
        return self.keys.get(name)

    @property
    def parties(self) -> dict[str, str]:
        """The enterprise codes the document names, by field (ebpCode, payCode...)."""
        return {name: self.keys[name] for name in PARTY_FIELDS if name in self.keys}

    @property
    def note(self) -> str | None:
        return self.keys.get(_NOTE)

    def units(self, source: str) -> list[Unit]:
        """The document's record as the reconciliation reads it, findings naming ``source``."""
        document = StoredDocument(source, self.message, self.direction, self.regime)
        return stored_units(document, self.head, self.lines)

    def to_json(self) -> dict[str, Any]:
        """The facts the row's own columns (message, direction, regime) do not hold."""
        purchase = self.purchase
        return {
            "named": self.regime_named,
            "head": self.head,
            "lines": self.lines,
            "keys": self.keys,
            "purchase": None
            if purchase is None
            else [purchase.buyer_id_number, purchase.year, str(purchase.amount)],
        }

    @classmethod
    def from_json(
        cls, message_code: str, direction: str, regime: str | None, data: Mapping[str, Any]
    ) -> Facts:
        """The facts stored with ``to_json``, with the row's message, direction and regime."""
        bought = data.get("purchase")
        return cls(
            BY_CODE[message_code],
            Direction(direction),
            Regime(regime) if regime else None,
            bool(data["named"]),
            dict(data["head"]),
            [dict(line) for line in data["lines"]],
            dict(data["keys"]),
            Purchase(bought[0], int(bought[1]), Decimal(bought[2])) if bought else None,
        )


# What the live service files a document under (its set, its held predecessor, its 清单 number)
_SET_KEYS = ("appType", "customsCode", "orderNo", "ebpCode", "logisticsNo", "logisticsCode",
             "payTransactionId")  # fmt: skip


# What a message after the 清单 tells the lifecycle besides (the delivery time, §3.7.4 p. 77).
_LIFECYCLE_KEYS = {"CEB513": ("logisticsTime",)}


@cache
def _key_names(message: MessageType) -> tuple[str, ...]:
    """The fields kept in ``Facts.keys``: receipt keys, set keys, parties, what the lifecycle
    reads and the note."""
    receipt = message.receipt
    names = [*(RECEIPT_KEY_FIELDS.get(receipt, ()) if receipt else ()), *_SET_KEYS, *PARTY_FIELDS,
             *_LIFECYCLE_KEYS.get(message.code, ())]  # fmt: skip
    return (*dict.fromkeys(names), _NOTE)


def facts_of(document: Document, unit: Unit | None, *, regime_named: bool) -> Facts:
    """The facts of a one-record document. ``unit`` is its record as the rules read it
    (``rules.read_units``), given when the document passed the schema: only then are its
    fields kept for the reconciliation (a refused document holds no place in a set)."""
    fields = document.records()[0].head
    keys: dict[str, str] = {}
    for name in _key_names(document.message):
        value = fields.text(name)
        if value is not None:
            keys[name] = value
    facts = Facts(document.message, document.direction, document.regime, regime_named, keys=keys)
    if unit is not None:
        facts.head = dict(unit.head.raw)
        facts.lines = [dict(line.raw) for line in unit.lines]
        if document.message.code == _IMPORT_INVENTORY:
            facts.purchase = purchase_of(unit)
    return facts


def common_regime(members: Iterable[tuple[Regime | None, bool]]) -> Regime | None:
    """The regime the documents of one deal share, from each one's (regime, named): the one
    they name, when they name exactly one. A document whose regime was only assumed (payments
    and waybills never name one; a type-E export order may be 9610 or 1210) takes it, if it
    fits its direction (``settle_regimes``, ``pipeline.share_regime``)."""
    named = {regime for regime, is_named in members if is_named and regime is not None}
    return next(iter(named)) if len(named) == 1 else None


def settle_regimes(members: Sequence[Facts]) -> None:
    """``common_regime`` applied to stored documents, as the pipeline applies it to a set."""
    regime = common_regime((facts.regime, facts.regime_named) for facts in members)
    if regime is None:
        return
    for facts in members:
        if not facts.regime_named and facts.direction in regime.directions:
            facts.regime = regime
            facts.regime_named = True


def check_stored_set(members: Mapping[str, Facts]) -> list[Finding]:
    """Every reconciliation finding about a set kept as facts (by the source name findings
    give each document), as ``reconcile.check_set`` finds them in the documents themselves."""
    settle_regimes(list(members.values()))
    return reconcile.check_units([facts.units(source) for source, facts in members.items()])
