"""Enterprises and their API keys: the few operations the routes and the CLI share."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.db.models import ApiKey, Enterprise, Role, utcnow
from app.errors import conflict, not_found
from app.security import generate_key, key_matches, key_prefix
from simulation.scenario import CreditClass


class _EnterpriseColumns(Protocol):
    """An ``Enterprise`` row, or a result row holding the same columns."""

    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def roles(self) -> Iterable[str]: ...
    @property
    def credit_class(self) -> str: ...
    @property
    def dxp_id(self) -> str | None: ...
    @property
    def created_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Principal:
    """The enterprise behind a request, detached from any database session."""

    id: int
    code: str
    name: str
    roles: tuple[str, ...]
    credit_class: str
    dxp_id: str | None = None  # its data exchange platform id, when registered
    created_at: datetime | None = None  # when it was registered

    @classmethod
    def of(cls, enterprise: _EnterpriseColumns) -> Principal:
        return cls(
            id=enterprise.id,
            code=enterprise.code,
            name=enterprise.name,
            roles=tuple(enterprise.roles),
            credit_class=enterprise.credit_class,
            dxp_id=enterprise.dxp_id,
            created_at=enterprise.created_at,
        )


def create_enterprise(
    session: Session,
    *,
    code: str,
    name: str,
    roles: Collection[Role],
    credit_class: CreditClass = CreditClass.GENERAL,
    dxp_id: str | None = None,
) -> Enterprise:
    if session.scalar(select(Enterprise.id).where(Enterprise.code == code)) is not None:
        raise conflict(
            "enterprise.exists",
            f"an enterprise with code {code} is already registered",
            f"企业代码{code}已登记",
        )
    if dxp_id is not None:
        _ensure_dxp_id_free(session, dxp_id, code)
    enterprise = Enterprise(
        code=code,
        name=name,
        roles=sorted({Role(r).value for r in roles}),
        credit_class=CreditClass(credit_class).value,
        dxp_id=dxp_id,
    )
    session.add(enterprise)
    session.flush()
    return enterprise


def register_dxp_id(session: Session, code: str, dxp_id: str) -> Enterprise:
    """The enterprise registers its data exchange platform id (the SenderId of its envelopes)."""
    enterprise = find_enterprise(session, code)
    _ensure_dxp_id_free(session, dxp_id, code)
    enterprise.dxp_id = dxp_id
    return enterprise


def _ensure_dxp_id_free(session: Session, dxp_id: str, code: str) -> None:
    holder = session.scalar(select(Enterprise.code).where(Enterprise.dxp_id == dxp_id))
    if holder is not None and holder != code:  # the holder is not named: not the caller's
        raise conflict(
            "enterprise.dxp_id_taken",
            f"the DXP id {dxp_id} is registered for another enterprise",
            f"数据交换平台ID {dxp_id} 已登记于其他企业",
        )


def find_enterprise(session: Session, code: str) -> Enterprise:
    enterprise = session.scalar(select(Enterprise).where(Enterprise.code == code))
    if enterprise is None:
        raise not_found(
            "enterprise.not_found", f"no enterprise with code {code}", f"未找到企业代码{code}"
        )
    return enterprise


def issue_key(session: Session, enterprise: Enterprise, *, label: str = "") -> tuple[ApiKey, str]:
    """A new key for the enterprise: the row, and the key in clear (show it once)."""
    new = generate_key()
    row = ApiKey(enterprise=enterprise, prefix=new.prefix, key_hash=new.key_hash, label=label)
    session.add(row)
    session.flush()
    return row, new.key


def revoke_keys(session: Session, enterprise: Enterprise, *, label: str | None = None) -> int:
    """Revoke the enterprise's active keys (those with ``label`` only, when given)."""
    count = 0
    for key in enterprise.keys:
        if key.revoked_at is None and (label is None or key.label == label):
            key.revoked_at = utcnow()
            count += 1
    return count


# Every request runs this: one prepared statement (built once, its SQL cached), plain columns
# instead of ORM objects (the key row and then its enterprise were two queries).
_ACTIVE_KEY = (
    select(
        ApiKey.key_hash,
        Enterprise.id,
        Enterprise.code,
        Enterprise.name,
        Enterprise.roles,
        Enterprise.credit_class,
        Enterprise.dxp_id,
        Enterprise.created_at,
    )
    .join(Enterprise, Enterprise.id == ApiKey.enterprise_id)
    .where(ApiKey.prefix == bindparam("prefix"), ApiKey.revoked_at.is_(None))
)


def authenticate(session: Session, key: str) -> Principal | None:
    """The enterprise holding this active key, or None."""
    prefix = key_prefix(key)
    if prefix is None:
        return None
    row = session.execute(_ACTIVE_KEY, {"prefix": prefix}).first()
    if row is None or not key_matches(key, row.key_hash):
        return None
    return Principal.of(row)
