"""Mapping between canonical objects and table rows.

Most objects map field-for-column; nested structures go to ``jsonb``. A ``Table`` knows its
model, its jsonb columns and the few fields that are stored differently (``origin`` of a
variant, the derived ``channel_plan_ids`` of a package).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import asyncpg

from storage.errors import NotFound
from storage.objects.base import KairoObject

from .database import translate_errors

T = TypeVar("T", bound=KairoObject)


@dataclass(frozen=True)
class Table(Generic[T]):
    name: str
    model: type[T]
    json_columns: frozenset[str] = frozenset()
    # Fields not stored as a column of their own (derived, or split by to_row/from_row hooks).
    virtual_fields: frozenset[str] = frozenset()
    # Columns the to_row hook adds in place of virtual fields.
    extra_columns: tuple[str, ...] = ()
    to_row_hook: Callable[[T, dict[str, Any]], dict[str, Any]] | None = None
    from_row_hook: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    select_sql: str | None = None
    key: str = "id"
    columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        stored = [f for f in self.model.model_fields if f not in self.virtual_fields]
        object.__setattr__(self, "columns", (*stored, *self.extra_columns))

    @property
    def select(self) -> str:
        return self.select_sql or f"SELECT * FROM {self.name}"

    def to_row(self, obj: T) -> dict[str, Any]:
        python = obj.model_dump(mode="python")
        as_json = obj.model_dump(mode="json")
        row = {
            name: (as_json[name] if name in self.json_columns else python[name])
            for name in self.model.model_fields
            if name not in self.virtual_fields
        }
        return self.to_row_hook(obj, row) if self.to_row_hook else row

    def from_row(self, record: Mapping[str, Any]) -> T:
        data = dict(record)
        if self.from_row_hook:
            data = self.from_row_hook(data)
        return self.model.model_validate({k: v for k, v in data.items() if k in self.model.model_fields})


class Repository(Generic[T]):
    """Insert, get and list one table's objects. Every method takes the connection, so the
    caller decides the transaction."""

    def __init__(self, table: Table[T]) -> None:
        self.table = table
        columns = table.columns
        placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        self._insert_sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"

    def _values(self, obj: T) -> list[Any]:
        row = self.table.to_row(obj)
        return [row[c] for c in self.table.columns]

    async def insert(self, conn: asyncpg.Connection, obj: T) -> T:
        with translate_errors():
            await conn.execute(self._insert_sql, *self._values(obj))
        return obj

    async def insert_many(self, conn: asyncpg.Connection, objs: Iterable[T]) -> None:
        rows = [self._values(o) for o in objs]
        if rows:
            with translate_errors():
                await conn.executemany(self._insert_sql, rows)

    async def get(self, conn: asyncpg.Connection, id: Any) -> T:
        found = await self.find(conn, id)
        if found is None:
            raise NotFound(f"{self.table.model.__name__} {id} not found", details={self.table.key: str(id)})
        return found

    async def find(self, conn: asyncpg.Connection, id: Any) -> T | None:
        with translate_errors():
            record = await conn.fetchrow(f"SELECT * FROM ({self.table.select}) AS t WHERE {self.table.key} = $1", id)
        return None if record is None else self.table.from_row(record)

    async def list(
        self,
        conn: asyncpg.Connection,
        where: str = "true",
        *args: Any,
        order_by: str = "id",
        limit: int | None = None,
    ) -> list[T]:
        sql = f"SELECT * FROM ({self.table.select}) AS t WHERE {where} ORDER BY {order_by}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with translate_errors():
            records = await conn.fetch(sql, *args)
        return [self.table.from_row(r) for r in records]

    async def update(self, conn: asyncpg.Connection, obj: T, *, where_extra: str = "", extra_args: tuple = ()) -> bool:
        """Write every stored column of ``obj`` over its row; False when no row matched."""
        row = self.table.to_row(obj)
        key = self.table.key
        cols = [c for c in self.table.columns if c != key]
        assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(cols, start=2))
        extra = ""
        if where_extra:
            extra = " AND " + where_extra.format(*[f"${len(cols) + 2 + i}" for i in range(len(extra_args))])
        sql = f"UPDATE {self.table.name} SET {assignments} WHERE {key} = $1{extra}"
        with translate_errors():
            status = await conn.execute(sql, row[key], *[row[c] for c in cols], *extra_args)
        return status.endswith(" 1")
