"""What follows a release: who plays the carrier and the site, and the tax bills.

GET /api/v1/enterprises/me/real-senders          {"CEB513": "danchuang", "CEB711": "real"}
PUT /api/v1/enterprises/me/real-senders          {"CEB711": "real"}
GET /api/v1/declarations/{id}/tax-bill           the 清单's electronic tax bill (CEB816)
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, RootModel

from app.api.deps import CurrentEnterprise, DatabaseDep
from app.api.routes.documents import FormatQuery, wants_xml
from app.api.schemas import XML_CONTENT, RowId, errors
from app.errors import ServiceError
from app.services import real_senders, tax_bills
from app.services.history import party_declaration

router = APIRouter(tags=["after release"])

Who = Literal["real", "danchuang"]


class RealSenders(RootModel[dict[str, Who]]):
    """Who sends each message danchuang can play, for the declarations you are a party to:
    ``danchuang`` (it sends a simulated one on the virtual clock) or ``real`` (it waits for
    the real message). Messages: CEB513 (the carrier's delivery record), CEB711 (the site's
    entry record)."""


class TaxBillLineOut(BaseModel):
    gnum: int
    gcode: str
    tax_price: str
    customs_tax: str
    value_added_tax: str
    consumption_tax: str


class TaxBillOut(BaseModel):
    """The electronic tax bill of a released import 清单 (CEB816, CEB spec 202205 §3.17)."""

    tax_no: str
    invt_no: str
    status: int = Field(description="1 已生成 issued, 2 已汇总 summed (paid), 3 作废 void")
    state: str = Field(description="issued, summed, deduction_failed or void")
    customs_tax: str
    value_added_tax: str
    consumption_tax: str
    total: str
    full_rate: bool
    assure_code: str | None
    ent_duty_no: str | None
    issued_at: str
    due_at: str
    lines: list[TaxBillLineOut]


@router.get(
    "/api/v1/enterprises/me/real-senders", response_model=RealSenders, responses=errors(401)
)
def read_real_senders(enterprise: CurrentEnterprise, database: DatabaseDep) -> dict[str, str]:
    """Who sends the carrier's and the site's messages for your declarations."""
    with database.read() as session:
        return real_senders.setting(session, enterprise.id).as_json()


@router.put(
    "/api/v1/enterprises/me/real-senders",
    response_model=RealSenders,
    responses=errors(401, 422),
)
def change_real_senders(
    body: dict[str, str], enterprise: CurrentEnterprise, database: DatabaseDep
) -> dict[str, str]:
    """Say who sends each message named (``real`` or ``danchuang``); the others stay."""
    with database.write() as session:
        return real_senders.change(session, enterprise.id, body).as_json()


@router.get(
    "/api/v1/declarations/{declaration_id}/tax-bill",
    response_model=TaxBillOut,
    responses={200: {"content": XML_CONTENT}, **errors(401, 404, 422)},
)
def read_tax_bill(
    request: Request,
    declaration_id: RowId,
    enterprise: CurrentEnterprise,
    database: DatabaseDep,
    format: FormatQuery = None,
) -> Any:
    """The tax bill customs issued when it released the declaration's import 清单: JSON, or
    (``Accept: application/xml`` or ``?format=xml``) the CEB816 message as it stands."""
    with database.read() as session:
        party_declaration(session, declaration_id, enterprise.id)
        row = tax_bills.bill_of(session, declaration_id)
        if row is None:
            raise ServiceError(
                404,
                "tax_bill.none",
                f"declaration {declaration_id} has no tax bill (not a released import 清单)",
                f"申报{declaration_id}尚无电子税单（未放行或非进口清单）",
            )
        if wants_xml(request, format):
            return Response(tax_bills.bill_xml(row), media_type="application/xml")
        return tax_bills.bill_json(row)
