"""The main job on the embedded defaults, in one shot: ``kairo demo`` / ``make demo``.

It starts a local Kairo runtime (Ray on loopback, embedded PostgreSQL, the memory service,
engine pools, brand hosts, scheduler and publisher), onboards the seed's example brand (Acme
Analytics) if it is new, records a strategy snapshot, remembers on-brand fragments and
searches them, ingests the example feed the repo ships, then has the brand's agent run one cycle
(its planning scouts the feed into the day's board) and reports what it did. Everything is
stopped again at the end. Running it twice reuses the brand and records snapshot n+1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import ray

from agents.brand_brain import OnboardingRequest, PersonaDraft, PillarDraft, onboard_brand
from storage.examples import example_uuid, load_seed_examples
from storage.memory.store import MemoryDraft, MemoryHit
from storage.objects import AgentRun, Brand, BrandBrainSnapshot, BrandRuntimeContext, EventLog, PatternTemplate
from storage.objects.base import new_id, utcnow
from storage.postgres import repositories as repo

from .commands import AgentView, GetStatus, RunCycle
from .database import open_database
from .gateway import MemoryClient
from .hosts import RayAgentGateway
from .memory_service import get_memory_client
from .settings import Settings
from .stack import init_ray, start_runtime, stop_runtime

DEMO_QUESTION = "Why does our board ignore the marketing dashboards?"
DEMO_FEED_URL = "https://revenue-weekly.example/feed.rss"

EXTRA_MEMORIES = [
    "Pipeline is the only chart your CFO reads twice.",
    "We stopped reporting clicks to the board and started reporting qualified pipeline by stage.",
    "Attribution is not about credit, it is about knowing which lever to pull next quarter.",
    "Our team ships one honest dashboard instead of twelve pretty ones.",
]


DEMO_DRAFT = (
    "Your board does not read dashboards. It reads one number twice.\n\n"
    "We asked 40 marketing leaders which chart survives the quarterly review. "
    "Almost all of them named qualified pipeline by stage.\n\n"
    "So we cut twelve pretty charts down to one honest one. What would you keep?"
)


@dataclass(frozen=True)
class BoardLine:
    """One card of the demo brand's board as the demo prints it."""

    score: float
    pillar: str
    opportunity_type: str
    angle: str


@dataclass
class DemoResult:
    brand: Brand
    created: bool
    snapshot: BrandBrainSnapshot
    runtime_context: BrandRuntimeContext
    fragments: int
    question: str
    hits: list[MemoryHit]
    run: AgentRun
    agent: AgentView
    events: list[EventLog]
    mined_posts: int = 0
    templates: list[PatternTemplate] = field(default_factory=list)
    draft: str = DEMO_DRAFT
    gate_report: Any = None
    ingested: Any = None
    board: list[BoardLine] = field(default_factory=list)
    package: Any = None
    publishing: Any = None


Step = Callable[[str], None]


async def run_demo(settings: Settings, step: Step = lambda _: None) -> DemoResult:
    started_ray = not ray.is_initialized()
    if started_ray:
        step("Starting Ray on 127.0.0.1")
        init_ray(settings, dashboard=False)
    try:
        info = await start_runtime(settings, api=False, step=step)
        settings = info.settings
        pg = await open_database(settings, pool_max=2)
        try:
            step("Onboarding the example brand")
            brand, created = await _ensure_brand(pg.db)
            step("Taking a snapshot of the strategy")
            snapshot, context = await _snapshot(pg.db, brand, created)
            step("Remembering on-brand fragments (MiniLM, offline)")
            memory = get_memory_client(settings)
            fragments = await _remember(memory, pg.db, brand)
            step("Searching the brand's memory")
            hits = await memory.search(brand.id, DEMO_QUESTION, 3)
            step("Mining the example swipe file into pattern templates")
            mined = await _mine_swipe_file(pg.db, brand, settings)
            step("Ingesting the example feed (scout pool) and running one agent cycle")
            ingested = await _ingest_demo_feed(pg.db, settings)
            gateway = RayAgentGateway(settings)
            cycle = await gateway.send(brand.id, RunCycle())
            agent = await gateway.send(brand.id, GetStatus())
            board = await _board(pg.db, brand)
            async with pg.db.connection() as conn:
                events = await repo.event_log.list(
                    conn, "brand_id = $1", brand.id, order_by="created_at DESC, id", limit=8
                )
                latest = await repo.snapshots.latest(conn, brand.id)
            step("Checking a draft through the quality gates (writer pool)")
            report = await _check_draft(settings, latest)
            step("Writing a package for the top card (brand agent, writer engine)")
            package = await _write_package(pg.db, gateway, brand, cycle.run)
            step("Publishing to the outbox and a local fake Mastodon (publish loop)")
            publishing = await _publish(pg.db, settings, brand, gateway, package)
        finally:
            await pg.close()
        step("Stopping the runtime")
    finally:
        await stop_runtime(settings, api=False)
        if started_ray:
            ray.shutdown()
    return DemoResult(brand, created, snapshot, context, fragments, DEMO_QUESTION, hits, cycle.run, agent, events,
                      mined.posts, mined.templates[:5], DEMO_DRAFT, report, ingested, board, package,
                      publishing=publishing)  # fmt: skip


async def _write_package(db, gateway: RayAgentGateway, brand: Brand, run: AgentRun) -> Any:
    """The package the cycle's creating phase wrote for the top new card, or (every card
    already has one, as on a second run) a new package for the board's top card; None when the
    board is empty, the reason when the brand cannot write it."""
    from storage.errors import KairoError

    from .agent_writing import package_view
    from .commands import ChannelAsk, WritePackage

    async with db.connection() as conn:
        written = await conn.fetchval("SELECT id FROM content_packages WHERE brand_id = $1 AND created_at >= $2"
                                      " ORDER BY created_at DESC LIMIT 1", brand.id, run.started_at)  # fmt: skip
        if written is not None:
            return await package_view(conn, brand.id, written)
        card = await conn.fetchval("SELECT id FROM opportunity_cards WHERE brand_id = $1 AND lifecycle_state IN"
                                   " ('new', 'in_progress') ORDER BY pinned DESC, score DESC, id LIMIT 1", brand.id)  # fmt: skip
        seed = await conn.fetchval("SELECT count(*) FROM content_packages WHERE brand_id = $1", brand.id)
    if card is None:
        return None
    channels = [ChannelAsk(channel=c) for c in brand.primary_channels[:3]]
    try:
        return await gateway.send(brand.id, WritePackage(card_id=card, channels=channels, seed=seed))
    except KairoError as exc:  # the brand cannot write yet (too few facts, no template): say why
        return exc.message


async def _publish(db, settings: Settings, brand: Brand, gateway: RayAgentGateway, package: Any) -> Any:
    """Publishing the package it wrote: the variants that passed the gates are approved (as a
    person would, through the brand agent), scheduled and published, X, Mastodon and Bluesky to
    fakes started in this process and the other channels to the outbox, by a publish loop here;
    the calendar afterwards (``runtime.fakes.world.publish_demo``). Without a package (the brand
    could not write one), approved demo variants go to the outbox and a fake Mastodon."""
    from pathlib import Path

    from storage.errors import KairoError

    from .commands import ReviewVariant
    from .fakes.world import publish_demo
    from .publisher import token_cipher

    approved = []
    for view in getattr(package, "variants", []):
        if not view.current or view.quality is None or not view.quality.overall_pass:
            continue
        try:
            await gateway.send(brand.id, ReviewVariant(package_id=package.package.id, variant_id=view.variant.id,
                                                       expected_version=view.version, action="approve"))  # fmt: skip
        except KairoError:
            continue  # changed meanwhile: left for a person
        approved.append(view.variant)
    return await publish_demo(db, token_cipher(settings), brand.id, Path(settings.data_dir) / "outbox",
                              variants=approved or None)


async def _mine_swipe_file(db, brand: Brand, settings: Settings) -> Any:
    """The brand's own best posts (a swipe file the repo ships), imported and mined: importing
    and mining again change nothing, so the demo can run twice."""
    from agents.miner.service import import_file, mine_scope

    from .engines import pattern_miner

    miner = pattern_miner(settings)
    content = (resources.files("storage.examples") / "swipe_file.jsonl").read_text()
    await import_file(db, miner, content, "jsonl", brand_id=brand.id)
    return await mine_scope(db, miner, brand.id)


async def _check_draft(settings: Settings, snapshot: BrandBrainSnapshot) -> Any:
    from agents.gates import BrandRules, GateInput
    from storage.objects import Channel

    from .engines import EngineRouter

    candidate = GateInput(channel=Channel.LINKEDIN, text=DEMO_DRAFT, brand=BrandRules.from_snapshot(snapshot))
    return await EngineRouter(settings).call("writer", "check", candidate)


async def _ensure_brand(db) -> tuple[Brand, bool]:
    e = load_seed_examples()
    async with db.connection() as conn:
        existing = await repo.brands.find(conn, e.brand.id)
    if existing is not None:
        return existing, False
    async with db.transaction() as conn:
        if await repo.orgs.find(conn, e.org.id) is None:
            await repo.orgs.insert(conn, e.org)
            await repo.users.insert(conn, e.user)
    snapshot = e.snapshots[-1]
    onboarded = await onboard_brand(
        db,
        OnboardingRequest(
            brand_id=e.brand.id, org_id=e.org.id, owner_user_ids=e.brand.owner_user_ids, name=e.brand.name,
            slug=e.brand.slug, primary_channels=e.brand.primary_channels,
            personas=[PersonaDraft.model_validate(e.persona.model_dump(include=set(PersonaDraft.model_fields)))],
            pillars=[PillarDraft.model_validate(p.model_dump(include=set(PillarDraft.model_fields))) for p in e.pillars],
            positioning=snapshot.positioning, tone_descriptors=snapshot.tone_descriptors,
            offers=snapshot.offers, taboos=snapshot.taboos,
        ),  # fmt: skip
    )
    async with db.transaction() as conn:  # the example pattern the example memory fragment cites
        await repo.pattern_source_posts.insert(conn, e.pattern_source_post)
        await repo.pattern_templates.insert_many(conn, e.pattern_templates)
    return onboarded.brand, True


async def _snapshot(db, brand: Brand, created: bool) -> tuple[BrandBrainSnapshot, BrandRuntimeContext]:
    """On a first run the onboarding snapshot is v1; later runs record snapshot n+1 and point
    the runtime context at it (both writes carry the version they were based on)."""
    async with db.transaction() as conn:
        latest = await repo.snapshots.latest(conn, brand.id)
        context = await repo.runtime_contexts.for_brand(conn, brand.id)
        if created:
            return latest, context
        draft = latest.model_copy(update={"id": new_id(), "created_at": utcnow()})
        snapshot = await repo.snapshots.create_next(conn, draft, expected_version=latest.version)
        context = await repo.runtime_contexts.save(
            conn, context.model_copy(update={"brand_brain_snapshot_id": snapshot.id}), expected_version=context.version
        )
    return snapshot, context


async def _remember(memory: MemoryClient, db, brand: Brand) -> int:
    e = load_seed_examples()
    async with db.connection() as conn:
        known = {f.id for f in await repo.memory_fragments.list(conn, "brand_id = $1", brand.id)}
    drafts = [MemoryDraft.model_validate(e.memory_fragment)]
    drafts += [
        MemoryDraft(id=example_uuid(f"demo_fragment_{i}"), brand_id=brand.id, source_type="manual", raw_text=text)
        for i, text in enumerate(EXTRA_MEMORIES)
    ]
    await memory.add([d for d in drafts if d.id not in known])
    async with db.connection() as conn:
        return await conn.fetchval("SELECT count(*) FROM memory_fragments WHERE brand_id = $1", brand.id)


async def _ingest_demo_feed(db, settings: Settings) -> Any:
    """The feed the repo ships (``storage/examples/demo_feed.rss``), parsed and ingested as public
    documents in the scout pool; ingesting it again merges every item (same URLs)."""
    from agents.ingest.feeds import parse_feed
    from agents.scout.service import ingest

    from .engines import EngineRouter
    from .gateway import pooled

    body = (resources.files("storage.examples") / "demo_feed.rss").read_bytes()
    parsed = parse_feed(body, DEMO_FEED_URL)
    return await ingest(db, pooled(EngineRouter(settings), "scout"), parsed.items, org_id=None)


async def _board(db, brand: Brand, limit: int = 5) -> list[BoardLine]:
    """The top cards of the brand's board today (the day's batch, pinned first, then best)."""
    from agents.scout import lifecycle
    from agents.scout.batches import date_scope
    from storage.postgres import sources as store

    now = utcnow()
    async with db.connection() as conn:
        batch = await store.batch_for(conn, brand.id, date_scope(now))
        ids = batch.opportunity_ids if batch else []
        cards = await repo.opportunity_cards.list(conn, "brand_id = $1 AND id = ANY($2::uuid[])", brand.id, ids)
        pillars = {p.id: p.name for p in await repo.pillars.list(conn, "brand_id = $1", brand.id)}
    return [BoardLine(c.score, pillars.get(c.pillar_id, "?"), str(c.opportunity_type), c.angle_summary)
            for c in lifecycle.board(cards, now)[:limit]]  # fmt: skip
