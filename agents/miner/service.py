"""The pattern miner's two jobs against the system of record, for the CLI, the API and the
miner pool: import a file of posts (one transaction), and mine a scope (read its posts and
templates, cluster, write the template changes and an EventLog line with the run's counts in one
transaction).

Mining reads every post of the scope, so a run is idempotent: mining again changes nothing until
new posts arrive, and new posts join the templates they match.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from agents.engines.miner import ImportInput, MineInput, MineResult, PatternMiner, ReviewInput, ReviewResult
from agents.miner.hooks import Hook, HookLibrary, hook_of, select_hooks
from agents.miner.labelling import BeatLabeller
from storage.objects import Channel, EventLog, EventType, PatternTemplate, PatternUsage
from storage.objects.patterns import Metrics
from storage.postgres import Database
from storage.postgres import patterns as store
from storage.postgres import repositories as repo


@dataclass(frozen=True)
class ImportReport:
    rows: int
    inserted: int
    updated: int
    duplicates: int


@dataclass(frozen=True)
class MiningReport:
    posts: int
    result: MineResult
    templates: list[PatternTemplate]  # the scope's templates after the run, best first


async def import_file(db: Database, miner: PatternMiner, content: str, fmt: str, *, brand_id: UUID | None = None,
                      default_channel: Channel | None = None) -> ImportReport:
    """Validate the whole file, then store it in one transaction (nothing on any error)."""
    parsed = await miner.parse(ImportInput(format=fmt, content=content, brand_id=brand_id,  # type: ignore[arg-type]
                                           default_channel=default_channel))
    counts = await store.import_posts(db, parsed.posts)
    return ImportReport(rows=parsed.rows, inserted=counts.inserted, updated=counts.updated,
                        duplicates=parsed.duplicates)


async def mine_scope(db: Database, miner: PatternMiner, brand_id: UUID | None = None) -> MiningReport:
    """Mine every post of the scope into its templates; a scope without posts mines nothing."""
    async with db.connection() as conn:
        posts = await store.posts_in_scope(conn, brand_id)
        existing = await store.templates_in_scope(conn, brand_id)
    if not posts:
        empty = MineResult(templates=[], assignments=[], distinct_signatures=0, clusters=0)
        return MiningReport(posts=0, result=empty, templates=existing)
    result = await miner.mine(MineInput(brand_id=brand_id, posts=posts, templates=existing))
    async with db.transaction() as conn:
        await store.save_templates(conn, [c.template for c in result.templates if c.action == "created"],
                                   [c.template for c in result.templates if c.action == "updated"])
        await repo.event_log.insert(conn, EventLog(
            brand_id=brand_id, event_type=EventType.RUN_FINISHED, subject_type="pattern_mining",
            message=(f"mined {len(posts)} posts: {result.created} templates created, {result.updated} updated, "
                     f"{result.unassigned} posts in no template"),
            meta={"posts": len(posts), "created": result.created, "updated": result.updated,
                  "unassigned": result.unassigned, "distinct_signatures": result.distinct_signatures,
                  "clusters": result.clusters},
        ))
        templates = await store.templates_in_scope(conn, brand_id)
    return MiningReport(posts=len(posts), result=result, templates=templates)


async def refresh_hooks(db: Database, library: HookLibrary, labeller: BeatLabeller, brand_id: UUID | None = None,
                        *, top_fraction: float = 0.25) -> int:
    """Add the hooks of the scope's best performers to the hook library; returns how many."""
    async with db.connection() as conn:
        posts = await store.posts_in_scope(conn, brand_id)
        templates_of = await store.templates_of_posts(conn, [p.id for p in posts])
    hooks = select_hooks(posts, labeller, templates_of=templates_of, top_fraction=top_fraction)
    return await library.add(hooks)


async def search_hooks(db: Database, library: HookLibrary, labeller: BeatLabeller, topic: str, *,
                       brand_id: UUID | None = None, channel: Channel | None = None,
                       k: int = 5) -> list[tuple[Hook, float]]:
    """Strong hooks for a topic: the brand's own and the global ones, nearest first, as hooks
    read back from their source posts (PostgreSQL is the truth), optionally of one channel."""
    hits = await library.search(topic, brand_id=brand_id, k=k * 4 if channel else k)
    async with db.connection() as conn:
        posts = await store.posts_by_ids(conn, [h.hook_id for h in hits])
        templates_of = await store.templates_of_posts(conn, list(posts))
    out: list[tuple[Hook, float]] = []
    for hit in hits:
        post = posts.get(hit.hook_id)
        hook = hook_of(post, labeller, templates_of.get(post.id)) if post is not None else None
        if hook is not None and (channel is None or hook.channel == channel):
            out.append((hook, hit.distance))
    return out[:k]


async def record_usage(db: Database, usage: PatternUsage) -> PatternUsage:
    """A variant used a template (its outcome may be null until metrics arrive)."""
    async with db.transaction() as conn:
        return await store.record_usage(conn, usage)


async def record_outcome(db: Database, miner: PatternMiner, usage_id: UUID, outcome: Metrics) -> ReviewResult:
    """Attach a usage's metrics, then refresh its template's stats and status, in one
    transaction (the template row is locked so two outcomes do not race)."""
    async with db.transaction() as conn:
        usage = await store.attach_outcome(conn, usage_id, dict(outcome))
        await conn.execute("SELECT 1 FROM pattern_templates WHERE id = $1 FOR UPDATE", usage.pattern_template_id)
        template = await store.get_template(conn, usage.pattern_template_id)
        usages = await store.usages_of(conn, template.id)
        medians = await store.channel_medians(conn, usage.brand_id)
        decision = await miner.review(ReviewInput(template=template, usages=usages, channel_medians=medians))
        await store.save_templates(conn, [], [decision.template])
    return decision
