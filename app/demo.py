"""The demo enterprises of ``danchuang seed-demo``: one of each party, for import and export.

Their codes follow the shape of customs registration codes (10 characters: 4-digit customs
area, 96 = cross-border e-commerce, a serial) but are invented. Keys are hashed in the database;
the clear keys go to a local JSON file (``settings.demo_keys_file``, mode 0600) so that
re-running the command prints the same keys instead of minting new ones each time.

``danchuang samples REGIME --for-demo`` writes sets whose every party field and ``copCode``
carry these codes (``demo_parties``), so that each demo key is accepted for its own document.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from app import accounts
from app.db.engine import Database
from app.db.models import Enterprise, Role
from declarations.samples import Company
from simulation.scenario import CreditClass

DEMO_LABEL = "demo"


@dataclass(frozen=True, slots=True)
class DemoEnterprise:
    code: str
    name: str
    roles: tuple[Role, ...]
    credit_class: CreditClass
    direction: str


DEMO_ENTERPRISES: tuple[DemoEnterprise, ...] = (
    # import: Hangzhou (2921) — platform, e-commerce enterprise, payment, carrier, declarant
    DemoEnterprise("3301960101", "演示进口平台 Demo Import Platform", (Role.EBP,),
                   CreditClass.AEO, "import"),
    DemoEnterprise("3301960102", "演示跨境电商企业 Demo Overseas Seller", (Role.EBC,),
                   CreditClass.GENERAL, "import"),
    DemoEnterprise("3301960103", "演示支付公司 Demo Payment Co.", (Role.PAY,),
                   CreditClass.AEO, "import"),
    DemoEnterprise("3301960104", "演示进口物流 Demo Import Carrier", (Role.LOGISTICS,),
                   CreditClass.GENERAL, "import"),
    DemoEnterprise("3301960105", "演示进口报关行 Demo Import Customs Broker", (Role.AGENT,),
                   CreditClass.GENERAL, "import"),
    # export: Shenzhen — the same five parties
    DemoEnterprise("4403960201", "演示出口平台 Demo Export Platform", (Role.EBP,),
                   CreditClass.AEO, "export"),
    DemoEnterprise("4403960202", "演示出口电商企业 Demo Export Seller", (Role.EBC,),
                   CreditClass.GENERAL, "export"),
    DemoEnterprise("4403960203", "演示收款支付公司 Demo Collection Payment Co.", (Role.PAY,),
                   CreditClass.GENERAL, "export"),
    DemoEnterprise("4403960204", "演示出口物流 Demo Export Carrier", (Role.LOGISTICS,),
                   CreditClass.AEO, "export"),
    DemoEnterprise("4403960205", "演示出口报关行 Demo Export Customs Broker", (Role.AGENT,),
                   CreditClass.LOW_CREDIT, "export"),
)  # fmt: skip


# The role each demo enterprise plays in a sample set (``declarations.samples.PARTY_ROLES``).
_SAMPLE_ROLE = {
    Role.EBP: "platform",
    Role.EBC: "seller",
    Role.PAY: "payment",
    Role.LOGISTICS: "carrier",
    Role.AGENT: "agent",
}


def demo_parties(direction: str) -> dict[str, Company]:
    """The demo enterprises of a direction as the parties of a sample set. The bonded
    warehouse enterprise of 1210 (``areaCode`` / ``iacCode``), which sends nothing and has no
    demo enterprise of its own, is the customs broker: in bonded trade the declarant is often
    the warehouse's operator."""
    parties: dict[str, Company] = {}
    for demo in DEMO_ENTERPRISES:
        if demo.direction == direction:
            role = _SAMPLE_ROLE[demo.roles[0]]
            parties[role] = Company(demo.code, demo.name, f"DXPENT{demo.code}")
    parties["zone"] = parties["agent"]
    return parties


@dataclass(frozen=True, slots=True)
class SeededEnterprise:
    demo: DemoEnterprise
    key: str
    new_key: bool  # issued by this run (False: an existing key was found and reused)
    created: bool  # the enterprise was registered by this run


def _load_keys(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _save_keys(path: Path, keys: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(keys, handle, indent=2, sort_keys=True)
        handle.write("\n")


def seed_demo(
    database: Database, keys_file: Path, *, rotate: bool = False
) -> list[SeededEnterprise]:
    """Register the demo enterprises (if missing) and make sure each has a working key.

    Without ``rotate``, a key from ``keys_file`` that still authenticates is reused; with it,
    the enterprise's demo keys are revoked and new ones issued.
    """
    known = _load_keys(keys_file)
    seeded: list[SeededEnterprise] = []
    with database.write() as session:
        for demo in DEMO_ENTERPRISES:
            enterprise = session.scalar(select(Enterprise).where(Enterprise.code == demo.code))
            created = enterprise is None
            if enterprise is None:
                enterprise = accounts.create_enterprise(
                    session,
                    code=demo.code,
                    name=demo.name,
                    roles=demo.roles,
                    credit_class=demo.credit_class,
                )
            old = known.get(demo.code)
            still_valid = old is not None and (
                (who := accounts.authenticate(session, old)) is not None and who.code == demo.code
            )
            if rotate or not still_valid or old is None:
                accounts.revoke_keys(session, enterprise, label=DEMO_LABEL)
                _, key = accounts.issue_key(session, enterprise, label=DEMO_LABEL)
                seeded.append(SeededEnterprise(demo, key, new_key=True, created=created))
            else:
                seeded.append(SeededEnterprise(demo, old, new_key=False, created=created))
        # Written inside the transaction: if the file cannot be written, no key is issued.
        _save_keys(keys_file, {**known, **{s.demo.code: s.key for s in seeded}})
    return seeded
