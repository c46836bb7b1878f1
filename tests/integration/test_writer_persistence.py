"""The writer's output in PostgreSQL, through the brand agent's commands (in process, no Ray):
a package lands whole (argument, plans, variants, every attempt, one quality report per gated
attempt, pattern usages, the card in progress) or not at all; a failing generator leaves a
failed session with its reason and nothing else; edits, approvals, rejections, regeneration and
the kill chain write with versions and refuse stale or killed targets."""

from __future__ import annotations

from uuid import uuid4

import pytest

from runtime.agent_writing import PackageView
from runtime.commands import (
    ChannelAsk,
    EditVariant,
    KillPackage,
    RegenerateVariants,
    ReviewVariant,
    WritePackage,
)
from runtime.local import LocalAgentGateway, LocalEngines
from storage.errors import Conflict, Invalid, NotFound, UpstreamFailure
from storage.memory import HashingEmbedder
from storage.objects import (
    Channel,
    OpportunityState,
    PackageStatus,
    VariantStatus,
)
from storage.postgres import repositories as repo
from storage.postgres import writing as store
from tests.integration.conftest import insert_article_card, insert_examples

pytestmark = pytest.mark.integration

CHANNELS = [ChannelAsk(channel=Channel.LINKEDIN), ChannelAsk(channel=Channel.X)]


@pytest.fixture
async def world(db, examples):
    """The seed brand with a card on a real article of its subject."""
    await insert_examples(db, examples)
    return examples, await insert_article_card(db, examples)


def gateway(db, generator=None) -> LocalAgentGateway:
    engines = LocalEngines(HashingEmbedder())
    if generator is not None:
        from agents.engines import ContentWriter

        engines._engines["writer"] = ContentWriter(engines.embedder, generator=generator)
    return LocalAgentGateway(db, engines)


async def count(db, table: str, where: str = "true", *args: object) -> int:
    async with db.connection() as conn:
        return await conn.fetchval(f"SELECT count(*) FROM {table} WHERE {where}", *args)


async def test_a_written_package_is_stored_whole(db, world) -> None:
    examples, card = world
    view: PackageView = await gateway(db).send(examples.brand.id, WritePackage(card_id=card.id, channels=CHANNELS))
    pid = view.package.id
    assert view.package.opportunity_id == card.id and {p.channel for p in view.plans} == {Channel.LINKEDIN, Channel.X}
    assert len(view.variants) == 4 and all(v.version == 1 and v.current for v in view.variants)
    assert view.package.status is PackageStatus.IN_REVIEW  # passing variants wait for a person
    ids = [v.variant.id for v in view.variants]
    # every attempt kept, a report per gated attempt, a pattern usage per variant
    attempts = await count(db, "generation_attempts", "content_variant_id = ANY($1::uuid[])", ids)
    assert attempts == sum(v.attempts for v in view.variants) >= 4
    assert await count(db, "quality_reports", "content_variant_id = ANY($1::uuid[])", ids) >= 4
    # each report explains itself later: every gate's result, the verdict and the snapshot it judged by
    assert await count(db, "quality_reports", "content_variant_id = ANY($1::uuid[]) AND (verdict IS NULL "
                       "OR jsonb_array_length(gate_results) = 0 OR brand_brain_snapshot_id IS NULL)", ids) == 0
    assert all(v.quality is not None for v in view.variants)
    assert await count(db, "pattern_usages", "content_variant_id = ANY($1::uuid[])", ids) == 4
    assert await count(db, "generation_sessions", "content_package_id = $1 AND status = 'written'", pid) == 1
    async with db.connection() as conn:
        stored = await repo.opportunity_cards.get(conn, card.id)
        events = await repo.event_log.list(conn, "brand_id = $1 AND event_type = 'package_generated'", examples.brand.id)
    assert stored.lifecycle_state is OpportunityState.IN_PROGRESS
    assert [e.subject_id for e in events] == [str(pid)]
    # the composer's variants pass at the first attempt here
    assert sum(v.variant.status is VariantStatus.DRAFT for v in view.variants) >= 3


TABLES = ("content_packages", "core_arguments", "channel_plans", "content_variants", "generation_sessions",
          "generation_attempts", "quality_reports", "pattern_usages", "event_log")


async def test_a_failure_while_storing_leaves_nothing(db, world, monkeypatch) -> None:
    examples, card = world
    before = {t: await count(db, t) for t in TABLES}

    async def boom(conn, rows):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store.repo.pattern_usages, "insert_many", boom)  # the last rows a write stores
    with pytest.raises(RuntimeError, match="disk full"):
        await gateway(db).send(examples.brand.id, WritePackage(card_id=card.id, channels=CHANNELS))
    assert {t: await count(db, t) for t in TABLES} == before
    async with db.connection() as conn:
        assert (await repo.opportunity_cards.get(conn, card.id)).lifecycle_state is OpportunityState.NEW


async def test_a_failing_generator_leaves_a_failed_session_and_no_package(db, world) -> None:
    from agents.writer import make_generator

    examples, card = world
    dead = make_generator("openai", base_url="http://127.0.0.1:9/v1", model="m", timeout_seconds=2, max_retries=0)
    with pytest.raises(UpstreamFailure) as caught:
        await gateway(db, dead).send(examples.brand.id, WritePackage(card_id=card.id, channels=CHANNELS))
    assert caught.value.details["reason"].startswith("generator openai")
    async with db.connection() as conn:
        failed = await store.failures(conn, examples.brand.id)
        card_now = await repo.opportunity_cards.get(conn, card.id)
    assert [f.status for f in failed] == ["failed"] and failed[0].opportunity_id == card.id
    assert str(failed[0].id) == caught.value.details["generation_session_id"]
    assert await count(db, "content_packages", "opportunity_id = $1", card.id) == 0
    assert card_now.lifecycle_state is OpportunityState.NEW


async def test_review_edits_approvals_and_the_kill_chain(db, world) -> None:
    examples, card = world
    agents = gateway(db)
    brand = examples.brand.id
    view = await agents.send(brand, WritePackage(card_id=card.id, channels=CHANNELS))
    pid = view.package.id
    x = next(v for v in view.variants if v.variant.channel is Channel.X and v.variant.status is VariantStatus.DRAFT)
    lk = [v for v in view.variants if v.variant.channel is Channel.LINKEDIN]

    # an edit that breaks X's limit is refused with the gate's reason, nothing changes
    with pytest.raises(Invalid) as refused:
        await agents.send(brand, EditVariant(package_id=pid, variant_id=x.variant.id, expected_version=1,
                                             text=x.variant.body + " " + "More detail here. " * 30))  # fmt: skip
    assert "over_length" in refused.value.details["reasons"]

    edited_text = x.variant.body.replace(".", "!", 1) if "." in x.variant.body else x.variant.body + "!"
    view = await agents.send(brand, EditVariant(package_id=pid, variant_id=x.variant.id, expected_version=1,
                                                text=edited_text))  # fmt: skip
    x_now = next(v for v in view.variants if v.variant.id == x.variant.id)
    assert x_now.variant.status is VariantStatus.EDITED and x_now.version == 2
    async with db.connection() as conn:
        events = await repo.feedback_events.list(conn, "content_variant_id = $1", x.variant.id)
    assert [e.feedback_type for e in events] == ["edit_applied"] and 0 < events[0].payload.edit_distance < 0.2
    async with db.connection() as conn:
        logged = await repo.event_log.list(conn, "brand_id = $1 AND subject_id = $2", brand, str(x.variant.id))
    diff = next(e.meta["diff"] for e in logged if e.meta.get("action") == "edited")
    assert f"-{x.variant.body.splitlines()[0]}" in diff and f"+{edited_text.splitlines()[0]}" in diff

    with pytest.raises(Conflict):  # stale version
        await agents.send(brand, ReviewVariant(package_id=pid, variant_id=x.variant.id, expected_version=1,
                                               action="approve"))  # fmt: skip
    view = await agents.send(brand, ReviewVariant(package_id=pid, variant_id=lk[0].variant.id,
                                                  expected_version=lk[0].version, action="approve"))  # fmt: skip
    assert next(v for v in view.variants if v.variant.id == lk[0].variant.id).variant.status is VariantStatus.APPROVED
    assert view.package.status is PackageStatus.APPROVED and view.version == 2  # the package moved on with it

    # regenerate one LinkedIn variant: a new one points at it, it is replaced (rejected)
    view = await agents.send(brand, RegenerateVariants(package_id=pid, variant_id=lk[1].variant.id,
                                                       expected_version=view.version, seed=7))  # fmt: skip
    fresh = [v for v in view.variants if v.variant.origin.source_variant_id == lk[1].variant.id]
    old = next(v for v in view.variants if v.variant.id == lk[1].variant.id)
    assert len(fresh) == 1 and fresh[0].current and not old.current and old.variant.status is VariantStatus.REJECTED
    assert fresh[0].attempts >= 1 and fresh[0].quality is not None

    with pytest.raises(NotFound):
        await agents.send(brand, ReviewVariant(package_id=pid, variant_id=card.id, expected_version=1, action="reject"))

    view = await agents.send(brand, KillPackage(package_id=pid, expected_version=view.version, reason="off-message"))
    assert view.package.status is PackageStatus.ARCHIVED
    by_id = {v.variant.id: v.variant for v in view.variants}
    assert by_id[x.variant.id].status is VariantStatus.EDITED and by_id[x.variant.id].origin.generated_by == "manual"
    assert all(v.status is VariantStatus.REJECTED for i, v in by_id.items() if i != x.variant.id)

    with pytest.raises(Conflict):  # nothing happens to a killed package
        await agents.send(brand, ReviewVariant(package_id=pid, variant_id=x.variant.id,
                                               expected_version=next(v.version for v in view.variants
                                                                     if v.variant.id == x.variant.id),
                                               action="approve"))  # fmt: skip
    with pytest.raises(Conflict):
        await agents.send(brand, KillPackage(package_id=pid, expected_version=view.version, reason="again"))


async def test_the_database_refuses_changes_to_a_killed_package(db, world, raw) -> None:
    examples, card = world
    view = await gateway(db).send(examples.brand.id, WritePackage(card_id=card.id, channels=CHANNELS[:1]))
    await gateway(db).send(examples.brand.id, KillPackage(package_id=view.package.id, expected_version=1, reason="no"))
    import asyncpg

    with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="killed"):
        await raw.execute("UPDATE content_variants SET status = 'approved' WHERE content_package_id = $1",
                          view.package.id)  # fmt: skip
    with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="stays killed"):
        await raw.execute("UPDATE content_packages SET status = 'draft' WHERE id = $1", view.package.id)
    with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="immutable"):
        await raw.execute("DELETE FROM generation_attempts WHERE brand_id = $1", examples.brand.id)


async def test_the_agents_cycle_writes_a_package_for_its_top_new_card(db, world) -> None:
    from runtime.commands import RunCycle

    examples, card = world
    async with db.transaction() as conn:  # pinned: the brand's top card, whatever the others score
        await conn.execute("UPDATE opportunity_cards SET pinned = true WHERE id = $1", card.id)
    result = await gateway(db).send(examples.brand.id, RunCycle())
    assert result.run.result == "success", result.run.summary
    assert "creating: package" in result.run.summary
    async with db.connection() as conn:
        packages = await repo.packages.list(conn, "opportunity_id = $1", card.id)
        states = await repo.event_log.list(conn, "brand_id = $1 AND event_type = 'agent_state_changed'", examples.brand.id,
                                           order_by="created_at, id")  # fmt: skip
    assert len(packages) == 1 and packages[0].status is PackageStatus.IN_REVIEW  # its variants wait for approval
    assert [e.meta["to"] for e in states][-3:] == ["planning", "creating", "idle"]


async def test_a_plan_draws_its_hook_from_the_library_when_one_fits(db, world, tmp_path, minilm) -> None:
    """The agent asks the miner pool for hooks near the card's angle and the writer's plan binds
    the nearest one that fits; a hook on another subject is offered but not chosen."""
    from datetime import UTC, datetime

    from agents.engines import PatternMiner
    from agents.miner.hooks import Hook, HookLibrary
    from storage.memory import VectorIndex
    from storage.objects import PatternSourcePost

    examples, card = world
    near = PatternSourcePost(brand_id=examples.brand.id, channel=Channel.LINKEDIN, impressions=4000, engagements=300,
                             raw_text=f"{card.angle_summary}\n\nHere is the one report we send the board now.",
                             created_at=datetime(2025, 5, 1, tzinfo=UTC))  # fmt: skip
    far = near.model_copy(update={"id": uuid4(), "raw_text": "We sold out of sourdough by 9am.\n\nHere is why."})
    async with db.transaction() as conn:
        await repo.pattern_source_posts.insert_many(conn, [near, far])
    engines = LocalEngines(HashingEmbedder())
    # The library embeds with the model, as the miner pool's does (Chroma keeps one embedding
    # function per collection name in the process, and other tests index this brand's hooks).
    index = await VectorIndex.open(path=tmp_path / "hooks", embedder=minilm)
    library = HookLibrary(index, minilm)
    await library.add([Hook(id=p.id, brand_id=p.brand_id, channel=p.channel, text=p.raw_text.split("\n\n")[0],
                            engagement_rate=p.engagements / p.impressions, impressions=p.impressions)
                       for p in (near, far)])  # fmt: skip

    async def open_library() -> HookLibrary:
        return library

    engines._engines["miner"] = PatternMiner(hook_library=open_library)
    try:
        view = await LocalAgentGateway(db, engines).send(
            examples.brand.id, WritePackage(card_id=card.id, channels=[ChannelAsk(channel=Channel.LINKEDIN)]))
    finally:
        await index.close()
    async with db.connection() as conn:
        settings = await conn.fetchval("SELECT plan_settings FROM generation_sessions WHERE content_package_id = $1",
                                       view.package.id)  # fmt: skip
    (plan,) = settings.values()
    assert plan["hook_id"] == str(near.id)


async def test_regenerating_a_channel_replaces_every_variant_of_its_plan_and_nothing_else(db, world) -> None:
    examples, card = world
    agents = gateway(db)
    brand = examples.brand.id
    view = await agents.send(brand, WritePackage(card_id=card.id, channels=CHANNELS))
    x_plan = next(p for p in view.plans if p.channel is Channel.X)
    x_ids = {v.variant.id for v in view.variants if v.variant.channel_plan_id == x_plan.id}
    others = {v.variant.id: v.variant for v in view.variants if v.variant.channel_plan_id != x_plan.id}
    with pytest.raises(NotFound):
        await agents.send(brand, RegenerateVariants(package_id=view.package.id, plan_id=uuid4(), expected_version=1))
    with pytest.raises(Invalid):  # exactly one of variant_id and plan_id
        await agents.send(brand, RegenerateVariants(package_id=view.package.id, expected_version=1))
    after = await agents.send(brand, RegenerateVariants(package_id=view.package.id, plan_id=x_plan.id,
                                                        expected_version=view.version, seed=11))  # fmt: skip
    fresh = [v for v in after.variants if v.variant.origin.source_variant_id in x_ids]
    assert {v.variant.origin.source_variant_id for v in fresh} == x_ids and all(v.current for v in fresh)
    by_id = {v.variant.id: v for v in after.variants}
    assert all(by_id[i].variant.status is VariantStatus.REJECTED and not by_id[i].current for i in x_ids)
    assert all(by_id[i].variant == v and by_id[i].current for i, v in others.items())  # LinkedIn untouched
    rounds = await count(db, "generation_sessions", "content_package_id = $1 AND round = 'regenerate'", view.package.id)
    assert rounds == 1
    with pytest.raises(Conflict):  # the package moved on: the version read before is stale
        await agents.send(brand, RegenerateVariants(package_id=view.package.id, plan_id=x_plan.id,
                                                    expected_version=view.version))  # fmt: skip
