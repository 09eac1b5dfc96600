"""The site's records danchuang plays in one engine transaction are taken together
(``app.engine.plays.Entries``, ``taking.take_all(played=True)``): one INSERT of documents for
several records, each answered and acting on its own declaration as a record alone does."""

from __future__ import annotations

from typing import Any

import httpx
from service_support import PartyFactory
from sqlalchemy import event, select
from submission_helpers import register, sample, send_set
from test_engine_support import instant_engine

from app import states
from app.db.engine import Database
from app.db.models import Declaration, DocumentRow, Receipt
from declarations import Direction, Regime

_SITE = ("CEB507", "CEB711")


async def test_the_sites_records_are_taken_together_each_in_its_place(
    client: httpx.AsyncClient, make_party: PartyFactory, database: Database
) -> None:
    samples = [sample(Regime.DIRECT, Direction.EXPORT, seed=s) for s in range(601, 611)]
    samples += [sample(Regime.DIRECT, Direction.IMPORT, seed=s) for s in range(611, 615)]
    idents = []
    for s in samples:
        answers = await send_set(client, register(make_party, s), s)
        idents.append(answers[-1]["declaration"]["id"])
    together: list[int] = []  # the site's records each INSERT of documents writes

    def log(_conn: Any, _cursor: Any, statement: str, params: Any, *_args: Any) -> None:
        if statement.lower().startswith("insert into documents"):
            values = params if isinstance(params, tuple | list) else params.values()
            together.append(sum(value in _SITE for value in values))

    event.listen(database.engine, "before_cursor_execute", log)
    try:
        instant_engine(database).run_until_idle()
    finally:
        event.remove(database.engine, "before_cursor_execute", log)
    with database.read() as session:
        site = list(session.scalars(select(DocumentRow).where(DocumentRow.message_code.in_(_SITE))))
        answered = {
            row.guid: [
                (r.seq, r.return_status)
                for r in session.scalars(
                    select(Receipt).where(Receipt.document_id == row.id).order_by(Receipt.id)
                )
            ]
            for row in site
        }
        declarations = [session.get_one(Declaration, i) for i in idents]
    assert len(site) == 14  # one record a declaration
    assert sorted(row.message_code for row in site) == ["CEB507"] * 10 + ["CEB711"] * 4
    for row in site:  # each answered as a record alone: 2 → 3 → 399 (arrival) or 120 (entry)
        final = 399 if row.message_code == "CEB507" else 120
        assert answered[row.guid] == [(1, 2), (2, 3), (3, final)]
    assert {row.sender_id for row in site} == {site[0].sender_id}  # danchuang's site
    assert all(d.site_entered_at is not None for d in declarations)
    assert [d.state for d in declarations] == [states.CLEARED] * 14
    assert sum(together) == 14
    assert max(together) > 1  # several taken together
