"""Pattern mining: import posts that worked, mine their structures into templates, read the
templates with their evidence and the usages that measure them, search the hook library.

A brand's posts, templates and hooks are its own; global swipe files (``/v1/patterns/…``) are
shared by every tenant, so only the operator's admins import and mine them, and every brand reads
them. Parsing, clustering and embedding run in the miner pool (``services.engines``), never in
the replica. A mining run is an AgentRun of the brand (global runs: EventLog lines only).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, Query
from pydantic import Field

from agents.engines.miner import HOOK_K_MAX
from agents.miner.service import import_file, mine_scope, search_hooks
from storage.errors import Forbidden, Invalid, NotFound
from storage.objects import (
    Channel,
    PatternSourcePost,
    PatternStatus,
    PatternTemplate,
    PatternUsage,
    RunResult,
)
from storage.objects.base import PROSE_SCHEMA_PATTERN, Text
from storage.postgres import Database
from storage.postgres import patterns as store

from ...gateway import pooled
from ..access import READ, STRATEGY, BrandAccess
from ..auth import Principal, authenticate
from ..routing import kairo_router
from ..schemas import ApiModel, View
from ..services import EngineCaller, database, engines
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
    run_id: UUID = Field(description="the brand's AgentRun (GET …/agent/runs/{id}); for a global run the "
                                     "subject_id of its EventLog lines")
    result: RunResult = Field(description="partial_success when some posts had no beat or the hook library failed")
    posts: int = Field(description="posts of the scope mined")
    beats: int = Field(description="beats labelled in those posts")
    clusters: int
    created: int = Field(description="templates created")
    updated: int = Field(description="templates that gained evidence (merged)")
    unassigned: int = Field(description="posts whose structure has too little evidence for a template yet")
    failures: int = Field(description="posts without any beat, plus the hook library if it failed")
    hooks_indexed: int = Field(description="hooks of the best performers new to the hook library")
    hooks_removed: int = Field(description="hooks of posts no longer among the best performers, removed")
    distinct_signatures: int
    templates: int = Field(description="templates of the scope after the run")
    notes: list[str] = Field(description="what went wrong, in words (empty on success)")


class Hook(View):
    """A strong opening: the first beat of a post that worked, with that post's numbers."""

    source_post_id: UUID
    text: str = Field(description="the hook (the post's first beat)")
    channel: Channel
    template_id: UUID | None = Field(description="the template the post is evidence of, if any")
    engagement_rate: float = Field(description="the source post's engagements / impressions")
    impressions: int
    engagements: int
    is_global: bool = Field(description="from a global swipe file rather than the brand's own posts")
    distance: float = Field(description="cosine distance to the query (0 = same meaning)")


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
    report = await _import(db, pool, body, access.brand.id, access.principal.user.id)
    return PostsImported(rows=report.rows, inserted=report.inserted, updated=report.updated,
                         duplicates=report.duplicates)  # fmt: skip


@brand_router.post("/runs", response_model=MiningRun, status_code=201)
async def mine_brand_patterns(
    access: BrandAccess = STRATEGY, db: Database = Depends(database), pool: EngineCaller = Depends(engines)
) -> MiningRun:
    """Mine the brand's posts into its templates and its best performers' hooks into the hook
    library; mining again changes nothing until new posts arrive. The run is an AgentRun of the
    brand with its counts, and run_started / run_finished lines in the event log."""
    return _run(await mine_scope(db, pooled(pool, "miner"), access.brand.id,  # type: ignore[arg-type]
                                 user_id=access.principal.user.id))  # fmt: skip


@brand_router.get("/hooks", response_model=list[Hook])
async def search_pattern_hooks(
    q: Annotated[str, Query(min_length=1, max_length=1000, description="the topic or angle to find hooks for",
                            json_schema_extra={"pattern": PROSE_SCHEMA_PATTERN})],
    channel: Annotated[Channel | None, Query(description="only hooks of posts on this channel")] = None,
    k: Annotated[int, Query(ge=1, le=HOOK_K_MAX, description="how many hooks")] = 5,
    access: BrandAccess = READ,
    db: Database = Depends(database),
    pool: EngineCaller = Depends(engines),
) -> list[Hook]:  # fmt: skip
    """The ``k`` hooks nearest in meaning to ``q`` among the brand's own best performers and the
    global ones, nearest first (the topic is embedded in the miner pool)."""
    if not q.strip():
        raise Invalid("q must not be blank", details={"field": "query.q"})
    matches = await search_hooks(db, pooled(pool, "miner"), q, brand_id=access.brand.id, channel=channel, k=k)
    return [Hook(source_post_id=m.hook.id, text=m.hook.text, channel=m.hook.channel, template_id=m.hook.template_id,
                 engagement_rate=m.hook.engagement_rate, impressions=m.hook.impressions, engagements=m.engagements,
                 is_global=m.is_global, distance=m.distance) for m in matches]  # fmt: skip


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
    report = await _import(db, pool, body, None, principal.user.id)
    return PostsImported(rows=report.rows, inserted=report.inserted, updated=report.updated,
                         duplicates=report.duplicates)  # fmt: skip


@global_router.post("/runs", response_model=MiningRun, status_code=201)
async def mine_global_patterns(
    principal: Principal = Depends(authenticate), db: Database = Depends(database),
    pool: EngineCaller = Depends(engines),
) -> MiningRun:  # fmt: skip
    """Mine the global swipe files into global templates."""
    _require_operator(principal)
    return _run(await mine_scope(db, pooled(pool, "miner"), None, user_id=principal.user.id))  # type: ignore[arg-type]


# -- helpers --------------------------------------------------------------------------------


async def _import(db: Database, pool: EngineCaller, body: PostsImport, brand_id: UUID | None, user_id: UUID) -> Any:
    """The file stored in one transaction; a problem inside it names ``body.content`` with the
    row and the column (``details.column``) it was found in."""
    try:
        return await import_file(db, pooled(pool, "miner"), body.content, body.format, brand_id=brand_id,  # type: ignore[arg-type]
                                 default_channel=body.default_channel, user_id=user_id)  # fmt: skip
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
    counts = report.counts
    return MiningRun(run_id=report.run_id, result=report.run_result, posts=counts.posts_read, beats=counts.beats,
                     clusters=counts.clusters, created=counts.templates_created, updated=counts.templates_merged,
                     unassigned=counts.unassigned, failures=counts.failures, hooks_indexed=counts.hooks_indexed,
                     hooks_removed=counts.hooks_removed,
                     distinct_signatures=counts.distinct_signatures, templates=len(report.templates),
                     notes=list(report.notes))  # fmt: skip


async def _visible_template(conn: Any, access: BrandAccess, template_id: UUID) -> PatternTemplate:
    try:
        template = await store.get_template(conn, template_id)
    except NotFound:
        template = None
    if template is None or template.brand_id not in (None, access.brand.id):
        raise NotFound(f"PatternTemplate {template_id} not found", details={"id": str(template_id)})
    return template


__all__ = ["brand_router", "global_router"]
