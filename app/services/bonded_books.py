"""Bonded account books (账册): registered by zone warehouse enterprises, drawn down by 1210
import 清单 (docs/account-books.md).

- **Registering.** An enterprise registers a book (``emsNo``) with its items (``itemRecordNo``)
  and their opening stock; it alone reads it, adds items or stock. An ``emsNo`` another
  enterprise registered is 409; another's book is 404 to everyone else (its existence is not
  theirs to learn).
- **Drawing.** When a 1210 import set is complete and reconciled (``sets.advance``, in the same
  transaction as the quota), each line's ``qty`` is drawn from its item: the bonded systems'
  pre-deduction at declaration (预扣), confirmed by the release. A 清单 naming an item the book
  lacks, or wanting more than its stock, is refused (100, ``declarations.bonded_stock``) and
  draws nothing. A 清单 whose ``emsNo`` nobody registered is not tracked: books are opt-in.
- **Giving back.** A 清单 refused (by customs too), withdrawn, changed or cancelled gives back
  all it drew; a return (CEB625) gives back the quantities returned.

Stock never goes below zero: each draw is one conditional ``UPDATE … SET stock = stock - q
WHERE stock >= q``; a draw that finds too little undoes the lines it drew before. PostgreSQL's
row lock makes concurrent draws wait for each other; SQLite has one writer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from app.db.models import Declaration
from app.db.models_after import AccountBook, AccountBookItem, AccountBookMove
from app.errors import ServiceError, conflict
from declarations import Facts, Refusal, drawn_quantities, insufficient_stock, unknown_item

DRAWN, RETURNED, ADDED = "drawn", "returned", "added"


@dataclass(frozen=True, slots=True)
class NewItem:
    item_record_no: str
    stock: Decimal
    name: str = ""


def _not_found(ems_no: str) -> ServiceError:
    return ServiceError(
        404,
        "account_book.not_found",
        f"no account book {ems_no} of yours",
        f"未找到贵企业的账册{ems_no}",
    )


def _bad_stock(item: str) -> ServiceError:
    return ServiceError(
        422,
        "account_book.negative_stock",
        f"item {item}: a stock added cannot be negative",
        f"料号{item}：增加的库存不能为负数",
    )


def register(session: Session, owner_id: int, ems_no: str, items: Sequence[NewItem]) -> int:
    """Register the book, or add to the owner's own: new items with their stock, more stock
    for items it has. Returns the book's id."""
    book = session.scalar(_BOOK, {"ems_no": ems_no})
    if book is not None and book.owner_id != owner_id:
        raise conflict(
            "account_book.taken",
            f"account book {ems_no} is registered by another enterprise",
            f"账册{ems_no}已由其他企业登记",
        )
    if book is None:
        book = AccountBook(ems_no=ems_no, owner_id=owner_id)
        session.add(book)
        session.flush()
    for new in items:
        if new.stock < 0:
            raise _bad_stock(new.item_record_no)
        item = session.scalar(
            select(AccountBookItem).where(
                AccountBookItem.book_id == book.id,
                AccountBookItem.item_record_no == new.item_record_no,
            )
        )
        if item is None:
            item = AccountBookItem(
                book_id=book.id, item_record_no=new.item_record_no, name=new.name, stock=0
            )
            session.add(item)
            session.flush()
        _move(session, item, new.stock, ADDED, None)
    return book.id


def own_book(session: Session, owner_id: int, ems_no: str) -> AccountBook:
    book = session.scalar(select(AccountBook).where(AccountBook.ems_no == ems_no))
    if book is None or book.owner_id != owner_id:
        raise _not_found(ems_no)
    return book


def books_of(session: Session, owner_id: int) -> list[AccountBook]:
    query = select(AccountBook).where(AccountBook.owner_id == owner_id).order_by(AccountBook.id)
    return list(session.scalars(query))


def book_json(session: Session, book: AccountBook) -> dict[str, object]:
    """The book with its items' stock and its moves, newest last."""
    items = list(
        session.scalars(
            select(AccountBookItem)
            .where(AccountBookItem.book_id == book.id)
            .order_by(AccountBookItem.item_record_no)
        )
    )
    numbers = {item.id: item.item_record_no for item in items}
    moves = session.scalars(
        select(AccountBookMove)
        .where(AccountBookMove.item_id.in_(numbers))
        .order_by(AccountBookMove.id)
    )
    return {
        "ems_no": book.ems_no,
        "items": [
            {"item_record_no": i.item_record_no, "name": i.name, "stock": str(i.stock)}
            for i in items
        ],
        "moves": [
            {
                "item_record_no": numbers[m.item_id],
                "kind": m.kind,
                "quantity": str(m.quantity),
                "declaration_id": m.declaration_id,
                "at": m.created_at.isoformat(),
            }
            for m in moves
        ],
    }


def draw(session: Session, declaration: Declaration, inventory: Facts) -> Refusal | None:
    """Draw the 1210 import 清单's lines from its registered book (giving back first what an
    earlier 清单 of the set drew); the refusal when it may not, having drawn nothing."""
    ems_no = inventory.head.get("emsNo")
    if declaration.regime != "1210" or declaration.direction != "import" or not ems_no:
        return None  # (the hot path of every other set: no query)
    give_back(session, declaration.id)
    book = session.scalar(select(AccountBook).where(AccountBook.ems_no == ems_no))
    if book is None:
        return None  # not registered: not tracked
    wanted = drawn_quantities(inventory.lines)
    items = {
        item.item_record_no: item
        for item in session.scalars(_BOOK_ITEMS, {"book_id": book.id, "numbers": list(wanted)})
    }
    done: list[tuple[AccountBookItem, Decimal]] = []
    for number, quantity in sorted(wanted.items()):  # one order: no deadlock between 清单
        item = items.get(number)
        refusal = unknown_item(ems_no, number) if item is None else None
        if item is not None and not _take(session, item, quantity):
            session.refresh(item)
            refusal = insufficient_stock(ems_no, number, quantity, item.stock)
        if refusal is not None:
            for taken, amount in done:  # what this 清单 drew before: back
                _change(session, taken, amount)
            return refusal
        assert item is not None
        done.append((item, quantity))
    for item, quantity in done:
        session.add(_record(item, -quantity, DRAWN, declaration.id))
    return None


def give_back(
    session: Session, declaration_id: int, returned: Mapping[str, Decimal] | None = None
) -> None:
    """Give back what the declaration drew and has not given back: all of it, or (a return)
    the ``returned`` quantities by item, at most what is still out."""
    out = dict(session.execute(_OUT, {"declaration_id": declaration_id}).all())
    if not out:
        return
    items = session.scalars(_ITEMS, {"ids": list(out)})
    for item in items:
        still_out = -Decimal(out[item.id])
        back = still_out if returned is None else min(still_out, returned.get(
            item.item_record_no, Decimal(0)))  # fmt: skip
        if back > 0:
            _move(session, item, back, RETURNED, declaration_id)


def _take(session: Session, item: AccountBookItem, quantity: Decimal) -> bool:
    """Take ``quantity`` from the item's stock if it holds that much (one statement)."""
    result = session.execute(_TAKE, {"item_id": item.id, "quantity": quantity})
    return bool(getattr(result, "rowcount", 0))


def _change(session: Session, item: AccountBookItem, quantity: Decimal) -> None:
    session.execute(_CHANGE, {"item_id": item.id, "quantity": quantity})


def _move(
    session: Session, item: AccountBookItem, quantity: Decimal, kind: str, declaration: int | None
) -> None:
    _change(session, item, quantity)
    session.add(_record(item, quantity, kind, declaration))


# What drawing and giving back run for each 1210 import 清单, built once.
_BOOK = select(AccountBook).where(AccountBook.ems_no == bindparam("ems_no"))
_BOOK_ITEMS = select(AccountBookItem).where(
    AccountBookItem.book_id == bindparam("book_id"),
    AccountBookItem.item_record_no.in_(bindparam("numbers", expanding=True)),
)
_ITEMS = select(AccountBookItem).where(AccountBookItem.id.in_(bindparam("ids", expanding=True)))
_OUT = (
    select(AccountBookMove.item_id, func.sum(AccountBookMove.quantity))
    .where(AccountBookMove.declaration_id == bindparam("declaration_id"))
    .group_by(AccountBookMove.item_id)
)
_QUANTITY = bindparam("quantity", type_=AccountBookItem.__table__.c.stock.type)
_TAKE = (
    update(AccountBookItem)
    .where(AccountBookItem.id == bindparam("item_id"), AccountBookItem.stock >= _QUANTITY)
    .values(stock=AccountBookItem.stock - _QUANTITY)
    .execution_options(synchronize_session=False)
)
_CHANGE = (
    update(AccountBookItem)
    .where(AccountBookItem.id == bindparam("item_id"))
    .values(stock=AccountBookItem.stock + _QUANTITY)
    .execution_options(synchronize_session=False)
)


def _record(
    item: AccountBookItem, quantity: Decimal, kind: str, declaration: int | None
) -> AccountBookMove:
    return AccountBookMove(
        item_id=item.id, declaration_id=declaration, kind=kind, quantity=quantity
    )
