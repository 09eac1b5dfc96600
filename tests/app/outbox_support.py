"""An outbox to test against: an enterprise's webhooks and a declaration's receipts, written as
the service writes them (``app.webhooks.outbox``, ``app.db.driver_rows``)."""

from __future__ import annotations

from app import accounts
from app.db.engine import Database
from app.db.models import Declaration, Role, Webhook
from app.receipts import record_receipt


def receipts_and_hooks(
    database: Database, *, receipts: int, hooks: int, code: str = "3301960001"
) -> tuple[list[int], list[int]]:
    """``receipts`` CEB312 receipts of one declaration and ``hooks`` webhooks of the enterprise
    ``code`` (never reached: port 9); their ids."""
    with database.write() as session:
        sender = accounts.create_enterprise(session, code=code, name="s", roles=[Role.EBC])
        made = [
            Webhook(enterprise_id=sender.id, url=f"http://127.0.0.1:9/{n}", secret="s" * 32)
            for n in range(hooks)
        ]
        session.add_all(made)
        declaration = Declaration(direction="import", ebp_code=code, order_no="O-1",
                                  state="incomplete")  # fmt: skip
        session.add(declaration)
        session.flush()
        recorded = [
            record_receipt(
                session, message_code="CEB312", return_status=2, declaration_id=declaration.id
            ).id
            for _ in range(receipts)
        ]
        return recorded, [hook.id for hook in made]
