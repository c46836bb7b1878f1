"""Pieces the route modules share: cursor pagination of lists, lookups scoped to one brand,
and the audit record of a partial update.

Every list is a page ``{items, next_cursor}`` read by keyset: the cursor is an opaque token
holding the sort key of the page's last item (and which list it belongs to), so reading on
never skips or repeats an item when others are inserted meanwhile. ``next_cursor`` is null on
the last page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, TypeVar
from uuid import UUID

import asyncpg
from fastapi import Query
from pydantic import Field, create_model

from storage.errors import NotFound
from storage.postgres.rows import Repository

from ..schemas import LIST_LIMIT_MAX, View

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=LIST_LIMIT_MAX, description=f"at most this many items (1..{LIST_LIMIT_MAX})")]
CURSOR_MAX = 512
Cursor = Annotated[
    str | None,
    Query(min_length=1, max_length=CURSOR_MAX, pattern=r"^[A-Za-z0-9_-]+$",
          description="`next_cursor` of the previous page; omit for the first"),  # fmt: skip
]


@dataclass(frozen=True)
class SortKey:
    """One column of a list's order: its SQL expression, its SQL type, how to read it off an
    item. Descending integer columns are sorted by their negation so a whole key shares one
    direction (``-priority``)."""

    sql: str
    sql_type: str
    value: Callable[[Any], Any]


@dataclass(frozen=True)
class ListOrder:
    """A list's total order (the last key is unique, usually ``id``), ascending or descending."""

    name: str
    keys: tuple[SortKey, ...]
    descending: bool = False

    @property
    def order_by(self) -> str:
        direction = " DESC" if self.descending else ""
        return ", ".join(f"{key.sql}{direction}" for key in self.keys)

    @property
    def tag(self) -> str:
        return hashlib.sha256(f"{self.name}:{self.order_by}".encode()).hexdigest()[:8]


def by_created(name: str, *, descending: bool = False, column: str = "created_at") -> ListOrder:
    """Oldest (or newest) first by ``column``, ties broken by id."""
    return ListOrder(name, (SortKey(column, "timestamptz", lambda item: getattr(item, column)),
                            SortKey("id", "uuid", lambda item: item.id)), descending)  # fmt: skip


def page_of(item: type[Any], name: str) -> type[View]:
    """The response model of a list of ``item``: ``{items, next_cursor}``, named ``name``."""
    return create_model(
        name,
        __base__=View,
        __doc__=f"One page of {item.__name__} items; read on with `cursor=next_cursor` until it is null.",
        items=(list[item], ...),
        next_cursor=(str | None, Field(description="pass as `cursor` for the next page; null on the last")),
    )


def encode_cursor(order: ListOrder, item: Any) -> str:
    values = [_plain(key.value(item)) for key in order.keys]
    raw = json.dumps([order.tag, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(order: ListOrder, cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        tag, values = json.loads(raw)
        if tag != order.tag or not isinstance(values, list) or len(values) != len(order.keys):
            raise ValueError("not a cursor of this list")
        return [_typed(key.sql_type, value) for key, value in zip(order.keys, values, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        # A cursor is a reference to a place in one list: one it did not issue names nothing.
        raise NotFound("cursor names no page of this list; pass a next_cursor it returned",
                       details={"field": "query.cursor"}) from None  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def _typed(sql_type: str, value: Any) -> Any:
    if sql_type == "timestamptz" and isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        return parsed
    if sql_type == "uuid" and isinstance(value, str):
        return UUID(value)
    if sql_type in ("integer", "bigint") and type(value) is int:
        return value
    raise ValueError(f"bad {sql_type} in cursor")


def page_in_memory(items: Sequence[Any], cursor: str | None, limit: int) -> tuple[Sequence[Any], str | None]:
    """The page after ``cursor`` of a list ordered in Python (a ranking computed per request, over
    few items): the cursor names the last item read, so a list re-ranked since names no page."""
    start = 0
    if cursor is not None:
        try:
            tag, after = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            start = next(i for i, item in enumerate(items) if tag == "after" and str(item.id) == after) + 1
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, StopIteration):
            raise NotFound("cursor names no page of this list; pass a next_cursor it returned",
                           details={"field": "query.cursor"}) from None  # fmt: skip
    page = items[start:start + limit]
    if start + limit >= len(items) or not page:
        return page, None
    raw = json.dumps(["after", str(page[-1].id)], separators=(",", ":")).encode()
    return page, base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def read_page(
    conn: asyncpg.Connection,
    repository: Repository[T],
    where: str,
    *args: Any,
    order: ListOrder,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[T], str | None]:
    """The page of ``repository``'s rows matching ``where`` after ``cursor``, and the next
    cursor. One query; it reads one row more than ``limit`` to know whether another page exists."""
    if cursor is not None:
        values = decode_cursor(order, cursor)
        first = len(args) + 1
        params = ", ".join(f"${first + i}::{key.sql_type}" for i, key in enumerate(order.keys))
        columns = ", ".join(key.sql for key in order.keys)
        where = f"({where}) AND ({columns}) {'<' if order.descending else '>'} ({params})"
        args = (*args, *values)
    rows = await repository.list(conn, where, *args, order_by=order.order_by, limit=limit + 1)
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_cursor(order, rows[limit - 1])


async def brand_page(
    conn: asyncpg.Connection,
    repository: Repository[T],
    brand_id: UUID,
    *,
    order: ListOrder,
    cursor: str | None,
    limit: int,
    **equal: Any,
) -> tuple[Sequence[T], str | None]:
    """The page of the brand's rows of ``repository`` (after ``cursor``, in ``order``) whose
    column equals each value of ``equal`` that is not None: a list route's optional filters."""
    where, args = ["brand_id = $1"], [brand_id]
    for column, value in equal.items():
        if value is not None:
            args.append(value.value if isinstance(value, Enum) else value)
            where.append(f"{column} = ${len(args)}")
    return await read_page(conn, repository, " AND ".join(where), *args, order=order, cursor=cursor, limit=limit)


async def owned(conn: asyncpg.Connection, repository: Repository[Any], brand_id: UUID, id: UUID) -> Any:
    """The brand's object ``id``; NotFound when it does not exist *or* belongs to another brand."""
    found = await repository.list(conn, "id = $1 AND brand_id = $2", id, brand_id)
    if not found:
        name = repository.table.model.__name__
        raise NotFound(f"{name} {id} not found", details={"id": str(id)})
    return found[0]


def changed(before: Any, after: Any, fields: Any) -> dict[str, dict[str, str]]:
    """``{field: {"from", "to"}}`` for each of ``fields`` whose value differs: an EventLog meta."""
    return {
        name: {"from": str(getattr(before, name)), "to": str(getattr(after, name))}
        for name in fields
        if getattr(before, name) != getattr(after, name)
    }
