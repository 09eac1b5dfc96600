"""Building batched messages (several records in one CEB message) from sample sets whose
parties are shared, so that each party can batch its own records (docs/live-clearance.md
"Batched messages")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from lxml import etree
from submission_helpers import C, Parties, document, send

from declarations import BY_ROOT, Direction, Kind, Regime
from declarations.sample_batches import batched, sharing_parties
from declarations.samples import SampleSet


def party_sets(seed: int, count: int, regime: Regime = Regime.DIRECT) -> list[SampleSet]:
    """``count`` import sets of one regime whose enterprises are the same (one seller, one
    payment company, one carrier, one declarant), so that each party batches its own messages."""
    return sharing_parties(regime, Direction.IMPORT, seed=seed, count=count)


batch = batched  # one message holding the records of several of one type


def batch_of(sets: Sequence[SampleSet], what: Kind) -> etree._Element:
    """The ``what`` message of each of ``sets`` as one batch."""
    return batch([document(s, what) for s in sets])


def record_guids(message: etree._Element) -> list[str]:
    """The guid of each record of ``message``, in order."""
    record = BY_ROOT[etree.QName(message).localname].record
    return [r.findtext(f".//{C}guid") or "" for r in message.findall(C + record)]


SET_KINDS = (Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY)


async def send_batches(
    client: httpx.AsyncClient,
    parties: Parties,
    sets: Sequence[SampleSet],
    kinds: Sequence[Kind] = SET_KINDS,
) -> dict[Kind, dict[str, Any]]:
    """Each party's batch of ``kinds`` for ``sets``, sent in that order; each must be taken
    (201). Returns each answer's JSON."""
    answers = {}
    for what in kinds:
        response = await send(client, parties.sender(what), batch_of(sets, what))
        assert response.status_code == 201, response.text
        answers[what] = response.json()
    return answers
