"""A brand ready to publish, for the demo, the benchmarks and the publisher's tests: the seed
000 examples (org, brand, personas, pillars, snapshots, patterns, opportunity, package) plus a
channel plan per channel, and helpers that add approved variants and connect channels."""

from __future__ import annotations

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
