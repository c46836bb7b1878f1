"""The pattern miner's jobs against the system of record, for the CLI, the API, the brand agent
and the publisher's performance ingestion. ``miner`` is the engine itself
(:class:`agents.engines.miner.PatternMiner`) or the miner pool with the same call shape
(``runtime.api.services.pooled``): labelling, clustering and embedding run wherever it runs.

* :func:`import_file` - a file of posts validated whole, stored in one transaction with a
  ``posts_imported`` line;
* :func:`mine_scope` - a mining run: read the scope's posts and templates, cluster, index the best
  performers' hooks, then write the template changes and finish the run (an AgentRun for a
  brand, EventLog lines for both scopes, see :mod:`.runs`) in one transaction;
* :func:`search_hooks` - strong hooks for a topic, the brand's own and the global ones;
* :func:`record_usage`, :func:`record_outcome`, :func:`record_variant_outcome` - PatternUsage
  rows and their outcomes, which refresh the template's stats and status.

Mining reads every post of the scope, so a run is idempotent: mining again changes nothing until
new posts arrive, and new posts join the templates they match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from agents.engines.miner import (
    HookPostsInput,
    HookSearchInput,
    HookView,
    ImportInput,
    IndexHooksInput,
    IndexHooksResult,
    MineInput,
    MineResult,
    PatternMiner,
    ReviewInput,
    ReviewResult,
)
from storage.errors import Conflict, Invalid, KairoError
from storage.objects import (
    AgentRun,
    Channel,
    EventLog,
    EventType,
    PatternTemplate,
    PatternUsage,
    RunResult,
    RunTrigger,
)
from storage.objects.patterns import Metrics
from storage.postgres import Database
from storage.postgres import patterns as store
from storage.postgres import repositories as repo

from .runs import MiningCounts, finish_run, org_of, start_run

MINE_ATTEMPTS = 3
"""Runs of one scope that overlap: the later one mines again on the templates the earlier wrote."""


@dataclass(frozen=True)
class ImportReport:
    rows: int
    inserted: int
    updated: int
    duplicates: int


@dataclass(frozen=True)
class MiningReport:
    run_id: UUID  # the AgentRun's id for a brand; the EventLog lines' subject_id for both scopes
    run_result: RunResult
    counts: MiningCounts
    result: MineResult  # the template changes and each post's template
    templates: list[PatternTemplate]  # the scope's templates after the run, best first
    agent_run: AgentRun | None  # the brand's finished AgentRun (None for a global run)
    notes: tuple[str, ...] = ()

    @property
    def posts(self) -> int:
        return self.counts.posts_read


@dataclass(frozen=True)
class HookMatch:
    hook: HookView
    distance: float  # cosine distance of the hook to the topic (0 = same direction)
    is_global: bool
    engagements: int


# -- import ---------------------------------------------------------------------------------


async def import_file(db: Database, miner: PatternMiner, content: str, fmt: str, *, brand_id: UUID | None = None,
                      default_channel: Channel | None = None, user_id: UUID | None = None) -> ImportReport:
    """Validate the whole file, then store it and its ``posts_imported`` line in one
    transaction (nothing on any error)."""
    parsed = await miner.parse(ImportInput(format=fmt, content=content, brand_id=brand_id,  # type: ignore[arg-type]
                                           default_channel=default_channel))
    async with db.transaction() as conn:
        org_id = await org_of(conn, brand_id) if brand_id is not None else None
        counts = await store.upsert_posts(conn, parsed.posts)
        await repo.event_log.insert(conn, EventLog(
            org_id=org_id, brand_id=brand_id, user_id=user_id, event_type=EventType.POSTS_IMPORTED,
            subject_type="pattern_source_posts", message=(
                f"imported {parsed.rows} rows: {counts.inserted} new posts, {counts.updated} known "
                f"(metrics refreshed), {parsed.duplicates} repeated in the file"),
            meta={"format": fmt, "rows": parsed.rows, "inserted": counts.inserted, "updated": counts.updated,
                  "duplicates": parsed.duplicates},
        ))  # fmt: skip
    return ImportReport(rows=parsed.rows, inserted=counts.inserted, updated=counts.updated,
                        duplicates=parsed.duplicates)


# -- mining runs ----------------------------------------------------------------------------


async def mine_scope(db: Database, miner: PatternMiner, brand_id: UUID | None = None, *,
                     trigger: RunTrigger = RunTrigger.MANUAL, user_id: UUID | None = None) -> MiningReport:
    """One mining run of a scope (a brand's posts, or the global ones for None), recorded.

    The run is opened first (so a failure is recorded too), the clustering and the hook indexing
    run in ``miner``, and the template changes are written with the run's end in one
    transaction under the scope's lock; if another run changed the scope's templates meanwhile,
    this one mines again on top of them. Posts without any beat and a hook library that fails
    are failures of the run (``partial_success``), not errors."""
    async with db.transaction() as conn:
        record = await start_run(conn, brand_id, trigger, user_id)
    try:
        return await _mine(db, miner, record)
    except BaseException as exc:
        reason = f"{exc.code}: {exc.message}" if isinstance(exc, KairoError) else f"{type(exc).__name__}: {exc}"
        async with db.transaction() as conn:
            await finish_run(conn, record, RunResult.ERROR, MiningCounts(), [reason[:1000]])
        raise


async def _mine(db: Database, miner: PatternMiner, record: Any) -> MiningReport:
    brand_id = record.brand_id
    for _ in range(MINE_ATTEMPTS):
        async with db.connection() as conn:
            posts = await store.posts_in_scope(conn, brand_id)
            existing = await store.templates_in_scope(conn, brand_id)
        if posts:
            mined = await miner.mine(MineInput(brand_id=brand_id, posts=posts, templates=existing))
        else:
            mined = MineResult(templates=[], assignments=[], distinct_signatures=0, clusters=0)
        notes: list[str] = [f"{len(mined.failed_post_ids)} posts without any beat"] if mined.failed_post_ids else []
        hooks = await _index_hooks(miner, brand_id, posts, mined, notes)
        counts = MiningCounts(
            posts_read=len(posts), beats=mined.beats, distinct_signatures=mined.distinct_signatures,
            clusters=mined.clusters, templates_created=mined.created, templates_merged=mined.updated,
            unassigned=mined.unassigned, failures=len(mined.failed_post_ids) + (hooks is None),
            hooks_indexed=hooks.added if hooks else 0, hooks_removed=hooks.removed if hooks else 0,
        )  # fmt: skip
        result = RunResult.PARTIAL_SUCCESS if counts.failures else RunResult.SUCCESS
        async with db.transaction() as conn:
            await store.lock_scope(conn, brand_id)
            if _versions(await store.templates_in_scope(conn, brand_id)) != _versions(existing):
                continue  # another run wrote first: mine again on its templates
            await store.save_templates(conn, [c.template for c in mined.templates if c.action == "created"],
                                       [c.template for c in mined.templates if c.action == "updated"])
            finished = await finish_run(conn, record, result, counts, notes)
            templates = await store.templates_in_scope(conn, brand_id)
        return MiningReport(record.id, result, counts, mined, templates, finished, tuple(notes))
    raise Conflict("other mining runs of this scope kept changing its templates; run it again",
                   details={"field": "brand_id", "attempts": MINE_ATTEMPTS})


def _versions(templates: list[PatternTemplate]) -> set[tuple[UUID, Any]]:
    return {(t.id, t.updated_at) for t in templates}


async def _index_hooks(miner: PatternMiner, brand_id: UUID | None, posts: list[Any], mined: MineResult,
                       notes: list[str]) -> IndexHooksResult | None:
    """The scope's hooks in the library made those of its best performers; None (and a note)
    if the library failed."""
    measured = [p for p in posts if p.impressions and p.engagements is not None]
    templates_of = {a.post_id: a.template_id for a in mined.assignments if a.template_id is not None}
    try:
        indexed = await miner.index_hooks(IndexHooksInput(brand_id=brand_id, posts=measured, templates_of=templates_of))
    except Exception as exc:  # noqa: BLE001 - a hook library down is a failure of the run, not its end
        notes.append(f"hook library failed: {type(exc).__name__}: {exc}"[:500])
        return None
    if not indexed.available:
        notes.append("no hook library in this miner: hooks not indexed")
    return indexed


async def refresh_hooks(db: Database, miner: PatternMiner, brand_id: UUID | None = None) -> IndexHooksResult:
    """Index the hooks of a scope's best performers without a mining run."""
    async with db.connection() as conn:
        posts = [p for p in await store.posts_in_scope(conn, brand_id) if p.impressions and p.engagements is not None]
        templates_of = await store.templates_of_posts(conn, [p.id for p in posts])
    return await miner.index_hooks(IndexHooksInput(brand_id=brand_id, posts=posts, templates_of=templates_of))


# -- hook search ----------------------------------------------------------------------------


async def search_hooks(db: Database, miner: PatternMiner, topic: str, *, brand_id: UUID | None = None,
                       channel: Channel | None = None, k: int = 5) -> list[HookMatch]:
    """Strong hooks for a topic ("strong hooks for this angle"): the brand's own and the global
    ones (only global for None), nearest first, optionally of one channel.

    The miner embeds the topic and searches the library; every hit is then read back from its
    source post in PostgreSQL, which is the truth: a hit whose post is gone or outside the
    brand's reach is dropped, metrics and template are the current ones."""
    if not topic.strip():
        raise Invalid("the topic must not be blank", details={"field": "q"})
    fetch = min(k * (8 if channel is not None else 2), 4 * 50)
    found = await miner.search_hooks(HookSearchInput(topic=topic, brand_id=brand_id, k=fetch))
    async with db.connection() as conn:
        posts = await store.posts_by_ids(conn, [h.hook_id for h in found.hits])
        kept = [(hit, posts[hit.hook_id]) for hit in found.hits
                if hit.hook_id in posts and posts[hit.hook_id].brand_id in (None, brand_id)
                and (channel is None or posts[hit.hook_id].channel == channel)][:k]
        templates_of = await store.templates_of_posts(conn, [post.id for _, post in kept])
    views = await miner.hooks(HookPostsInput(posts=[post for _, post in kept], templates_of=templates_of))
    by_id = {v.id: v for v in views.hooks}
    return [HookMatch(by_id[post.id], hit.distance, post.brand_id is None, post.engagements or 0)
            for hit, post in kept if post.id in by_id]


# -- usages and their outcomes --------------------------------------------------------------


async def record_usage(db: Database, usage: PatternUsage) -> PatternUsage:
    """A variant used a template (its outcome stays null until metrics arrive)."""
    async with db.transaction() as conn:
        return await store.record_usage(conn, usage)


async def record_outcome(db: Database, miner: PatternMiner, usage_id: UUID, outcome: Metrics) -> ReviewResult:
    """Attach a usage's metrics (``impressions``, ``engagements``, ...), then refresh its
    template's stats and status in the same transaction; a status change is an EventLog line."""
    _check_outcome(outcome)
    async with db.transaction() as conn:
        usage = await store.attach_outcome(conn, usage_id, dict(outcome))
        return await _review(conn, miner, usage)


async def record_variant_outcome(db: Database, miner: PatternMiner, content_variant_id: UUID,
                                 outcome: Metrics) -> list[ReviewResult]:
    """The publisher's entry point: a published variant's metrics arrived; every usage of that
    variant takes them and its template is reviewed, in one transaction. A variant that used
    no template gives ``[]``."""
    _check_outcome(outcome)
    async with db.transaction() as conn:
        decisions = []
        for usage in await store.usages_of_variant(conn, content_variant_id):
            attached = await store.attach_outcome(conn, usage.id, dict(outcome))
            decisions.append(await _review(conn, miner, attached))
        return decisions


def _check_outcome(outcome: Mapping[str, float]) -> None:
    impressions, engagements = outcome.get("impressions"), outcome.get("engagements")
    if impressions is not None and engagements is not None and engagements > impressions:
        raise Invalid(f"engagements ({engagements:g}) exceed impressions ({impressions:g})",
                      details={"field": "outcome.engagements"})


async def _review(conn: Any, miner: PatternMiner, usage: PatternUsage) -> ReviewResult:
    template = await store.get_template(conn, usage.pattern_template_id, for_update=True)
    usages = await store.usages_of(conn, template.id)
    medians = await store.channel_medians(conn, usage.brand_id)
    decision = await miner.review(ReviewInput(template=template, usages=usages, channel_medians=medians))
    await store.save_templates(conn, [], [decision.template])
    if decision.changed:  # a global template's line has no brand: its status is every brand's
        org_id = await org_of(conn, template.brand_id) if template.brand_id is not None else None
        await repo.event_log.insert(conn, EventLog(
            org_id=org_id, brand_id=template.brand_id,
            event_type=EventType.TEMPLATE_STATUS_CHANGED, subject_type="pattern_template",
            subject_id=str(template.id),
            message=f"template {template.name!r}: {decision.previous_status} → {decision.template.status} "
                    f"({decision.reason})",
            meta={"from": str(decision.previous_status), "to": str(decision.template.status),
                  "reason": decision.reason, "performance": decision.performance,
                  "measured_uses": decision.template.usage_stats.measured_uses, "usage_id": str(usage.id)},
        ))  # fmt: skip
    return decision
