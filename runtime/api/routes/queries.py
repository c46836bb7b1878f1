"""Pieces the route modules share: the list ``limit``, lookups scoped to one brand, and the
audit record of a partial update."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import Query

from storage.errors import NotFound
from storage.postgres.rows import Repository

from ..schemas import LIST_LIMIT_MAX

Limit = Annotated[int, Query(ge=1, le=LIST_LIMIT_MAX, description=f"at most this many items (1..{LIST_LIMIT_MAX})")]


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
