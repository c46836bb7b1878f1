"""Performance ingestion against the fakes over real HTTP and a real PostgreSQL: published posts
on X, LinkedIn, Mastodon and Bluesky are read on their schedule into performance snapshots and
PatternUsage outcomes; a post the platform no longer has and a delivery without metrics end
their schedules; a failed read is tried again."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest

from agents.publisher.loop import PublisherConfig, PublishLoop
from agents.publisher.performance import PerformanceIngest, PullSchedule
from agents.publisher.policy import RetryPolicy
from agents.publisher.tokens import TokenCipher, new_key, parse_keys
from runtime.fakes import FakeBluesky, FakeLinkedIn, FakeMastodon, FakeX
from runtime.fakes.world import add_variants, make_world
from runtime.publisher import pattern_outcomes
from runtime.settings import Settings
from storage.objects import PublishingJob
from storage.objects.base import utcnow
from storage.objects.enums import Channel, ChannelStatus
from storage.objects.publishing import AdapterName, ChannelConfig
from storage.postgres import publishing as store
from storage.postgres import publishing_metrics as metrics_store
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration

ACCOUNTS = {"x": "42", "linkedin": "urn:li:person:abc", "mastodon": "alice", "bluesky": "did:plc:kairo"}
NOW_THEN_LATER = PullSchedule(offsets=(timedelta(0), timedelta(hours=24)), retry=timedelta(0), max_failures=2)


@pytest.fixture
async def published(embedded_postgres_dsn, tmp_path, fresh_schema):
    """One post published on each fake platform and one to the outbox."""
    async with fresh_schema(embedded_postgres_dsn, tmp_path, prefix="met", pool_max=4) as handle:
        db = handle.db
        async with db.transaction() as conn:
            world = await make_world(conn)
        fakes = {"x": FakeX(), "linkedin": FakeLinkedIn(), "mastodon": FakeMastodon(), "bluesky": FakeBluesky()}
        cipher = TokenCipher(parse_keys(f"k1:{new_key()}"), "k1")
        jobs = {}
        for channel, fake in fakes.items():
            await fake.start()
            grant = fake.connect(ACCOUNTS[channel])
            async with db.transaction() as conn:
                await store.save_connection(conn, cipher, ChannelConfig(
                    brand_id=world.brand_id, channel=Channel(channel), status=ChannelStatus.CONNECTED,
                    adapter=AdapterName(channel), endpoint=fake.url, account_ref=ACCOUNTS[channel],
                    token_expires_at=utcnow() + timedelta(hours=2)), store.Secrets(
                    access_token=grant["access_token"], refresh_token=grant.get("refresh_token"), client_id="kairo",
                    client_secret="secret"))  # fmt: skip
        async with db.transaction() as conn:
            await store.save_connection(conn, cipher, ChannelConfig(
                brand_id=world.brand_id, channel=Channel.YOUTUBE_SCRIPT, status=ChannelStatus.CONNECTED,
                adapter=AdapterName.OUTBOX), store.Secrets())  # fmt: skip
            for channel in [*fakes, "youtube_script"]:
                (variant,) = await add_variants(conn, world, channel, [f"Pipeline by stage, measured on {channel}."])
                job = PublishingJob(brand_id=world.brand_id, content_variant_id=variant.id, channel=Channel(channel),
                                    scheduled_at=utcnow() - timedelta(seconds=1))  # fmt: skip
                await repo.publishing_jobs.insert(conn, job)
                jobs[channel] = job
        async with aiohttp.ClientSession() as session:
            loop = PublishLoop(db, cipher, session, PublisherConfig(owner="met", outbox_dir=tmp_path / "outbox",
                                                                    policy=RetryPolicy(refresh_margin_seconds=0)))  # fmt: skip
            assert await loop.run_once() == 5
            yield db, cipher, session, fakes, jobs
        for fake in fakes.values():
            await fake.stop()


async def outcomes(db, jobs) -> dict[str, dict | None]:
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT channel, outcome FROM pattern_usages WHERE content_variant_id = ANY($1::uuid[])",
                                [j.content_variant_id for j in jobs.values()])  # fmt: skip
    return {r["channel"]: r["outcome"] for r in rows}


async def test_each_platforms_metrics_become_a_snapshot_and_the_usage_outcome(published):
    db, cipher, session, fakes, jobs = published
    fakes["x"].posts[0]["metrics"].update(impression_count=1200, like_count=31, retweet_count=4, reply_count=3)
    fakes["linkedin"].posts[0].update(likes=12, comments=5)
    fakes["mastodon"].posts[0]["status"].update(favourites_count=9, reblogs_count=2, replies_count=1)
    fakes["bluesky"].posts[0]["likes"] = 17
    # The runtime's sink: the miner's record_variant_outcome over the variant's usages.
    ingest = PerformanceIngest(db, cipher, session, outcome=pattern_outcomes(Settings(), db), schedule=NOW_THEN_LATER)
    assert await ingest.run_once() == 5
    measured = await outcomes(db, jobs)
    assert measured["x"] == {"impressions": 1200, "likes": 31, "reposts": 4, "replies": 3, "quotes": 0, "bookmarks": 0,
                             "engagements": 38}  # fmt: skip
    assert measured["linkedin"] == {"likes": 12, "replies": 5, "engagements": 17}
    assert measured["mastodon"] == {"likes": 9, "reposts": 2, "replies": 1, "engagements": 12}
    assert measured["bluesky"]["likes"] == 17 and measured["bluesky"]["engagements"] == 17
    assert measured["youtube_script"] is None  # the outbox has no metrics
    async with db.connection() as conn:
        snapshots = await conn.fetch("SELECT content_variant_id, payload FROM feedback_events WHERE feedback_type = 'performance_snapshot'")
        schedules = {c: await metrics_store.schedule_of(conn, j.id) for c, j in jobs.items()}
    assert len(snapshots) == 4
    assert {s["content_variant_id"] for s in snapshots} == {jobs[c].content_variant_id for c in fakes}
    for channel in fakes:  # the next pull is the 24 h one
        assert schedules[channel].pulls == 1
        assert schedules[channel].next_pull_at - schedules[channel].published_at == timedelta(hours=24)
    assert schedules["youtube_script"].next_pull_at is None and schedules["youtube_script"].pulls == 0
    assert await ingest.run_once() == 0  # nothing due until tomorrow


async def test_a_deleted_post_ends_its_schedule_and_a_failed_read_is_retried(published):
    db, cipher, session, fakes, jobs = published
    ingest = PerformanceIngest(db, cipher, session, schedule=NOW_THEN_LATER)
    fakes["mastodon"].posts.clear()  # deleted on the platform
    await fakes["x"].stop()  # X unreachable for now
    assert await ingest.run_once() == 5
    async with db.connection() as conn:
        gone = await metrics_store.schedule_of(conn, jobs["mastodon"].id)
        failed = await metrics_store.schedule_of(conn, jobs["x"].id)
        linkedin = await metrics_store.schedule_of(conn, jobs["linkedin"].id)
    assert gone.next_pull_at is None and gone.last_error == "not_found"
    assert failed.failures == 1 and failed.next_pull_at is not None and failed.pulls == 0
    assert linkedin.pulls == 1
    assert await ingest.run_once() == 1  # the X read again (retry 0 s), still down: given up after two
    async with db.connection() as conn:
        failed = await metrics_store.schedule_of(conn, jobs["x"].id)
    assert failed.failures == 2 and failed.next_pull_at is None


async def test_the_publish_loop_pulls_due_metrics_between_rounds(published):
    import asyncio

    db, cipher, session, fakes, jobs = published
    fakes["mastodon"].posts[0]["status"].update(favourites_count=4)
    loop = PublishLoop(db, cipher, session, PublisherConfig(owner="met-2", poll_seconds=0.05, metrics_every_seconds=0,
                                                            pull_schedule=NOW_THEN_LATER))  # fmt: skip
    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))
    for _ in range(200):
        if loop.counts.get("metrics_pulls", 0) >= 5:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await running
    assert loop.counts["metrics_pulls"] == 5
    async with db.connection() as conn:
        assert (await metrics_store.schedule_of(conn, jobs["mastodon"].id)).last_metrics["likes"] == 4
