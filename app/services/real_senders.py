"""Who sends the messages a tester may not: danchuang plays the carrier and the site.

A platform testing only its own messages must still see the whole lifecycle, so by default
danchuang sends, on the virtual clock, the carrier's delivery record (CEB513) after an import
release, the supervised site's entry record (CEB711) before a 9610 import release, its arrival
record (CEB507) before an export release, and the carrier's master waybill (CEB607) and
departure record (CEB509) that closes a released export (``app.services.stand_ins``).

An enterprise whose tests send one of these for real — itself, or a partner of its tests (the
site's operator is no party to a set until its first record) — says so once
(``PUT /api/v1/enterprises/me/real-senders``: ``"real"``); for every declaration it is a party
to (it sent a document of the set), danchuang then waits for the real message instead.

The setting is the enterprise's own: no enterprise changes another's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from app.db.models import DocumentRow
from app.db.models_after import RealSender
from app.errors import ServiceError
from simulation.durations import Distribution
from simulation.scenario_schema import Scenario

# The messages danchuang can play, and the party that sends each.
PLAYABLE: dict[str, str] = {
    "CEB513": "carrier (logisticsCode)",
    "CEB711": "supervised site (operatorCode)",
    "CEB507": "supervised site (operatorCode)",
    "CEB509": "carrier (logisticsCode)",
    "CEB607": "carrier (logisticsCode)",
}


@dataclass(frozen=True, slots=True)
class Setting:
    """Who sends each playable message for the enterprise's declarations."""

    real: frozenset[str]  # the codes a real party sends

    def as_json(self) -> dict[str, str]:
        return {code: "real" if code in self.real else "danchuang" for code in PLAYABLE}


def setting(session: Session, enterprise_id: int) -> Setting:
    codes = session.scalars(
        select(RealSender.message_code).where(RealSender.enterprise_id == enterprise_id)
    )
    return Setting(frozenset(codes))


def change(session: Session, enterprise_id: int, choices: dict[str, str]) -> Setting:
    """Set who sends each message named in ``choices`` ("real" or "danchuang")."""
    for code, who in choices.items():
        if code not in PLAYABLE:
            raise ServiceError(
                422,
                "real_senders.unknown_message",
                f"danchuang plays only {', '.join(PLAYABLE)}, not {code}",
                f"danchuang只能代发{'、'.join(PLAYABLE)}，不能代发{code}",
            )
        if who not in ("real", "danchuang"):
            raise ServiceError(
                422,
                "real_senders.unknown_choice",
                f"{code}: say 'real' (a real party sends it, danchuang waits) or 'danchuang' "
                f"(danchuang sends it), not {who!r}",
                f"{code}：请填写real（由真实企业发送，danchuang等待）或danchuang（由danchuang代发）",
            )
    session.execute(
        delete(RealSender).where(
            RealSender.enterprise_id == enterprise_id,
            RealSender.message_code.in_(list(choices)),
        )
    )
    session.add_all(
        RealSender(enterprise_id=enterprise_id, message_code=code)
        for code, who in choices.items()
        if who == "real"
    )
    session.flush()
    return setting(session, enterprise_id)


# Built once: the engine asks it for every batch of declarations it takes or records.
_SENT_BY_REAL_PARTIES = (
    select(DocumentRow.declaration_id, RealSender.message_code)
    .join(RealSender, RealSender.enterprise_id == DocumentRow.sender_id)
    .where(DocumentRow.declaration_id.in_(bindparam("ids", expanding=True)))
    .distinct()
)


def sent_by_real_parties(session: Session, ids: Collection[int]) -> dict[int, frozenset[str]]:
    """For each of the declarations, the messages a real party sends: those a party to the set
    (an enterprise that sent one of its documents) said it sends. danchuang plays the others.
    One query for all of them."""
    found: dict[int, set[str]] = defaultdict(set)
    if ids:
        for declaration_id, code in session.execute(_SENT_BY_REAL_PARTIES, {"ids": sorted(ids)}):
            if declaration_id is not None:
                found[declaration_id].add(code)
    return {declaration_id: frozenset(codes) for declaration_id, codes in found.items()}


@dataclass(frozen=True, slots=True)
class Timing:
    """When danchuang sends a message of a flow: ``delay`` (the scenario's distribution, in
    words) after ``after``."""

    flow: str
    code: str
    after: str
    delay: str


def timings(scenario: Scenario) -> list[Timing]:
    """When danchuang sends each message it plays, flow by flow, on the virtual clock: the
    engine's scenario's ``goods_arrival`` (CEB711, CEB507), ``departure`` (CEB607 and CEB509)
    and ``delivery`` (CEB513) of each flow."""
    found: list[Timing] = []
    for flow in scenario.flows:
        export = flow.direction == "export"
        steps = [
            ("CEB507" if export else "CEB711", "lodgement", flow.goods_arrival),
            ("CEB607, CEB509", "release", flow.departure if export else None),
            ("CEB513", "release", None if export else flow.delivery),
        ]
        found.extend(
            Timing(flow.label, code, after, describe(dist))
            for code, after, dist in steps
            if dist is not None
        )
    return found


def describe(dist: Distribution) -> str:
    """A distribution in words: "exponential, mean 15 min"."""
    fields = dist.model_dump(exclude={"dist", "unit"}, exclude_none=True)
    values = ", ".join(f"{name} {value:g}" if isinstance(value, float | int) else
                       f"{name} {value}" for name, value in fields.items())  # fmt: skip
    return f"{dist.dist}, {values} {dist.unit}"
