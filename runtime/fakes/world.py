"""A brand ready to publish, for the demo, the benchmarks and the publisher's tests: the seed
000 examples (org, brand, personas, pillars, snapshots, patterns, opportunity, package) plus a
channel plan per channel, and helpers that add approved variants and connect channels."""

from __future__ import annotations

import json
from dataclasses import dataclass
from uuid import UUID, uuid4

import asyncpg

from storage.examples import load_seed_examples
from storage.objects import ChannelPlan, ContentVariant
from storage.objects.content import VariantOrigin
from storage.objects.enums import Channel, VariantStatus
from storage.postgres import repositories as repo


@dataclass(frozen=True)
class World:
    brand_id: UUID
    package_id: UUID
    opportunity_id: UUID | None
    plans: dict[str, UUID]
    template_id: UUID
    persona_id: UUID
    pillar_id: UUID


async def make_world(conn: asyncpg.Connection) -> World:
    """Insert the example brand with a plan for every channel (in the caller's transaction)."""
    e = load_seed_examples()
    await repo.orgs.insert(conn, e.org)
    await repo.users.insert(conn, e.user)
    await repo.brands.insert(conn, e.brand)
    await repo.memberships.insert(conn, e.membership)
    await repo.personas.insert(conn, e.persona)
    await repo.pillars.insert_many(conn, e.pillars)
    for snapshot in e.snapshots:
        await repo.snapshots.insert(conn, snapshot)
    await repo.pattern_source_posts.insert(conn, e.pattern_source_post)
    await repo.pattern_templates.insert_many(conn, e.pattern_templates)
    await repo.source_docs.insert(conn, e.source_doc)
    await repo.opportunity_cards.insert_many(conn, e.opportunity_cards)
    universal = next(t for t in e.pattern_templates if "*" in t.channel_constraints)
    template_plan = e.channel_plans[0]
    bindings = [b.model_copy(update={"pattern_template_id": universal.id}) for b in template_plan.pattern_bindings]
    plans = [ChannelPlan.model_validate({**template_plan.model_dump(), "id": uuid4(), "channel": channel,
                                         "pattern_bindings": [b.model_dump() for b in bindings]})
             for channel in Channel]  # fmt: skip
    package = e.package.model_copy(update={"channel_plan_ids": []})
    await repo.packages.create(conn, package, e.core_argument, plans)
    return World(brand_id=e.brand.id, package_id=e.package.id, opportunity_id=e.package.opportunity_id,
                 plans={p.channel.value: p.id for p in plans}, template_id=universal.id,
                 persona_id=e.core_argument.persona_id, pillar_id=e.core_argument.pillar_id)


def variant(world: World, channel: str, body: str, status: VariantStatus = VariantStatus.APPROVED) -> ContentVariant:
    return ContentVariant(content_package_id=world.package_id, channel_plan_id=world.plans[channel], brand_id=world.brand_id,
                          channel=Channel(channel), pattern_template_id=world.template_id, persona_id=world.persona_id,
                          pillar_id=world.pillar_id, body=body, status=status, origin=VariantOrigin(generated_by="demo"))


async def add_variants(conn: asyncpg.Connection, world: World, channel: str, bodies: list[str],
                       status: VariantStatus = VariantStatus.APPROVED) -> list[ContentVariant]:
    made = [variant(world, channel, body, status) for body in bodies]
    await repo.variants.insert_many(conn, made)
    return made


async def brand_variants(conn: asyncpg.Connection, brand_id: UUID, channel: str, bodies: list[str],
                         status: VariantStatus = VariantStatus.APPROVED) -> list[ContentVariant]:
    """Variants of a manual package of an existing brand (its first persona and pillar, its
    latest snapshot, a structure-only template of its own), until packages are made by the
    writer: what API tests and demos schedule."""
    from storage.objects import ContentPackage, CoreArgument
    from storage.objects.content import PatternBinding

    persona = (await repo.personas.list(conn, "brand_id = $1", brand_id, limit=1))[0]
    pillar = (await repo.pillars.list(conn, "brand_id = $1", brand_id, limit=1))[0]
    snapshot_id = await conn.fetchval(
        "SELECT id FROM brand_brain_snapshots WHERE brand_id = $1 ORDER BY version DESC LIMIT 1", brand_id)
    template = await _manual_template(conn, brand_id)
    package = ContentPackage(brand_id=brand_id, origin_type="manual", origin_note="scheduled by hand",
                             core_argument_id=uuid4(), status="approved", channel_scope="single", channel=channel)
    argument = CoreArgument(id=package.core_argument_id, content_package_id=package.id, persona_id=persona.id,
                            pillar_id=pillar.id, thesis="Numbers people trust beat numbers that look good.",
                            supporting_points=["Boards ask for pipeline.", "Clicks are not revenue.",
                                               "One clear lever beats ten charts."])  # fmt: skip
    plan = ChannelPlan(content_package_id=package.id, channel=Channel(channel), brand_brain_snapshot_id=snapshot_id,
                       pattern_bindings=[PatternBinding(pattern_template_id=template.id, beats={"hook": "the claim"},
                                                        target_variants=max(1, min(len(bodies), 5)))])  # fmt: skip
    await repo.packages.create(conn, package, argument, [plan])
    made = [ContentVariant(content_package_id=package.id, channel_plan_id=plan.id, brand_id=brand_id, channel=Channel(channel),
                           pattern_template_id=template.id, persona_id=persona.id, pillar_id=pillar.id, body=body,
                           status=status, origin=VariantOrigin(generated_by="manual")) for body in bodies]  # fmt: skip
    await repo.variants.insert_many(conn, made)
    return made


MANUAL_TEMPLATE = "Claim, proof, ask"


async def _manual_template(conn: asyncpg.Connection, brand_id: UUID):
    """The brand's structure-only template for hand-made packages, made once."""
    from storage.objects import PatternTemplate

    found = await repo.pattern_templates.list(conn, "brand_id = $1 AND name = $2", brand_id, MANUAL_TEMPLATE, limit=1)
    if found:
        return found[0]
    seed = load_seed_examples().pattern_source_post
    post = seed.model_copy(update={"id": uuid4(), "brand_id": brand_id, "raw_text": f"{seed.raw_text}\n({brand_id})"})
    await repo.pattern_source_posts.insert(conn, post)
    template = PatternTemplate(brand_id=brand_id, name=MANUAL_TEMPLATE, channel_constraints=["*"],
                               structure=["hook", "lesson", "cta"], example_source_post_ids=[post.id])
    await repo.pattern_templates.insert(conn, template)
    return template


# -- the demo's publishing step ----------------------------------------------------------------

DEMO_POSTS = {
    "linkedin": "Your board does not read dashboards. It reads pipeline by stage, twice. We cut twelve charts to one.",
    "mastodon": "We stopped reporting clicks to the board. Qualified pipeline by stage is the chart that survives.",
}


@dataclass
class DemoPublishing:
    """What the demo's publishing step did: the calendar afterwards, and where each post went."""

    rows: list
    """``agents.publisher.calendar.CalendarRow`` of the brand's next days."""
    outbox: str
    outbox_lines: list[dict]
    fakes: dict[str, str]
    """channel → the fake platform's URL it was published to."""
    fake_posts: list[dict]
    """{channel, where, text} of every post on the fakes (a thread: one per part)."""
    published: int
    scheduled: int
    refused: list[str]
    """Variants the scheduling rules refused, with the rule."""


DEMO_ACCOUNTS = {"x": "4242", "mastodon": "demo", "bluesky": "did:plc:kairodemo"}


async def publish_demo(db, sealer, brand_id: UUID, outbox_dir, *, variants: list[ContentVariant] | None = None,
                       rounds: int = 60) -> DemoPublishing:
    """Schedule approved variants (the demo package's, or demo variants made here) and publish
    them: X, Mastodon and Bluesky to fakes started in this process, every other channel to the
    outbox; run a publish loop until they are done; the calendar and what landed where."""
    import asyncio
    from datetime import timedelta
    from pathlib import Path

    import aiohttp

    from agents.publisher.calendar import brand_calendar, calendar_rows
    from agents.publisher.loop import PublisherConfig, PublishLoop
    from agents.publisher.scheduling import schedule
    from storage.errors import KairoError
    from storage.objects.base import utcnow
    from storage.objects.enums import ChannelStatus
    from storage.objects.publishing import AdapterName, ChannelConfig
    from storage.postgres import publishing as store

    from . import FAKES

    outbox = Path(outbox_dir) / f"{brand_id}.jsonl"
    async with db.transaction() as conn:
        made = variants or [v for channel, body in DEMO_POSTS.items()
                            for v in await brand_variants(conn, brand_id, channel, [f"{body} ({utcnow():%H:%M:%S})"])]  # fmt: skip
    fakes = {c: FAKES[c]() for c in sorted({v.channel.value for v in made}) if c in DEMO_ACCOUNTS}
    try:
        for channel, fake in fakes.items():
            await fake.start()
            grant = fake.connect(DEMO_ACCOUNTS[channel])
            async with db.transaction() as conn:
                await store.save_connection(conn, sealer, ChannelConfig(
                    brand_id=brand_id, channel=Channel(channel), status=ChannelStatus.CONNECTED,
                    adapter=AdapterName(channel), endpoint=fake.url, account_ref=DEMO_ACCOUNTS[channel],
                    token_expires_at=utcnow() + timedelta(hours=2)), store.Secrets(
                    access_token=grant["access_token"], refresh_token=grant.get("refresh_token"), client_id="kairo-demo"))  # fmt: skip
        async with db.transaction() as conn:
            for channel in sorted({v.channel.value for v in made} - set(fakes)):
                await store.save_connection(conn, sealer, ChannelConfig(
                    brand_id=brand_id, channel=Channel(channel), status=ChannelStatus.CONNECTED, adapter=AdapterName.OUTBOX),
                    store.Secrets())  # fmt: skip
        jobs, refused = [], []
        for v in made:
            try:
                jobs.append(await schedule(db, brand_id, v.id, utcnow() + timedelta(seconds=1)))
            except KairoError as exc:
                refused.append(f"{v.channel.value}: {exc.details.get('rule', exc.code)} ({exc.message})")
        async with aiohttp.ClientSession() as session:
            loop = PublishLoop(db, sealer, session, PublisherConfig(owner="kairo-demo", outbox_dir=Path(outbox_dir),
                                                                    metrics_every_seconds=None))  # fmt: skip
            for _ in range(rounds):
                async with db.connection() as conn:
                    open_jobs = await conn.fetchval(
                        "SELECT count(*) FROM publishing_jobs WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'running')",
                        [j.id for j in jobs])  # fmt: skip
                if not open_jobs:
                    break
                if not await loop.run_once():
                    await asyncio.sleep(0.25)
        async with db.connection() as conn:
            published = await conn.fetchval(
                "SELECT count(*) FROM publishing_jobs WHERE id = ANY($1::uuid[]) AND status = 'success'", [j.id for j in jobs])
            brand = await repo.brands.get(conn, brand_id)
        rows = calendar_rows(await brand_calendar(db, brand, days=2))
        lines = [json.loads(line) for line in outbox.read_text().splitlines() if line.strip()] if outbox.exists() else []
        posts = [{"channel": c, "where": f"{f.url} ({p.get('id')})", "text": p["text"]} for c, f in fakes.items() for p in f.posts]
        return DemoPublishing(rows=rows, outbox=str(outbox), outbox_lines=lines, fakes={c: f.url for c, f in fakes.items()},
                              fake_posts=posts, published=published, scheduled=len(jobs), refused=refused)  # fmt: skip
    finally:
        for fake in fakes.values():
            await fake.stop()
