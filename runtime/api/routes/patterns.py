"""Pattern mining: import posts that worked, mine their structures into templates, read the
templates with their evidence and the usages that measure them.

A brand's posts and templates are its own; global swipe files (``/v1/patterns/…``) are shared by
every tenant, so only the operator's admins import and mine them, and every brand reads them.
Parsing and clustering run in the miner pool (``services.engines``), never in the replica.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, Query
from pydantic import Field

from agents.miner.service import import_file, mine_scope
from storage.errors import Forbidden, Invalid, NotFound
from storage.objects import Channel, PatternSourcePost, PatternStatus, PatternTemplate, PatternUsage
from storage.objects.base import Text
from storage.postgres import Database
from storage.postgres import patterns as store

from ..access import READ, STRATEGY, BrandAccess
from ..auth import Principal, authenticate
from ..routing import kairo_router
from ..schemas import ApiModel, View
from ..services import EngineCaller, database, engines, pooled
from .queries import Cursor, Limit, page_in_memory, page_of

brand_router = kairo_router("/v1/brands/{brand_id}/patterns", "patterns")
global_router = kairo_router("/v1/patterns", "patterns")

TemplatePage = page_of(PatternTemplate, "TemplatePage")
UsagePage = page_of(PatternUsage, "UsagePage")


class PostsImport(ApiModel):
    """A file of posts with their metrics, as text (columns and keys: docs of the miner)."""

    format: Literal["json", "jsonl", "csv"]
    content: Text = Field(description="the file's text: a JSON array, JSON lines, or CSV with a header row")
    default_channel: Channel | None = Field(default=None, description="the channel of rows that name none")


class PostsImported(View):
    rows: int = Field(description="rows in the file")
    inserted: int = Field(description="posts new to this scope")
    updated: int = Field(description="posts already known: their metrics refreshed")
    duplicates: int = Field(description="rows repeating another row of the file")


class MiningRun(View):
    posts: int = Field(description="posts of the scope mined")
    created: int
    updated: int
    unassigned: int = Field(description="posts whose structure has too little evidence for a template yet")
    distinct_signatures: int
    templates: int = Field(description="templates of the scope after the run")


class TemplateDetail(View):
    template: PatternTemplate
    examples: list[PatternSourcePost] = Field(description="the posts the template was mined from")


# -- a brand's own posts and templates ------------------------------------------------------


@brand_router.post("/posts", response_model=PostsImported, status_code=201)
async def import_brand_posts(
    body: PostsImport, access: BrandAccess = STRATEGY, db: Database = Depends(database),
    pool: EngineCaller = Depends(engines),
) -> PostsImported:  # fmt: skip
    """Import the brand's own posts (strategist+), all rows or none; the same post twice is one row."""
    report = await _import(db, pool, body, access.brand.id)
    return PostsImported(rows=report.rows, inserted=report.inserted, updated=report.updated,
                         duplicates=report.duplicates)  # fmt: skip


@brand_router.post("/runs", response_model=MiningRun, status_code=201)
async def mine_brand_patterns(
    access: BrandAccess = STRATEGY, db: Database = Depends(database), pool: EngineCaller = Depends(engines)
) -> MiningRun:
    """Mine the brand's posts into its templates; mining again changes nothing until new posts
    arrive. The run's counts are written to the event log."""
    return _run(await mine_scope(db, pooled(pool, "miner"), access.brand.id))  # type: ignore[arg-type]


@brand_router.get("/templates", response_model=TemplatePage)
async def list_templates(
    scope: Annotated[Literal["brand", "global", "all"], Query(description="the brand's own, the global ones, or both")] = "all",
    channel: Channel | None = None,
    status: PatternStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    access: BrandAccess = READ,
    db: Database = Depends(database),
) -> Any:  # fmt: skip
    """Best evidence-weighted engagement first (three lucky posts do not outrank three hundred);
    with ``scope=all`` the brand's own before the global ones."""
    scopes = {"brand": [access.brand.id], "global": [None], "all": [access.brand.id, None]}[scope]
    ranked: list[PatternTemplate] = []
    async with db.connection() as conn:
        for brand_id in scopes:
            ranked += await store.templates_in_scope(conn, brand_id, channel=channel, status=status)
    items, next_cursor = page_in_memory(ranked, cursor, limit)
    return TemplatePage(items=items, next_cursor=next_cursor)


@brand_router.get("/templates/{template_id}", response_model=TemplateDetail)
async def get_template(template_id: UUID, access: BrandAccess = READ, db: Database = Depends(database)) -> TemplateDetail:
    """A template of the brand or a global one, with the posts it was mined from."""
    async with db.connection() as conn:
        template = await _visible_template(conn, access, template_id)
        posts = await store.posts_by_ids(conn, template.example_source_post_ids)
    return TemplateDetail(template=template, examples=[posts[i] for i in template.example_source_post_ids if i in posts])


@brand_router.get("/templates/{template_id}/usages", response_model=UsagePage)
async def list_template_usages(
    template_id: UUID, limit: Limit = 50, cursor: Cursor = None, access: BrandAccess = READ,
    db: Database = Depends(database),
) -> Any:  # fmt: skip
    """The brand's variants that used the template, oldest first, with their outcomes once measured."""
    async with db.connection() as conn:
        await _visible_template(conn, access, template_id)
        usages = [u for u in await store.usages_of(conn, template_id) if u.brand_id == access.brand.id]
    usages.sort(key=lambda u: (u.created_at, u.id))
    items, next_cursor = page_in_memory(usages, cursor, limit)
    return UsagePage(items=items, next_cursor=next_cursor)


# -- global swipe files (operator admins) ---------------------------------------------------


@global_router.post("/posts", response_model=PostsImported, status_code=201)
async def import_global_posts(
    body: PostsImport, principal: Principal = Depends(authenticate), db: Database = Depends(database),
    pool: EngineCaller = Depends(engines),
) -> PostsImported:  # fmt: skip
    """Import a global swipe file: posts every brand's writer may learn structures from."""
    _require_operator(principal)
    report = await _import(db, pool, body, None)
    return PostsImported(rows=report.rows, inserted=report.inserted, updated=report.updated,
                         duplicates=report.duplicates)  # fmt: skip


@global_router.post("/runs", response_model=MiningRun, status_code=201)
async def mine_global_patterns(
    principal: Principal = Depends(authenticate), db: Database = Depends(database),
    pool: EngineCaller = Depends(engines),
) -> MiningRun:  # fmt: skip
    """Mine the global swipe files into global templates."""
    _require_operator(principal)
    return _run(await mine_scope(db, pooled(pool, "miner"), None))  # type: ignore[arg-type]


# -- helpers --------------------------------------------------------------------------------


async def _import(db: Database, pool: EngineCaller, body: PostsImport, brand_id: UUID | None) -> Any:
    """The file stored in one transaction; a problem inside it names ``body.content`` with the
    row and the column (``details.column``) it was found in."""
    try:
        return await import_file(db, pooled(pool, "miner"), body.content, body.format, brand_id=brand_id,  # type: ignore[arg-type]
                                 default_channel=body.default_channel)  # fmt: skip
    except Invalid as exc:
        if exc.details.get("field", "").startswith("body."):
            raise
        details = {**exc.details, "field": "body.content", "column": exc.details.get("field")}
        raise Invalid(exc.message, details=details) from None


def _require_operator(principal: Principal) -> None:
    if not principal.is_operator_admin:
        raise Forbidden("global swipe files are shared by every tenant: only the operator's admins change them",
                        details={"required_role": "operator admin"})  # fmt: skip


def _run(report: Any) -> MiningRun:
    result = report.result
    return MiningRun(posts=report.posts, created=result.created, updated=result.updated,
                     unassigned=result.unassigned, distinct_signatures=result.distinct_signatures,
                     templates=len(report.templates))  # fmt: skip


async def _visible_template(conn: Any, access: BrandAccess, template_id: UUID) -> PatternTemplate:
    try:
        template = await store.get_template(conn, template_id)
    except NotFound:
        template = None
    if template is None or template.brand_id not in (None, access.brand.id):
        raise NotFound(f"PatternTemplate {template_id} not found", details={"id": str(template_id)})
    return template


__all__ = ["brand_router", "global_router"]
