"""Bonded account books (账册) of zone warehouse enterprises (docs/account-books.md).

POST /api/v1/account-books                 register a book, or add items / stock to yours
GET  /api/v1/account-books                 your books
GET  /api/v1/account-books/{emsNo}         one of yours: items, stock and moves
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, Field

from app.api.deps import CurrentEnterprise, DatabaseDep
from app.api.schemas import errors
from app.services import bonded_books

router = APIRouter(prefix="/api/v1/account-books", tags=["account books"])

EmsNo = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9-]+$")]


class ItemIn(BaseModel):
    item_record_no: EmsNo = Field(description="账册备案料号, as the 清单 lines name it")
    name: str = Field(default="", max_length=250)
    stock: Decimal = Field(
        ge=0, max_digits=19, decimal_places=5, description="Stock to add, in the 清单's qty unit"
    )


class BookIn(BaseModel):
    ems_no: EmsNo = Field(description="账册编号, as the 清单 head names it (emsNo)")
    items: list[ItemIn] = Field(default=[], max_length=1000)


class ItemOut(BaseModel):
    item_record_no: str
    name: str
    stock: str


class MoveOut(BaseModel):
    item_record_no: str
    kind: str = Field(description="added, drawn (by a 清单) or returned")
    quantity: str
    declaration_id: int | None
    at: str


class BookOut(BaseModel):
    ems_no: str
    items: list[ItemOut]
    moves: list[MoveOut]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=BookOut,
    responses={
        200: {"model": BookOut, "description": "Added to a book of yours."},
        **errors(401, 409, 422),
    },
)
def register_book(
    body: BookIn, enterprise: CurrentEnterprise, database: DatabaseDep, response: Response
) -> dict[str, Any]:
    """Register the account book with its items and their stock; for a book of yours, add
    items or stock (200). An emsNo another enterprise registered is 409."""
    with database.write() as session:
        known = {b.ems_no for b in bonded_books.books_of(session, enterprise.id)}
        items = [bonded_books.NewItem(i.item_record_no, i.stock, i.name) for i in body.items]
        bonded_books.register(session, enterprise.id, body.ems_no, items)
        if body.ems_no in known:
            response.status_code = status.HTTP_200_OK
        book = bonded_books.own_book(session, enterprise.id, body.ems_no)
        return bonded_books.book_json(session, book)


@router.get("", response_model=list[BookOut], responses=errors(401))
def list_books(enterprise: CurrentEnterprise, database: DatabaseDep) -> list[dict[str, Any]]:
    with database.read() as session:
        return [
            bonded_books.book_json(session, b)
            for b in bonded_books.books_of(session, enterprise.id)
        ]


@router.get("/{ems_no}", response_model=BookOut, responses=errors(401, 404, 422))
def read_book(
    ems_no: Annotated[str, Path(max_length=30)],
    enterprise: CurrentEnterprise,
    database: DatabaseDep,
) -> dict[str, Any]:
    """One of your books; another's is 404, as a missing one."""
    with database.read() as session:
        return bonded_books.book_json(
            session, bonded_books.own_book(session, enterprise.id, ems_no)
        )
