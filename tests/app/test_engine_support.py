"""Helpers for the engine tests: clearance-ready declarations built from real sample sets.

The submission side (another module) normally stores the documents and marks the set
clearance-ready; these helpers do the same directly through the models, so the engine's tests
do not depend on the submission routes.
"""

from __future__ import annotations

from itertools import count

from lxml import etree
from sqlalchemy import select

from app.db.engine import Database
from app.db.models import Declaration, DocumentRow, Enterprise, Receipt, Role
from app.engine import ClearanceEngine, EngineSettings
from app.states import CLEARANCE_READY
from declarations import CEB_NS, Direction, Regime, check
from declarations.samples import SampleSet, generate_sets, to_bytes

_serials = count(1)

IMPORT_PATH = [120, 399, 800, 899]


def sample_set(regime: str, direction: str, *, note: str | None = None, seed: int = 0) -> SampleSet:
    """A fresh, valid set (a new serial each call, so order numbers never collide); ``note``
    goes into the 清单's ``note`` field (the last field of its head)."""
    serial = next(_serials)
    sets = generate_sets(Regime(regime), Direction(direction), seed=seed * 100_000 + serial)
    sample = sets[0]
    if note is not None:
        for name, root in sample.documents.items():
            if name.startswith("inventory-"):
                head = root.find(f"{{{CEB_NS}}}Inventory/{{{CEB_NS}}}InventoryHead")
                assert head is not None
                etree.SubElement(head, f"{{{CEB_NS}}}note").text = note
    return sample


def _enterprise(database: Database, code: str, credit_class: str) -> int:
    with database.write() as session:
        found = session.scalar(select(Enterprise.id).where(Enterprise.code == code))
        if found is not None:
            return found
        row = Enterprise(
            code=code, name=f"Test {code}", roles=[r.value for r in Role], credit_class=credit_class
        )
        session.add(row)
        session.flush()
        return row.id


def make_ready(
    database: Database,
    regime: str = "9610",
    direction: str = "import",
    *,
    note: str | None = None,
    forced: str | None = None,
    credit_class: str = "general",
    state: str = CLEARANCE_READY,
) -> int:
    """Store a sample set's documents and a declaration in ``state``; its id."""
    sample = sample_set(regime, direction, note=note)
    deal = sample.deal
    ebp = _enterprise(database, deal.platform.code, credit_class)
    with database.write() as session:
        declaration = Declaration(
            regime=regime,
            direction=direction,
            order_no=deal.order_no,
            ebp_code=deal.platform.code,
            state=state,
            forced_outcome=forced,
        )
        session.add(declaration)
        session.flush()
        for root in sample.documents.values():
            data = to_bytes(root)
            code = etree.QName(root).localname.replace("Message", "")
            guid = root.get("guid") or root[0].findtext(f".//{{{CEB_NS}}}guid")
            session.add(
                DocumentRow(
                    guid=guid or f"{declaration.id}-{code}",
                    message_code=code,
                    direction=direction,
                    regime=regime,
                    app_type="1",
                    raw_xml=data,
                    facts=check(data, regime).facts().to_json(),  # as intake keeps them
                    order_no=deal.order_no,
                    ebp_code=deal.platform.code,
                    sender_id=ebp,
                    declaration_id=declaration.id,
                )
            )
        return declaration.id


def statuses(database: Database, declaration_id: int) -> list[int]:
    """The statuses of the declaration's 清单 receipts (CEB622 / CEB604) in the order they
    were recorded: its clearance path, without what follows it (tax bills, entry, delivery)."""
    with database.read() as session:
        return list(
            session.scalars(
                select(Receipt.return_status)
                .where(
                    Receipt.declaration_id == declaration_id,
                    Receipt.message_code.in_(("CEB622", "CEB604")),
                )
                .order_by(Receipt.seq)
            )
        )


def receipt_codes(database: Database, declaration_id: int) -> set[str]:
    with database.read() as session:
        return set(
            session.scalars(
                select(Receipt.message_code).where(Receipt.declaration_id == declaration_id)
            )
        )


def state_of(database: Database, declaration_id: int) -> tuple[str, int | None]:
    with database.read() as session:
        row = session.get(Declaration, declaration_id)
        assert row is not None
        return row.state, row.return_status


def instant_engine(database: Database, **config: object) -> ClearanceEngine:
    settings = EngineSettings(_env_file=None, **config)  # type: ignore[call-arg, arg-type]
    return ClearanceEngine(database, clock_speed="instant", config=settings)
