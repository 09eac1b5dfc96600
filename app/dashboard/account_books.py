"""``/account-books``: the bonded account books (账册) enterprises registered, their stock and
moves; the operator registers one for an enterprise (``app.services.bonded_books``), as the
enterprise does through ``POST /api/v1/account-books``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from app.accounts import find_enterprise
from app.dashboard.access import require_access
from app.dashboard.deps import DatabaseDep
from app.dashboard.templating import templates
from app.db.engine import Database
from app.db.models import Enterprise
from app.db.models_after import AccountBook
from app.errors import ServiceError
from app.services import bonded_books

router = APIRouter(dependencies=[Depends(require_access)])


def _page(request: Request, database: Database, status_code: int = 200,
          error: str | None = None) -> HTMLResponse:  # fmt: skip
    with database.read() as session:
        owners = dict(session.execute(select(Enterprise.id, Enterprise.code)).all())
        books = [
            (owners.get(book.owner_id, "?"), bonded_books.book_json(session, book))
            for book in session.scalars(select(AccountBook).order_by(AccountBook.ems_no))
        ]
    context = {"books": books, "codes": sorted(owners.values()), "error": error}
    return templates.TemplateResponse(
        request, "account_books.html.j2", context, status_code=status_code
    )


@router.get("/account-books", response_class=HTMLResponse, include_in_schema=False)
def account_books_page(request: Request, database: DatabaseDep) -> HTMLResponse:
    return _page(request, database)


@router.post("/account-books", response_class=HTMLResponse, include_in_schema=False)
def register(
    request: Request,
    database: DatabaseDep,
    enterprise: Annotated[str, Form()],
    ems_no: Annotated[str, Form(max_length=30)],
    items: Annotated[str, Form(max_length=20_000)] = "",
) -> HTMLResponse:
    """Register a book (or add to it): one item per line, ``itemRecordNo stock [name]``."""
    try:
        new = [_item(number, line) for number, line in enumerate(items.splitlines(), 1)
               if line.strip()]  # fmt: skip
        with database.write() as session:
            owner = find_enterprise(session, enterprise.strip())
            bonded_books.register(session, owner.id, ems_no.strip(), new)
    except ServiceError as exc:
        return _page(request, database, exc.status, f"{exc.message_en} / {exc.message_zh}")
    return _page(request, database)


def _item(number: int, line: str) -> bonded_books.NewItem:
    parts = line.split(maxsplit=2)
    try:
        stock = Decimal(parts[1]) if len(parts) > 1 else None
    except InvalidOperation:
        stock = None
    if stock is None or not stock.is_finite() or len(parts[0]) > 30:
        raise ServiceError(
            422,
            "account_book.bad_line",
            f"items, line {number}: write 'itemRecordNo stock [name]', e.g. '8509809001 100'",
            f"料号第{number}行：请按“备案料号 库存 [名称]”填写，例如 8509809001 100",
        )
    return bonded_books.NewItem(parts[0], stock, parts[2] if len(parts) > 2 else "")
