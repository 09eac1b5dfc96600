"""Sample messages of several records: sets whose parties are the same, so that each party can
batch its records, and the messages of one type joined into one.

Every CEB data message may carry up to 100 records (``maxOccurs="100"`` on ``Order``,
``Payment``, ``Logistics``, ``Inventory``… in the official 202205 schemas); the live service
takes each record as its own document (docs/live-clearance.md, "Batched messages").
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from lxml import etree

from declarations.messages import BY_ROOT, Direction, Regime
from declarations.samples import SampleSet, generate_sets

__all__ = ["batched", "sharing_parties"]


def sharing_parties(
    regime: Regime,
    direction: Direction = Direction.IMPORT,
    *,
    seed: int,
    count: int,
    parties_seed: int | None = None,
) -> list[SampleSet]:
    """``count`` sets drawn from ``seed`` whose platform, seller, payment company, carrier and
    declarant are those of the first set drawn from ``parties_seed`` (by default ``seed``)."""
    (first,) = generate_sets(regime, direction, seed=seed if parties_seed is None else parties_seed)
    deal = first.deal
    shared = {"platform": deal.platform, "seller": deal.seller, "payment": deal.payer_company,
              "carrier": deal.carrier, "agent": deal.agent}  # fmt: skip
    return generate_sets(regime, direction, seed=seed, count=count, parties=shared)


def batched(messages: Sequence[etree._Element]) -> etree._Element:
    """One message holding the records of ``messages`` (all of one type), in order: a copy of
    the first with the others' records after its own (its guid, as in the official samples, its
    first record's). ``samples.to_bytes`` writes it, signed again when the first was signed."""
    message = copy.deepcopy(messages[0])
    name = etree.QName(message)
    record_tag = f"{{{name.namespace}}}{BY_ROOT[name.localname].record}"
    last = message.findall(record_tag)[-1]
    for other in messages[1:]:
        for record in other.findall(record_tag):
            copied = copy.deepcopy(record)
            last.addnext(copied)
            last = copied
    return message
