"""Entrustments: a party lets an express operator or postal enterprise send its messages.

The official import structure names 受委托的快件运营人、邮政企业 (an entrusted express operator
or postal enterprise) among the senders of the order (CEB311: 电商企业或电商平台或受委托的快件运营
人、邮政企业) and of the payment (CEB411: 支付企业或受委托的快件运营人、邮政企业). The message then
names the party (``ebpCode``/``ebcCode``, ``payCode``) and the entrusted enterprise transmits
it (its own ``copCode``).

- The party registers the entrustment itself: it must hold the role of one of the message's
  sender fields (a platform or a seller for CEB311, a payment company for CEB411); the agent
  must be registered with the role ``express``.
- ``app.security.check_sender`` lets the agent send a message naming a party that entrusted it
  with that message; the agent then acts for the party in the set (``acting_code``): the set
  must name that party in its role (``app.services.authority``, rule 2), and the agent owns
  the documents it sent (rule 1).
- A revoked entrustment lets nothing more through; documents already sent stay.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.accounts import Principal, find_enterprise
from app.db.engine import Database
from app.db.models import Enterprise, Entrustment, Role, utcnow
from app.errors import ServiceError, conflict, forbidden, not_found
from app.security import check_sender
from declarations import BY_CODE, PARTY_FIELDS, Document

ENTRUSTABLE = ("CEB311", "CEB411")


def entrust(session: Session, principal: Principal, agent_code: str, message: str) -> Entrustment:
    if message not in ENTRUSTABLE:
        raise ServiceError(
            422,
            "entrustment.not_entrustable",
            f"{message} cannot be entrusted; only {', '.join(ENTRUSTABLE)}",
            f"{message}不能委托发送，仅限{'、'.join(ENTRUSTABLE)}",
        )
    roles = {PARTY_FIELDS[f] for f in BY_CODE[message].sender_fields}
    if not roles & set(principal.roles):
        raise forbidden(
            "entrustment.not_your_message",
            f"only a {' / '.join(sorted(roles))} sends {message}: you cannot entrust it",
            f"{message}由{'/'.join(sorted(roles))}发送，贵企业不能委托",
        )
    agent = find_enterprise(session, agent_code)
    if Role.EXPRESS.value not in agent.roles:
        raise ServiceError(
            422,
            "entrustment.agent_not_express",
            f"{agent_code} is not registered as an express operator or postal enterprise",
            f"{agent_code}未登记为快件运营人或邮政企业",
        )
    active = session.scalar(_active(principal.id, agent.id, message))
    if active is not None:
        raise conflict(
            "entrustment.exists",
            f"{agent_code} already holds your entrustment for {message}",
            f"已委托{agent_code}发送{message}",
        )
    # one row per pair and message: a revoked entrustment is given again
    row = session.scalar(_pair(principal.id, agent.id, message))
    if row is None:
        row = Entrustment(principal_id=principal.id, agent_id=agent.id, message_code=message)
        session.add(row)
    row.revoked_at = None
    row.created_at = utcnow()
    session.flush()
    return row


def revoke(session: Session, principal: Principal, entrustment_id: int) -> None:
    row = session.get(Entrustment, entrustment_id)
    if row is None or row.principal_id != principal.id or row.revoked_at is not None:
        raise not_found(
            "entrustment.not_found",
            f"you have no active entrustment {entrustment_id}",
            f"贵企业没有有效的委托{entrustment_id}",
        )
    row.revoked_at = utcnow()


def listed(session: Session, enterprise: Principal) -> Sequence[tuple[Entrustment, str, str]]:
    """Active entrustments the enterprise gave or holds: (row, principal code, agent code)."""
    principal, agent = Enterprise.__table__.alias("p"), Enterprise.__table__.alias("a")
    rows = session.execute(
        select(Entrustment, principal.c.code, agent.c.code)
        .join(principal, principal.c.id == Entrustment.principal_id)
        .join(agent, agent.c.id == Entrustment.agent_id)
        .where(
            Entrustment.revoked_at.is_(None),
            (Entrustment.principal_id == enterprise.id) | (Entrustment.agent_id == enterprise.id),
        )
        .order_by(Entrustment.id)
    )
    return [(row, p, a) for row, p, a in rows]


def ensure_may_send(database: Database, sender: Principal, document: Document) -> str:
    """Raise 403 unless ``sender`` may transmit ``document``; the code of the party it acts as:
    its own, or, for an entrusted agent, the party the message names that entrusted it."""
    problem = check_sender(sender.code, sender.roles, document)
    if problem is None:
        return sender.code
    code = document.message.code
    if code not in ENTRUSTABLE or Role.EXPRESS.value not in sender.roles:
        raise problem
    with database.read() as session:  # only for an express sender not named itself
        principals = set(session.scalars(_principals(sender.id, code)))
    if check_sender(sender.code, sender.roles, document, principals) is not None:
        raise problem
    head = document.records()[0].head  # check_sender saw it name a principal
    named = (head.text(f) or "" for f in document.message.sender_fields)
    return next(code for code in named if code in principals)


def _active(principal_id: int, agent_id: int, message: str) -> Select[Entrustment]:
    return _pair(principal_id, agent_id, message).where(Entrustment.revoked_at.is_(None))


def _pair(principal_id: int, agent_id: int, message: str) -> Select[Entrustment]:
    return select(Entrustment).where(
        Entrustment.principal_id == principal_id,
        Entrustment.agent_id == agent_id,
        Entrustment.message_code == message,
    )


def _principals(agent_id: int, message: str) -> Select[str]:
    return (
        select(Enterprise.code)
        .join(Entrustment, Entrustment.principal_id == Enterprise.id)
        .where(
            Entrustment.agent_id == agent_id,
            Entrustment.message_code == message,
            Entrustment.revoked_at.is_(None),
        )
    )
