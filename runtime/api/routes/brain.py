"""The brand brain: strategy snapshots and the runtime context.

Reads come straight from PostgreSQL. Changes go through the brand's agent (the gateway), which
owns its brand's runtime state: a write based on a stale version is a 409.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import Depends, Path

from runtime.commands import CreateSnapshot, SnapshotCreated, UpdateRuntimeContext
from runtime.gateway import AgentGateway
from storage.errors import Invalid, NotFound
from storage.objects import BrandBrainSnapshot, BrandRuntimeContext
from storage.postgres import Database
from storage.postgres import repositories as repo

from ..access import READ, STRATEGY, BrandAccess
from ..schemas import RuntimeContextPatch, SnapshotCreate
from ..routing import kairo_router
from ..services import database, gateway
from .queries import Cursor, Limit, ListOrder, SortKey, page_of, read_page

router = kairo_router("/v1/brands/{brand_id}", "brand brain")

SNAPSHOTS = ListOrder("snapshots", (SortKey("version", "integer", lambda snapshot: snapshot.version),), descending=True)
SnapshotPage = page_of(BrandBrainSnapshot, "SnapshotPage")


@router.get("/snapshots", response_model=SnapshotPage)
async def list_snapshots(
    limit: Limit = 50, cursor: Cursor = None, access: BrandAccess = READ, db: Database = Depends(database)
) -> SnapshotPage:
    """Newest version first."""
    async with db.connection() as conn:
        items, next_cursor = await read_page(
            conn, repo.snapshots, "brand_id = $1", access.brand.id, order=SNAPSHOTS, cursor=cursor, limit=limit
        )
    return SnapshotPage(items=items, next_cursor=next_cursor)


@router.get("/snapshots/current", response_model=BrandBrainSnapshot)
async def get_current_snapshot(access: BrandAccess = READ, db: Database = Depends(database)) -> BrandBrainSnapshot:
    """The brand's latest snapshot: the strategy its agent works from now."""
    async with db.connection() as conn:
        latest = await repo.snapshots.latest(conn, access.brand.id)
    if latest is None:
        raise NotFound("the brand has no snapshot", details={"brand_id": str(access.brand.id)})
    return latest


@router.get("/snapshots/{version}", response_model=BrandBrainSnapshot)
async def get_snapshot(
    version: int = Path(ge=1), access: BrandAccess = READ, db: Database = Depends(database)
) -> BrandBrainSnapshot:
    async with db.connection() as conn:
        found = await repo.snapshots.list(conn, "brand_id = $1 AND version = $2", access.brand.id, version)
    if not found:
        raise NotFound(f"snapshot version {version} not found", details={"version": version})
    return found[0]


@router.post("/snapshots", response_model=SnapshotCreated, status_code=201)
async def create_snapshot(
    body: SnapshotCreate,  # type: ignore[valid-type]
    access: BrandAccess = STRATEGY,
    agents: AgentGateway = Depends(gateway),
    db: Database = Depends(database),
) -> SnapshotCreated:
    """Record the strategy as version n+1 (``expected_version`` = n); unset fields carry over.
    The runtime context is re-pointed at the new snapshot."""
    command = CreateSnapshot.model_validate(body.model_dump())
    async with db.connection() as conn:
        await _the_brands(conn, "personas", "persona_ids", access.brand.id, command.persona_ids)
        await _the_brands(conn, "pillars", "pillar_ids", access.brand.id, command.pillar_ids)
    result = await agents.send(access.brand.id, command)
    return SnapshotCreated.model_validate(result, from_attributes=True)


async def _the_brands(conn: Any, table: str, field: str, brand_id: UUID, ids: list[UUID] | None) -> None:
    """Refuse ids that repeat (422) or name no object of the brand (404), naming the field."""
    if not ids:
        return
    if len(set(ids)) != len(ids):
        raise Invalid(f"{field} must not repeat an id", details={"field": f"body.{field}"})
    found = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE brand_id = $1 AND id = ANY($2::uuid[])",
                                brand_id, ids)  # fmt: skip
    if found != len(ids):
        raise NotFound(f"{field} names an object that is not the brand's", details={"field": f"body.{field}"})


@router.get("/runtime-context", response_model=BrandRuntimeContext)
async def get_runtime_context(access: BrandAccess = READ, db: Database = Depends(database)) -> BrandRuntimeContext:
    async with db.connection() as conn:
        context = await repo.runtime_contexts.for_brand(conn, access.brand.id)
    if context is None:
        raise NotFound("the brand has no runtime context", details={"brand_id": str(access.brand.id)})
    return context


@router.patch("/runtime-context", response_model=BrandRuntimeContext)
async def update_runtime_context(
    body: RuntimeContextPatch,  # type: ignore[valid-type]
    access: BrandAccess = STRATEGY,
    agents: AgentGateway = Depends(gateway),
    db: Database = Depends(database),
) -> BrandRuntimeContext:
    """Toggle channel knobs (``expected_version`` = the version read); 409 when stale."""
    command = UpdateRuntimeContext.model_validate(body.model_dump(exclude_unset=True))
    result = await agents.send(access.brand.id, command)
    if isinstance(result, BrandRuntimeContext):
        return result
    # The agent answered with something else (e.g. its view): read the context it wrote.
    return await get_runtime_context(access, db)
