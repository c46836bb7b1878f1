"""The main job on the embedded defaults, in one shot.

Until the agent runtime lands, the main job is a storage smoke run: onboard the seed's example
brand (Acme Analytics) with its personas, pillars and strategy, take a new snapshot of its
strategy, remember on-brand fragments (embedded with MiniLM, stored in Chroma) and search
them. Running it again reuses the brand and adds snapshot n+1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agents.brand_brain import OnboardingRequest, PersonaDraft, PillarDraft, onboard_brand
from storage.bootstrap import open_postgres
from storage.examples import example_uuid, load_seed_examples
from storage.memory import Embedder, VectorIndex
from storage.memory.store import MemoryDraft, MemoryHit, MemoryStore
from storage.objects import Brand, BrandBrainSnapshot, BrandRuntimeContext
from storage.objects.base import new_id, utcnow
from storage.postgres import repositories as repo

from .settings import Settings

DEMO_QUESTION = "Why does our board ignore the marketing dashboards?"

EXTRA_MEMORIES = [
    "Pipeline is the only chart your CFO reads twice.",
    "We stopped reporting clicks to the board and started reporting qualified pipeline by stage.",
    "Attribution is not about credit, it is about knowing which lever to pull next quarter.",
    "Our team ships one honest dashboard instead of twelve pretty ones.",
]


@dataclass
class DemoResult:
    brand: Brand
    created: bool
    snapshot: BrandBrainSnapshot
    runtime_context: BrandRuntimeContext
    fragments: int
    question: str
    hits: list[MemoryHit]


Step = Callable[[str], None]


async def run_demo(settings: Settings, step: Step = lambda _: None) -> DemoResult:
    step("Starting PostgreSQL and applying migrations")
    pg = await open_postgres(
        database_url=settings.database_url, data_dir=settings.data_dir, schema=settings.database_schema,
        pool_min=settings.db_pool_min, pool_max=settings.db_pool_max,
    )  # fmt: skip
    try:
        step("Loading the MiniLM embedding model (offline)")
        embedder = Embedder(num_threads=settings.embedding_threads)
        await embedder.aembed(["warm up"])
        index = await VectorIndex.open(
            path=None if settings.chroma_url else settings.chroma_dir, url=settings.chroma_url, embedder=embedder
        )
        try:
            memory = MemoryStore(pg.db, index, embedder)
            step("Onboarding the example brand")
            brand, created = await _ensure_brand(pg.db)
            step("Taking a snapshot of the strategy")
            snapshot, context = await _snapshot(pg.db, brand, created)
            step("Remembering on-brand fragments")
            fragments = await _remember(memory, brand)
            step("Searching the brand's memory")
            hits = await memory.search(brand.id, DEMO_QUESTION, k=3)
        finally:
            await index.close()
    finally:
        await pg.close()
    return DemoResult(brand, created, snapshot, context, fragments, DEMO_QUESTION, hits)


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


async def _remember(memory: MemoryStore, brand: Brand) -> int:
    e = load_seed_examples()
    known = {f.id for f in await memory.list(brand.id, limit=1000)}
    drafts = [MemoryDraft.model_validate(e.memory_fragment)]
    drafts += [
        MemoryDraft(id=example_uuid(f"demo_fragment_{i}"), brand_id=brand.id, source_type="manual", raw_text=text)
        for i, text in enumerate(EXTRA_MEMORIES)
    ]
    await memory.add([d for d in drafts if d.id not in known])
    return len(await memory.list(brand.id, limit=1000))
