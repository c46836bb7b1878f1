"""The brand brain: strategy snapshots and the runtime context.

Reads come straight from PostgreSQL. Changes go through the brand's agent (the gateway), which
owns its brand's runtime state: a write based on a stale version is a 409.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path

from runtime.commands import CreateSnapshot, SnapshotCreated, UpdateRuntimeContext
from runtime.gateway import AgentGateway
from storage.errors import NotFound
from storage.objects import BrandBrainSnapshot, BrandRuntimeContext
from storage.postgres import Database
from storage.postgres import repositories as repo

from ..access import READ, STRATEGY, BrandAccess
from ..schemas import ERROR_RESPONSES, RuntimeContextPatch, SnapshotCreate
from ..services import database, gateway
from .queries import Limit

router = APIRouter(prefix="/v1/brands/{brand_id}", tags=["brand brain"], responses=ERROR_RESPONSES)


@router.get("/snapshots", response_model=list[BrandBrainSnapshot])
async def list_snapshots(
    limit: Limit = 50, access: BrandAccess = READ, db: Database = Depends(database)
) -> list[BrandBrainSnapshot]:
    """Newest version first."""
    async with db.connection() as conn:
        return await repo.snapshots.list(conn, "brand_id = $1", access.brand.id, order_by="version DESC", limit=limit)


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
) -> SnapshotCreated:
    """Record the strategy as version n+1 (``expected_version`` = n); unset fields carry over.
    The runtime context is re-pointed at the new snapshot."""
    command = CreateSnapshot.model_validate(body.model_dump())
    result = await agents.send(access.brand.id, command)
    return SnapshotCreated.model_validate(result, from_attributes=True)


@router.get("/runtime-context", response_model=BrandRuntimeContext)
async def get_runtime_context(access: BrandAccess = READ, db: Database = Depends(database)) -> BrandRuntimeContext:
    async with db.connection() as conn:
        context = await repo.runtime_contexts.for_brand(conn, access.brand.id)
    if context is None:
        raise NotFound("the brand has no runtime context", details={"brand_id": str(access.brand.id)})
    return context


@router.patch("/runtime-context", response_model=BrandRuntimeContext)
async def patch_runtime_context(
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
