"""A brand's memory: remember fragments (creator and up), search them by meaning, list them."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Query
from fastapi import Request
from pydantic import BaseModel, Field

from runtime.gateway import MemoryClient
from storage.errors import Invalid
from storage.objects.base import PROSE_SCHEMA_PATTERN
from storage.memory.store import SEARCH_K_MAX, MemoryDraft
from storage.objects import BrandMemoryFragment, EventLog, EventType, UserRole
from storage.postgres import Database
from storage.postgres import repositories as repo

from ..access import READ, REMEMBER, BrandAccess, reach_brand
from ..auth import Principal, authenticate
from ..schemas import ApiModel
from ..schemas import MemoryCreate, MemoryHitView
from ..routing import kairo_router
from ..services import database, memory
from .queries import Cursor, Limit, by_created, page_of, read_page

router = kairo_router("/v1/brands/{brand_id}/memory", "memory")

FRAGMENTS = by_created("memory_fragments", descending=True)
MemoryPage = page_of(BrandMemoryFragment, "MemoryPage")


@router.post("", response_model=BrandMemoryFragment, status_code=201)
async def add_memory(
    body: MemoryCreate,
    access: BrandAccess = REMEMBER,
    store: MemoryClient = Depends(memory),
    db: Database = Depends(database),
) -> BrandMemoryFragment:
    """Embed and store one fragment in the brand's memory."""
    [fragment] = await store.add([MemoryDraft(brand_id=access.brand.id, **body.model_dump())])
    async with db.transaction() as conn:
        await repo.event_log.insert(conn, EventLog(
            org_id=access.brand.org_id, brand_id=access.brand.id, user_id=access.principal.user.id,
            event_type=EventType.MEMORY_ADDED, subject_type="memory_fragment", subject_id=str(fragment.id),
            message="memory fragment added", meta={"source_type": fragment.source_type.value},
        ))  # fmt: skip
    return fragment


@router.get("/search", response_model=list[MemoryHitView])
async def search_memory(
    brand_id: UUID,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="text to search for by meaning",
                            json_schema_extra={"pattern": PROSE_SCHEMA_PATTERN})],  # fmt: skip
    k: Annotated[int, Query(ge=1, le=SEARCH_K_MAX, description="how many hits")] = 5,
    principal: Principal = Depends(authenticate),
    db: Database = Depends(database),
    store: MemoryClient = Depends(memory),
) -> list[MemoryHitView]:
    """The brand's ``k`` fragments nearest in meaning to ``q``, nearest first.

    The search starts while the caller's access to the brand is checked (one SQL round trip
    that would otherwise come first); its hits are used only once that check has passed, and a
    refused caller gets its 404/403 as soon as the check fails, whatever the search is doing.
    """
    searching = asyncio.ensure_future(store.search(brand_id, q, k)) if q.strip() else None
    try:
        await reach_brand(db, principal, brand_id, UserRole.CREATOR)
    except BaseException:
        if searching is not None:
            searching.cancel()
            searching.add_done_callback(_consume)
        raise
    if searching is None:
        raise Invalid("q must not be blank", details={"field": "query.q"})
    hits = await searching
    return [MemoryHitView(fragment=h.fragment, distance=h.distance, similarity=1.0 - h.distance) for h in hits]


def _consume(task: asyncio.Future[Any]) -> None:
    """Retrieve a search's outcome nobody awaited (a refused caller's), so asyncio never logs it."""
    if not task.cancelled():
        task.exception()


@router.get("", response_model=MemoryPage)
async def list_memory(
    limit: Limit = 50, cursor: Cursor = None, access: BrandAccess = READ, db: Database = Depends(database)
) -> MemoryPage:
    """Newest first, from PostgreSQL."""
    async with db.connection() as conn:
        items, next_cursor = await read_page(
            conn, repo.memory_fragments, "brand_id = $1", access.brand.id, order=FRAGMENTS, cursor=cursor, limit=limit
        )
    return MemoryPage(items=items, next_cursor=next_cursor)


# -- bulk remember ------------------------------------------------------------------------------


class MemoryBatchCreate(ApiModel):
    """Fragments to remember in one request (at most ``Settings.memory_batch_max``)."""

    fragments: list[MemoryCreate] = Field(min_length=1, description="the fragments, embedded in one batch")


class MemoryBatchCreated(BaseModel):
    fragments: list[BrandMemoryFragment] = Field(description="the stored fragments, in the order sent")


@router.post(":batch", response_model=MemoryBatchCreated, status_code=201)
async def add_memory_batch(
    body: MemoryBatchCreate,
    request: Request,
    access: BrandAccess = REMEMBER,
    store: MemoryClient = Depends(memory),
    db: Database = Depends(database),
) -> MemoryBatchCreated:
    """Embed and store many fragments at once: one embedding batch, all stored or none, one event.

    For imports (calibration examples, a brand's back catalogue): up to ``memory_batch_max``
    fragments (256 by default) per request; more is a 422 naming ``body.fragments``.
    """
    limit = request.app.state.settings.memory_batch_max
    if len(body.fragments) > limit:
        raise Invalid(
            f"at most {limit} fragments per batch, got {len(body.fragments)}",
            details={"field": "body.fragments", "max_items": limit},
        )
    drafts = [MemoryDraft(brand_id=access.brand.id, **item.model_dump()) for item in body.fragments]
    fragments = await store.add(drafts)
    sources = sorted({f.source_type.value for f in fragments})
    async with db.transaction() as conn:
        await repo.event_log.insert(conn, EventLog(
            org_id=access.brand.org_id, brand_id=access.brand.id, user_id=access.principal.user.id,
            event_type=EventType.MEMORY_ADDED, subject_type="memory_fragment_batch", subject_id=str(fragments[0].id),
            message=f"{len(fragments)} memory fragments added",
            meta={"count": len(fragments), "source_types": sources, "fragment_ids": [str(f.id) for f in fragments]},
        ))  # fmt: skip
    return MemoryBatchCreated(fragments=fragments)
