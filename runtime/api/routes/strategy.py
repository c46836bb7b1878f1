"""A brand's personas and pillars. Reading: any member; writing: strategist and up.

Changing one does not change the brand's strategy snapshot: a new snapshot
(``POST /v1/brands/{id}/snapshots``) records which personas and pillars are in use.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import Depends

from storage.objects import Persona, Pillar
from storage.objects.base import utcnow
from storage.postgres import Database
from storage.postgres import repositories as repo
from storage.postgres.rows import Repository

from ..access import READ, STRATEGY, BrandAccess
from ..schemas import PatchModel, PersonaCreate, PersonaPatch, PillarCreate, PillarPatch
from ..routing import kairo_router
from ..services import database
from .queries import Cursor, Limit, ListOrder, SortKey, by_created, owned, page_of, read_page

router = kairo_router("/v1/brands/{brand_id}", "strategy")

PERSONAS = by_created("personas")
PILLARS = ListOrder("pillars", (
    SortKey("-priority", "integer", lambda pillar: -pillar.priority),
    *by_created("pillars").keys,
))  # fmt: skip
PersonaPage = page_of(Persona, "PersonaPage")
PillarPage = page_of(Pillar, "PillarPage")


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


@router.get("/personas", response_model=PersonaPage)
async def list_personas(
    limit: Limit = 50, cursor: Cursor = None, access: BrandAccess = READ, db: Database = Depends(database)
) -> PersonaPage:
    """Oldest first."""
    async with db.connection() as conn:
        items, next_cursor = await read_page(
            conn, repo.personas, "brand_id = $1", access.brand.id, order=PERSONAS, cursor=cursor, limit=limit
        )
    return PersonaPage(items=items, next_cursor=next_cursor)


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
async def update_persona(
    persona_id: UUID, body: PersonaPatch, access: BrandAccess = STRATEGY, db: Database = Depends(database)
) -> Persona:
    return await _patch(db, repo.personas, access.brand.id, persona_id, body)


# -- pillars ----------------------------------------------------------------------------------


@router.get("/pillars", response_model=PillarPage)
async def list_pillars(
    limit: Limit = 50, cursor: Cursor = None, access: BrandAccess = READ, db: Database = Depends(database)
) -> PillarPage:
    """Highest priority first, then oldest."""
    async with db.connection() as conn:
        items, next_cursor = await read_page(
            conn, repo.pillars, "brand_id = $1", access.brand.id, order=PILLARS, cursor=cursor, limit=limit
        )
    return PillarPage(items=items, next_cursor=next_cursor)


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
async def update_pillar(
    pillar_id: UUID, body: PillarPatch, access: BrandAccess = STRATEGY, db: Database = Depends(database)
) -> Pillar:
    return await _patch(db, repo.pillars, access.brand.id, pillar_id, body)
