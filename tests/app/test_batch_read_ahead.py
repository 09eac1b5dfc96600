"""What a group of records reads of the sets it joins is read once for the whole group
(``app.services.set_lookups.looked_up``): each set's documents, its parties and what recording
its receipts needs (last ``seq``, subscribers), the orphan waybills a 清单 adopts. None of that
may show: sets taken in a batch end as the same sets taken one record at a time."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import httpx
from batch_support import SET_KINDS, batch, batch_of, party_sets
from lxml import etree
from service_support import Party, PartyFactory
from sqlalchemy import select
from submission_helpers import Parties, document, new_guid, register, send, set_field, xml

from app.db.engine import Database
from app.db.models import Declaration, Delivery, DocumentRow, Receipt, Role, Webhook
from declarations import Kind
from declarations.samples import SampleSet

# A set's state, its receipts ((seq, receipt code, status) in order) and which party's webhook
# was given which of them, by seq.
SetView = tuple[str, list[tuple[int, str, int]], dict[str, list[int]]]


async def _hook(client: httpx.AsyncClient, party: Party, name: str) -> None:
    url = f"http://127.0.0.1:9/{name}"  # nothing is delivered in these tests: only queued
    response = await client.post("/api/v1/webhooks", json={"url": url}, headers=party.headers)
    assert response.status_code == 201, response.text


def _views(database: Database, orders: Sequence[str]) -> list[SetView]:
    """Each set (by its orderNo) as its receipts and its parties' webhooks saw them."""
    views = []
    with database.read() as session:
        for order_no in orders:
            declaration_id = session.scalar(
                select(DocumentRow.declaration_id).where(DocumentRow.order_no == order_no)
            )
            receipts = session.execute(
                select(Receipt.id, Receipt.seq, Receipt.message_code, Receipt.return_status)
                .where(Receipt.declaration_id == declaration_id)
                .order_by(Receipt.seq)
            ).all()
            given: dict[str, list[int]] = defaultdict(list)
            seq_of = {ident: seq for ident, seq, _, _ in receipts}
            for url, receipt_id in session.execute(
                select(Webhook.url, Delivery.receipt_id)
                .join(Webhook, Webhook.id == Delivery.webhook_id)
                .where(Delivery.receipt_id.in_(seq_of))
            ):
                given[url.rsplit("/", 1)[1]].append(seq_of[receipt_id])
            views.append(
                (
                    session.get_one(Declaration, declaration_id).state,
                    [(seq, code, status) for _, seq, code, status in receipts],
                    {name: sorted(seqs) for name, seqs in sorted(given.items())},
                )
            )
    return views


def _order_nos(sets: Sequence[SampleSet]) -> list[str]:
    return [document(s, Kind.ORDER).findtext(".//{*}orderNo") or "" for s in sets]


async def test_sets_taken_in_batches_end_as_sets_taken_one_record_at_a_time(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    """Orders, payments, waybills (waiting: no 清单 yet) and 清单, each party's in one
    batch for three sets and one record a message for three others: every set gets the same
    receipts, numbered alike, and every party's webhook is given the same of them."""
    sets = party_sets(seed=631, count=6)
    parties = register(make_party, sets[0])
    for kind in SET_KINDS:
        await _hook(client, parties.sender(kind), kind.value)
    batched, alone = sets[:3], sets[3:]
    for kind in SET_KINDS:
        response = await send(client, parties.sender(kind), batch_of(batched, kind))
        assert response.status_code == 201, response.text
        for one in alone:
            response = await send(client, parties.sender(kind), document(one, kind))
            assert response.status_code == 201, response.text
    in_batches, one_by_one = (
        _views(database, _order_nos(batched)),
        _views(database, _order_nos(alone)),
    )
    assert in_batches == one_by_one
    state, receipts, given = in_batches[0]
    assert state == "clearance_ready"  # reconciled and counted: its 清单 adopted its waybill
    assert [seq for seq, _, _ in receipts] == list(range(1, len(receipts) + 1))
    assert {code for _, code, _ in receipts} == {"CEB312", "CEB412", "CEB512", "CEB622"}
    assert set(given) == {kind.value for kind in SET_KINDS}  # every party sees the set


def _declared_by(root: etree._Element, agent: str) -> etree._Element:
    copy = etree.fromstring(xml(root))
    set_field(copy, "agentCode", agent)
    set_field(copy, "copCode", agent)
    return copy


async def test_a_batch_cannot_declare_a_set_whose_refused_list_names_another_agent(
    client: httpx.AsyncClient, make_party: PartyFactory
) -> None:
    """The set's refused 清单 still names its agent, which only its documents read ahead can
    tell: a batch of 清单 from another agent naming that set is refused whole."""
    sets = party_sets(seed=632, count=2)
    parties: Parties = register(make_party, sets[0])
    for kind in (Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL):
        assert (await send(client, parties.sender(kind), batch_of(sets, kind))).status_code == 201
    wrong = etree.fromstring(xml(document(sets[0], Kind.INVENTORY)))
    set_field(wrong, "buyerName", "not the buyer of the order")
    new_guid(wrong, str(uuid.uuid4()).upper())
    refused: dict[str, Any] = (await send(client, parties.agent, wrong)).json()
    assert refused["document"]["current"] is False and refused["declaration"] is not None
    other = make_party("3301999902", Role.AGENT)
    lists = [_declared_by(document(s, Kind.INVENTORY), "3301999902") for s in sets]
    response = await send(client, other, batch(lists))
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "access.not_in_set"
