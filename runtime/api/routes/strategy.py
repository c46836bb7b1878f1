"""A brand's personas and pillars. Reading: any member; writing: strategist and up.

Changing one does not change the brand's strategy snapshot: a new snapshot
(``POST /v1/brands/{id}/snapshots``) records which personas and pillars are in use.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends

from storage.objects import Persona, Pillar
from storage.objects.base import utcnow
from storage.postgres import Database
from storage.postgres import repositories as repo
from storage.postgres.rows import Repository

from ..access import READ, STRATEGY, BrandAccess
from ..schemas import ERROR_RESPONSES, PatchModel, PersonaCreate, PersonaPatch, PillarCreate, PillarPatch
from ..services import database
from .queries import Limit, owned

router = APIRouter(prefix="/v1/brands/{brand_id}", tags=["strategy"], responses=ERROR_RESPONSES)


async def _patch(db: Database, repository: Repository[Any], brand_id: UUID, id: UUID, patch: PatchModel) -> Any:
    async with db.transaction() as conn:
        current = await owned(conn, repository, brand_id, id)
        changes = patch.model_dump(exclude_unset=True)
        if not changes:
            return current
        model = repository.table.model
        updated = model.model_validate({**current.model_dump(), **changes, "updated_at": utcnow()})
        await repository.update(conn, updated)
        return updated


# -- personas ---------------------------------------------------------------------------------


@router.get("/personas", response_model=list[Persona])
async def list_personas(
    limit: Limit = 50, access: BrandAccess = READ, db: Database = Depends(database)
) -> list[Persona]:
    async with db.connection() as conn:
        return await repo.personas.list(conn, "brand_id = $1", access.brand.id, order_by="created_at, id", limit=limit)


@router.post("/personas", response_model=Persona, status_code=201)
async def create_persona(
    body: PersonaCreate, access: BrandAccess = STRATEGY, db: Database = Depends(database)
) -> Persona:
    persona = Persona(brand_id=access.brand.id, **body.model_dump())
    async with db.transaction() as conn:
        return await repo.personas.insert(conn, persona)


@router.get("/personas/{persona_id}", response_model=Persona)
async def get_persona(persona_id: UUID, access: BrandAccess = READ, db: Database = Depends(database)) -> Persona:
    async with db.connection() as conn:
        return await owned(conn, repo.personas, access.brand.id, persona_id)


@router.patch("/personas/{persona_id}", response_model=Persona)
async def patch_persona(
    persona_id: UUID, body: PersonaPatch, access: BrandAccess = STRATEGY, db: Database = Depends(database)
) -> Persona:
    return await _patch(db, repo.personas, access.brand.id, persona_id, body)


# -- pillars ----------------------------------------------------------------------------------


@router.get("/pillars", response_model=list[Pillar])
async def list_pillars(limit: Limit = 50, access: BrandAccess = READ, db: Database = Depends(database)) -> list[Pillar]:
    async with db.connection() as conn:
        return await repo.pillars.list(
            conn, "brand_id = $1", access.brand.id, order_by="priority DESC, created_at, id", limit=limit
        )


@router.post("/pillars", response_model=Pillar, status_code=201)
async def create_pillar(body: PillarCreate, access: BrandAccess = STRATEGY, db: Database = Depends(database)) -> Pillar:
    pillar = Pillar(brand_id=access.brand.id, **body.model_dump())
    async with db.transaction() as conn:
        return await repo.pillars.insert(conn, pillar)


@router.get("/pillars/{pillar_id}", response_model=Pillar)
async def get_pillar(pillar_id: UUID, access: BrandAccess = READ, db: Database = Depends(database)) -> Pillar:
    async with db.connection() as conn:
        return await owned(conn, repo.pillars, access.brand.id, pillar_id)


@router.patch("/pillars/{pillar_id}", response_model=Pillar)
async def patch_pillar(
    pillar_id: UUID, body: PillarPatch, access: BrandAccess = STRATEGY, db: Database = Depends(database)
) -> Pillar:
    return await _patch(db, repo.pillars, access.brand.id, pillar_id, body)
