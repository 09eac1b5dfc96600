"""Enterprises and their API keys. Registering and issuing keys takes the admin key."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import select

from app import accounts
from app.accounts import Principal
from app.api.deps import AdminDep, CurrentEnterprise, DatabaseDep
from app.api.schemas import (
    DxpIdIn,
    EnterpriseCode,
    EnterpriseIn,
    EnterpriseOut,
    KeyIn,
    KeyOut,
    KeyPrefix,
    errors,
)
from app.db.models import ApiKey, Enterprise, utcnow
from app.errors import not_found

router = APIRouter(prefix="/api/v1/enterprises", tags=["enterprises"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AdminDep],
    response_model=EnterpriseOut,
    responses=errors(400, 401, 403, 409, 422),
)
def register_enterprise(body: EnterpriseIn, database: DatabaseDep) -> Enterprise:
    with database.write() as session:
        return accounts.create_enterprise(
            session,
            code=body.code,
            name=body.name,
            roles=body.roles,
            credit_class=body.credit_class,
            dxp_id=body.dxp_id,
        )


@router.get(
    "",
    dependencies=[AdminDep],
    response_model=list[EnterpriseOut],
    responses=errors(401, 403),
)
def list_enterprises(database: DatabaseDep) -> list[Enterprise]:
    with database.read() as session:
        return list(session.scalars(select(Enterprise).order_by(Enterprise.code)))


@router.get("/me", response_model=EnterpriseOut, responses=errors(401))
async def who_am_i(enterprise: CurrentEnterprise) -> Principal:
    """The enterprise the presented API key belongs to."""
    # As read with the key (accounts.KeyCache): no second query, and no threadpool hop, which
    # made this, the cheapest authenticated request, cost several times a bare route.
    return enterprise


@router.put("/me/dxp-id", response_model=EnterpriseOut, responses=errors(401, 409, 422))
def register_dxp_id(
    body: DxpIdIn, enterprise: CurrentEnterprise, database: DatabaseDep
) -> Enterprise:
    """Register (or change) the enterprise's own data exchange platform id: the
    ``TransInfo/SenderId`` its DxpMsg envelopes must carry. 409 when another enterprise has it."""
    with database.write() as session:
        return accounts.register_dxp_id(session, enterprise.code, body.dxp_id)


@router.post(
    "/{code}/keys",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AdminDep],
    responses=errors(400, 401, 403, 404, 422),
)
def issue_key(code: EnterpriseCode, database: DatabaseDep, body: KeyIn | None = None) -> KeyOut:
    """A new API key for the enterprise. The key is in this response only: store it."""
    label = body.label if body else ""
    with database.write() as session:
        enterprise = accounts.find_enterprise(session, code)
        row, key = accounts.issue_key(session, enterprise, label=label)
        return KeyOut(enterprise=code, prefix=row.prefix, label=row.label, key=key)


@router.delete(
    "/{code}/keys/{prefix}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[AdminDep],
    responses=errors(401, 403, 404, 422),
)
def revoke_key(code: EnterpriseCode, prefix: KeyPrefix, database: DatabaseDep) -> Response:
    """Revoke one key (named by its visible prefix, e.g. ``dck_1a2b3c4d``) at once."""
    with database.write() as session:
        enterprise = accounts.find_enterprise(session, code)
        key = session.scalar(
            select(ApiKey).where(ApiKey.enterprise_id == enterprise.id, ApiKey.prefix == prefix)
        )
        if key is None:
            raise not_found(
                "key.not_found", f"{code} has no key {prefix}", f"企业{code}没有密钥{prefix}"
            )
        key.revoked_at = key.revoked_at or utcnow()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
