"""Building the who-may-send matrix (tests/app/test_party_authority.py): sets sent by their
own parties on a shared database, and attempts on them by each party and by strangers.

The attempts go through ``app.services.submission.submit_document``, the function the HTTP
route calls, on a real database: the matrix has hundreds of cells and the HTTP layer adds
nothing to them (the regression tests in the same module go through HTTP).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree
from sqlalchemy import select
from submission_helpers import kind, new_guid, sample, set_field, xml

from app import accounts
from app.accounts import Principal
from app.db.engine import Database
from app.db.models import Enterprise, Role
from app.errors import ServiceError
from app.services.submission import submit_document
from declarations.messages import CEB_NS, Direction, Kind, Regime
from declarations.samples import SampleSet
from simulation.scenario import CreditClass

C = "{" + CEB_NS + "}"

# The field an attempt names its sender in when the document does not name it already.
OWN_FIELD = {
    Kind.ORDER: "ebcCode",
    Kind.PAYMENT: "payCode",
    Kind.WAYBILL: "logisticsCode",
    Kind.INVENTORY: "agentCode",
}
ROLES = (Role.EBP, Role.EBC, Role.PAY, Role.LOGISTICS, Role.AGENT)
# Who sends each kind in the sample sets (``submission_helpers.Parties.sender``).
LEGIT = {Kind.ORDER: Role.EBC, Kind.PAYMENT: Role.PAY, Kind.WAYBILL: Role.LOGISTICS,
         Kind.INVENTORY: Role.AGENT}  # fmt: skip

_guids = itertools.count(1)
_seeds = itertools.count(5000)


def guid() -> str:
    return f"7E57A0A0-0000-4000-8000-{next(_guids):012d}"


def enterprise(database: Database, code: str, *roles: Role) -> Principal:
    """The enterprise ``code`` (registered with ``roles`` on first use)."""
    with database.write() as session:
        found = session.scalar(select(Enterprise).where(Enterprise.code == code))
        if found is None:
            found = accounts.create_enterprise(
                session, code=code, name=f"Test {code}", roles=roles, credit_class=CreditClass.AEO
            )
        return Principal.of(found)


@dataclass
class Deal:
    """One set and its parties, by role."""

    sample: SampleSet
    parties: dict[Role, Principal]

    def root(self, wanted: Kind) -> etree._Element:
        return next(r for r in self.sample.documents.values() if kind(r) is wanted)

    def kinds(self) -> Iterator[Kind]:
        return (kind(r) for r in self.sample.documents.values())


def new_deal(database: Database, direction: Direction) -> Deal:
    """A set whose parties are registered for it alone (a seed whose random codes are taken
    by an earlier set is skipped: a shared code would give a party another set's roles)."""
    while True:
        sample_set = sample(Regime.DIRECT, direction, seed=next(_seeds))
        deal = sample_set.deal
        codes = {
            Role.EBP: deal.platform.code,
            Role.EBC: deal.seller.code,
            Role.PAY: deal.payer_company.code,
            Role.LOGISTICS: deal.carrier.code,
            Role.AGENT: deal.agent.code,
        }
        with database.read() as session:
            taken = session.scalar(
                select(Enterprise.id).where(Enterprise.code.in_(codes.values())).limit(1)
            )
        if taken is None and len(set(codes.values())) == len(codes):
            break
    return Deal(sample_set, {role: enterprise(database, c, role) for role, c in codes.items()})


def send_kinds(database: Database, deal: Deal, kinds: set[Kind]) -> None:
    """The set's documents of ``kinds``, each by its own party, in the set's order."""
    for wanted in deal.kinds():
        if wanted in kinds:
            outcome = submit_document(database, deal.parties[LEGIT[wanted]], xml(deal.root(wanted)))
            assert outcome.http_status == 201 and outcome.document.return_status in (3, 120)


def attempt(deal: Deal, wanted: Kind, sender: Principal, app_type: str) -> bytes:
    """The set's document of ``wanted`` as ``sender`` would send it: its own copCode, named in
    the document's sender field (as the rogue does), a new guid and ``app_type``."""
    root = etree.fromstring(xml(deal.root(wanted)))
    new_guid(root, guid())
    set_field(root, "appType", app_type)
    set_field(root, "copCode", sender.code)
    named = (
        {root.findtext(f".//{C}{f}") for f in ("ebpCode", "ebcCode")}
        if wanted is Kind.ORDER
        else set()
    )
    if sender.code not in named:
        set_field(root, OWN_FIELD[wanted], sender.code)
    return xml(root)


def outcome_of(database: Database, sender: Principal, data: bytes) -> str:
    """What happened: the 403 code, or how the stored document stands."""
    try:
        outcome = submit_document(database, sender, data)
    except ServiceError as refused:
        assert refused.status == 403, refused
        return refused.code
    row = outcome.document
    if row.return_status is not None and (row.return_status < 0 or row.return_status == 100):
        assert not row.current
        return "lifecycle"  # answered by the spec's lifecycle: duplicate / not found
    if row.app_type == "3":
        return "withdrawn"
    return "joined" if row.declaration_id is not None else "orphan"
