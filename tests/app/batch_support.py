"""Building batched messages (several records in one CEB message) from sample sets whose
parties are shared, so that each party can batch its own records (docs/live-clearance.md
"Batched messages")."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from lxml import etree
from submission_helpers import C, document

from declarations import BY_ROOT, Direction, Kind, Regime
from declarations.samples import SampleSet, generate_sets


def party_sets(seed: int, count: int, regime: Regime = Regime.DIRECT) -> list[SampleSet]:
    """``count`` sets of one regime whose enterprises are the same (one seller, one payment
    company, one carrier, one declarant), so that each party batches its own messages."""
    (first,) = generate_sets(regime, Direction.IMPORT, seed=seed)
    deal = first.deal
    parties = {"platform": deal.platform, "seller": deal.seller, "payment": deal.payer_company,
               "carrier": deal.carrier, "agent": deal.agent}  # fmt: skip
    return generate_sets(regime, Direction.IMPORT, seed=seed, count=count, parties=parties)


def batch(roots: Sequence[etree._Element]) -> etree._Element:
    """One message holding the record of each of ``roots`` (messages of one type), in order:
    the first message with the others' records after its own (its guid, as in the official
    samples, its first record's)."""
    message = copy.deepcopy(roots[0])
    record_tag = C + BY_ROOT[etree.QName(message).localname].record
    last = message.findall(record_tag)[-1]
    for root in roots[1:]:
        for record in root.findall(record_tag):
            copied = copy.deepcopy(record)
            last.addnext(copied)
            last = copied
    return message


def batch_of(sets: Sequence[SampleSet], what: Kind) -> etree._Element:
    """The ``what`` message of each of ``sets`` as one batch."""
    return batch([document(s, what) for s in sets])


def record_guids(message: etree._Element) -> list[str]:
    """The guid of each record of ``message``, in order."""
    record = BY_ROOT[etree.QName(message).localname].record
    return [r.findtext(f".//{C}guid") or "" for r in message.findall(C + record)]
