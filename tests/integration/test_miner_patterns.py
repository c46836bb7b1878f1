"""The pattern miner against real PostgreSQL: imports in one transaction, one row per post,
templates merged on re-mining, usage outcomes moving a template's status."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from agents.engines.miner import ImportInput, PatternMiner, ReviewInput
from agents.miner.lifecycle import StatusThresholds
from agents.miner.service import import_file, mine_scope
from storage.errors import Conflict, Invalid, KairoError
from storage.objects import Channel, PatternStatus, PatternUsage
from storage.postgres import patterns as store
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration
DATA = Path(__file__).resolve().parents[1] / "data" / "miner"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def db(embedded_postgres_dsn, tmp_path, fresh_schema):
    async with fresh_schema(embedded_postgres_dsn, tmp_path, prefix="miner") as handle:
        yield handle.db


async def _parse(miner: PatternMiner, name: str, fmt: str = "jsonl", brand_id=None):
    return await miner.parse(ImportInput(format=fmt, content=(DATA / name).read_text(), brand_id=brand_id, now=NOW))


async def _mine(db, miner: PatternMiner):
    return (await mine_scope(db, miner)).result


async def test_the_same_file_imported_twice_is_one_row_per_post(db):
    miner = PatternMiner()
    parsed = await _parse(miner, "swipe_posts.jsonl")
    first = await store.import_posts(db, parsed.posts)
    assert (first.inserted, first.updated) == (len(parsed.posts), 0)
    again = await store.import_posts(db, (await _parse(miner, "swipe_posts.jsonl")).posts)
    assert (again.inserted, again.updated) == (0, len(parsed.posts))
    async with db.connection() as conn:
        assert await store.count_posts(conn, None) == len(parsed.posts)
        stored = {p.id: p for p in await store.posts_in_scope(conn, None)}
    assert {p.id: p for p in parsed.posts} == stored


async def test_a_file_is_imported_whole_or_not_at_all(db):
    miner = PatternMiner()
    posts = (await _parse(miner, "new_posts.jsonl")).posts
    ghost_brand = posts[-1].model_copy(update={"brand_id": uuid4(), "is_global": False})  # no such brand
    with pytest.raises(KairoError):
        await store.import_posts(db, [*posts[:-1], ghost_brand])
    async with db.connection() as conn:
        assert await store.count_posts(conn, None) == 0


async def test_the_same_text_under_another_id_is_refused(db):
    miner = PatternMiner()
    post = (await _parse(miner, "new_posts.jsonl")).posts[0]
    await store.import_posts(db, [post])
    with pytest.raises(Conflict):
        await store.import_posts(db, [post.model_copy(update={"id": uuid4()})])


async def test_mining_twice_from_the_database_keeps_the_templates(db):
    miner = PatternMiner()
    await store.import_posts(db, (await _parse(miner, "swipe_posts.jsonl")).posts)
    first = await _mine(db, miner)
    assert first.created >= 5
    async with db.connection() as conn:
        listed = await store.templates_in_scope(conn, None)
    assert len(listed) == first.created
    rates = [t.usage_stats.avg_engagement_rate for t in listed]
    assert rates == sorted(rates, reverse=True)  # ten posts each: evidence does not reorder them

    second = await _mine(db, miner)
    assert second.created == 0 and second.updated == 0
    async with db.connection() as conn:
        runs = await repo.event_log.list(conn, "subject_type = 'pattern_mining' AND event_type = 'run_finished'",
                                         order_by="created_at")
    assert [(e.meta["templates_created"], e.meta["templates_merged"], e.meta["posts_read"]) for e in runs] == [
        (first.created, 0, 50), (0, 0, 50)]
    await store.import_posts(db, (await _parse(miner, "new_posts.jsonl")).posts)
    third = await _mine(db, miner)
    assert third.created == 0 and third.updated >= 5
    async with db.connection() as conn:
        after = await store.templates_in_scope(conn, None)
        total = await store.count_posts(conn, None)
    assert len(after) == len(listed)
    assert sum(t.usage_stats.evidence_posts for t in after) == total


async def test_usages_with_outcomes_activate_a_template(db, examples):
    from tests.integration.conftest import insert_examples

    await insert_examples(db, examples)
    variant = examples.variant
    async with db.connection() as conn:
        template = await store.get_template(conn, examples.pattern_usage.pattern_template_id)
    async with db.transaction() as conn:
        usage = await store.record_usage(conn, PatternUsage(
            pattern_template_id=template.id, content_variant_id=variant.id, brand_id=variant.brand_id,
            channel=variant.channel))
        assert usage.outcome is None
        await store.attach_outcome(conn, usage.id, {"impressions": 5000, "engagements": 300})
        usages = await store.usages_of(conn, template.id)
    assert any(u.id == usage.id and u.outcome == {"impressions": 5000, "engagements": 300} for u in usages)
    miner = PatternMiner(status_thresholds=StatusThresholds(active_min_uses=1))
    decision = await miner.review(ReviewInput(
        template=template.model_copy(update={"status": PatternStatus.EXPERIMENTAL}), usages=usages,
        channel_medians={variant.channel: 0.03}))
    assert decision.changed and decision.template.status == PatternStatus.ACTIVE
    async with db.transaction() as conn:
        await store.save_templates(conn, [], [decision.template])
        stored = await store.get_template(conn, template.id)
    assert stored.status == PatternStatus.ACTIVE and stored.usage_stats.measured_uses >= 1


async def test_import_file_is_all_or_nothing_and_idempotent(db):
    miner = PatternMiner()
    good = (DATA / "new_posts.jsonl").read_text()
    first = await import_file(db, miner, good, "jsonl")
    assert (first.rows, first.inserted, first.updated) == (15, 15, 0)
    assert (await import_file(db, miner, good, "jsonl")).inserted == 0
    lines = good.splitlines()
    bad = json.loads(lines[3]) | {"engagements": 10**9}
    with pytest.raises(Invalid) as info:
        await import_file(db, miner, "\n".join([*lines, json.dumps(bad)]), "jsonl")
    assert (info.value.details["row"], info.value.details["field"]) == (16, "engagements")
    brand_file = "text,channel\nA brand post that is fine.,linkedin\n"
    with pytest.raises(KairoError):  # the brand does not exist: the transaction rolls back
        await import_file(db, miner, brand_file, "csv", brand_id=uuid4())
    async with db.connection() as conn:
        assert await store.count_posts(conn, None) == 15


async def test_mining_an_empty_scope_mines_nothing(db):
    report = await mine_scope(db, PatternMiner())
    assert report.posts == 0 and report.templates == [] and report.result.created == 0


async def test_templates_are_ranked_by_evidence_weighted_engagement(db):
    """A template of 3 posts with a slightly better rate ranks below one of many with a good rate."""
    miner = PatternMiner()
    await store.import_posts(db, (await _parse(miner, "swipe_posts.jsonl")).posts)
    await _mine(db, miner)
    async with db.connection() as conn:
        listed = await store.templates_in_scope(conn, None)
    best = listed[0]
    lucky = best.model_copy(update={
        "id": uuid4(), "structure": ["hook_story", "cta_plain"], "name": "Story hook → CTA",
        "example_source_post_ids": best.example_source_post_ids[:3],
        "usage_stats": best.usage_stats.model_copy(update={
            "evidence_posts": 3, "evidence_impressions": 300,
            "evidence_engagements": round(300 * best.usage_stats.avg_engagement_rate * 1.2),
            "avg_engagement_rate": best.usage_stats.avg_engagement_rate * 1.2})})
    async with db.transaction() as conn:
        await store.save_templates(conn, [lucky], [])
        ranked = await store.templates_in_scope(conn, None)
        linkedin_active = await store.templates_in_scope(conn, None, channel=Channel.LINKEDIN,
                                                         status=PatternStatus.ACTIVE)
    assert ranked[0].id == best.id and ranked.index(next(t for t in ranked if t.id == lucky.id)) > 0
    assert linkedin_active == []


async def test_recorded_outcomes_move_the_template_through_the_service(db, examples):
    from agents.miner.service import record_outcome, record_usage
    from tests.integration.conftest import insert_examples

    await insert_examples(db, examples)
    miner = PatternMiner(status_thresholds=StatusThresholds(active_min_uses=2, active_min_ratio=1.0))
    await store.import_posts(db, (await _parse(miner, "swipe_posts.jsonl")).posts)  # the channel medians
    variant = examples.variant
    async with db.transaction() as conn:
        template = await store.get_template(conn, examples.pattern_usage.pattern_template_id)
        await store.save_templates(conn, [], [template.model_copy(update={"status": PatternStatus.EXPERIMENTAL})])
        median = (await store.channel_medians(conn, variant.brand_id))[variant.channel]
    decisions = []
    for _ in range(2):
        usage = await record_usage(db, PatternUsage(pattern_template_id=template.id, content_variant_id=variant.id,
                                                    brand_id=variant.brand_id, channel=variant.channel))
        impressions = 10_000
        decisions.append(await record_outcome(db, miner, usage.id, {
            "impressions": impressions, "engagements": round(impressions * median * 1.5)}))
    # The seed's own usage is measured too: activation comes with the second measured use.
    assert [d.changed for d in decisions].count(True) == 1
    assert decisions[-1].template.status == PatternStatus.ACTIVE and decisions[-1].performance > 1.0
    async with db.connection() as conn:
        stored = await store.get_template(conn, template.id)
    assert stored.status == PatternStatus.ACTIVE and stored.usage_stats.measured_uses >= 2
