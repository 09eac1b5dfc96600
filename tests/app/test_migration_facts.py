"""Migration 0006 gives the documents stored before it the facts intake now keeps."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa

from app.db import migrate
from app.db.engine import Database
from declarations import Direction, Regime, check
from declarations.samples import generate_sets, to_bytes


def test_documents_stored_before_get_their_facts(db_url: str) -> None:
    db = Database.from_url(db_url)
    sample = generate_sets(Regime.BONDED, Direction.IMPORT, seed=3, count=1)[0]
    # (message code, regime, bytes) as stored: the set's documents, then a message never identified
    stored = [
        (name.split("-")[1].removesuffix(".xml"), "1210", to_bytes(root))
        for name, root in sample.documents.items()
    ]
    stored.append(("UNKNOWN", None, b"not xml"))
    try:
        migrate.upgrade(db.engine, "0006")
        migrate.downgrade(db.engine, "-1")  # the schema as it was: no facts column
        now = datetime.now(UTC)
        with db.engine.begin() as connection:
            enterprise = connection.execute(
                sa.text(
                    "INSERT INTO enterprises (code, name, roles, credit_class, created_at) "
                    "VALUES ('1234567890', 'x', '[]', 'general', :now) RETURNING id"
                ),
                {"now": now},
            ).scalar_one()
            for n, (code, regime, data) in enumerate(stored):
                connection.execute(
                    sa.text(
                        "INSERT INTO documents (guid, message_code, direction, regime, raw_xml, "
                        "sender_id, received_at, current) VALUES (:guid, :code, 'import', "
                        ":regime, :raw, :sender, :now, :current)"
                    ),
                    {
                        "guid": f"G{n}",
                        "code": code,
                        "regime": regime,
                        "raw": data,
                        "sender": enterprise,
                        "now": now,
                        "current": True,
                    },
                )
        migrate.upgrade(db.engine)
        with db.engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT guid, facts FROM documents ORDER BY id")
            ).all()
        kept = {guid: json.loads(f) if isinstance(f, str) else f for guid, f in rows}
        for n, (code, regime, data) in enumerate(stored):
            if code == "UNKNOWN":
                assert kept[f"G{n}"] is None  # a message never identified has no facts
            else:
                assert kept[f"G{n}"] == check(data, regime).facts().to_json()
    finally:
        db.dispose()
