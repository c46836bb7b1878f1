"""Scheduling against PostgreSQL: refusals name the rule and write nothing; cancel and
reschedule; the calendar with its filters and attempts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agents.publisher.scheduling import ScheduleRules, cancel, reschedule, schedule
from runtime.fakes.world import add_variants, make_world
from storage.errors import Conflict, Invalid
from storage.objects.base import utcnow
from storage.objects.enums import Channel, ChannelStatus, VariantStatus
from storage.objects.publishing import ChannelConfig, RateLimits
from storage.postgres import publishing as store

pytestmark = pytest.mark.integration


class Plain:
    def encrypt(self, plaintext, aad):
        return "v1.k." + plaintext.encode().hex()

    def decrypt(self, envelope, aad):
        return bytes.fromhex(envelope.split(".")[2]).decode()


@pytest.fixture
async def env(embedded_postgres_dsn, tmp_path, fresh_schema):
    async with fresh_schema(embedded_postgres_dsn, tmp_path, prefix="sched") as handle:
        async with handle.db.transaction() as conn:
            world = await make_world(conn)
            await store.save_connection(conn, Plain(), ChannelConfig(
                brand_id=world.brand_id, channel=Channel.X, status=ChannelStatus.CONNECTED,
                rate_limits=RateLimits(min_gap_seconds=600, posts_per_day=3)), store.Secrets())  # fmt: skip
            variants = await add_variants(conn, world, "x", [f"post {i}" for i in range(5)])
            draft = (await add_variants(conn, world, "x", ["draft"], VariantStatus.DRAFT))[0]
            long = (await add_variants(conn, world, "x", ["界" * 141]))[0]
            bsky = (await add_variants(conn, world, "bluesky", ["no connection"]))[0]
        yield handle.db, world, variants, draft, long, bsky


async def jobs_of(db, variant_id):
    async with db.connection() as conn:
        return [r["id"] for r in await conn.fetch("SELECT id FROM publishing_jobs WHERE content_variant_id = $1", variant_id)]


async def count_jobs(db) -> int:
    async with db.connection() as conn:
        return await conn.fetchval("SELECT count(*) FROM publishing_jobs")


async def test_refusals_name_the_rule_and_write_nothing(env):
    db, world, variants, draft, long, bsky = env
    # Tomorrow at 09:00 UTC: the daily cap counts a UTC day, so the three posts at +0 h, +1 h and
    # +2 h and the refused fourth at +3 h must fall on one day whatever the hour the test runs.
    at = (utcnow() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    cases = [
        (variants[0].id, utcnow() - timedelta(hours=1), Invalid, "scheduled_in_past"),
        (variants[0].id, utcnow() + timedelta(days=91), Invalid, "beyond_horizon"),
        (bsky.id, at, Conflict, "channel_not_connected"),
        (long.id, at, Invalid, "over_length"),
        (draft.id, at, Conflict, "variant_not_approved"),
    ]
    for variant_id, when, kind, rule in cases:
        with pytest.raises(kind) as refused:
            await schedule(db, world.brand_id, variant_id, when, rules=ScheduleRules())
        assert refused.value.details["rule"] == rule
    assert await count_jobs(db) == 0
    await schedule(db, world.brand_id, variants[0].id, at)
    with pytest.raises(Conflict) as twice:
        await schedule(db, world.brand_id, variants[0].id, at + timedelta(hours=2))
    assert twice.value.details["rule"] == "already_scheduled"
    with pytest.raises(Conflict) as gap:
        await schedule(db, world.brand_id, variants[1].id, at + timedelta(minutes=5))
    assert gap.value.details["rule"] == "min_gap"
    # The gap holds across midnight: 23:58 is four minutes from 00:02 the next UTC day.
    day = (at + timedelta(days=2)).replace(hour=0, minute=2, second=0, microsecond=0)
    await schedule(db, world.brand_id, variants[4].id, day)
    with pytest.raises(Conflict) as midnight:
        await schedule(db, world.brand_id, variants[3].id, day - timedelta(minutes=4))
    assert midnight.value.details["rule"] == "min_gap"
    await cancel(db, world.brand_id, (await jobs_of(db, variants[4].id))[0])
    await schedule(db, world.brand_id, variants[1].id, at + timedelta(hours=1))
    await schedule(db, world.brand_id, variants[2].id, at + timedelta(hours=2))
    with pytest.raises(Conflict) as cap:
        await schedule(db, world.brand_id, variants[3].id, at + timedelta(hours=3))
    assert cap.value.details["rule"] == "daily_cap"
    assert await count_jobs(db) == 4  # three open, the midnight one cancelled


async def test_cancel_returns_the_package_and_reschedule_rechecks(env):
    db, world, variants, *_ = env
    at = utcnow() + timedelta(days=2)
    first = await schedule(db, world.brand_id, variants[0].id, at)
    second = await schedule(db, world.brand_id, variants[1].id, at + timedelta(hours=1))
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT status FROM content_packages WHERE id = $1", world.package_id) == "scheduled"
    with pytest.raises(Invalid):
        await reschedule(db, world.brand_id, first.id, utcnow() - timedelta(minutes=1))
    with pytest.raises(Conflict):
        await reschedule(db, world.brand_id, first.id, at + timedelta(hours=1, minutes=2))  # min gap to the second
    moved = await reschedule(db, world.brand_id, first.id, at + timedelta(hours=3))
    assert moved.scheduled_at == at + timedelta(hours=3)
    await cancel(db, world.brand_id, first.id)
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT status FROM content_packages WHERE id = $1", world.package_id) == "scheduled"
    await cancel(db, world.brand_id, second.id)
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT status FROM content_packages WHERE id = $1", world.package_id) == "approved"
    with pytest.raises(Conflict):
        await cancel(db, world.brand_id, second.id)
    again = await schedule(db, world.brand_id, variants[0].id, at)  # a cancelled job frees the variant
    assert again.id != first.id


async def test_calendar_lists_jobs_in_range_with_filters_and_attempts(env):
    db, world, variants, *_ = env
    base = utcnow() + timedelta(days=3)
    jobs = [await schedule(db, world.brand_id, v.id, base + timedelta(hours=i)) for i, v in enumerate(variants[:3])]
    async with db.transaction() as conn:
        await conn.execute("UPDATE publishing_jobs SET status = 'running', lease_owner = 'cal', lease_expires_at = now() + interval '1 minute',"
                           " attempts = 1 WHERE id = $1", jobs[1].id)
    assert await store.begin_attempt(db, jobs[1].id, "cal", count=False, lease_seconds=30) is not None
    async with db.connection() as conn:
        everything = await store.calendar(conn, world.brand_id, base - timedelta(hours=1), base + timedelta(hours=5))
        first_two = await store.calendar(conn, world.brand_id, base, base + timedelta(hours=1, minutes=30))
        running = await store.calendar(conn, world.brand_id, base, base + timedelta(days=1), status="running")
        other_channel = await store.calendar(conn, world.brand_id, base, base + timedelta(days=1), channel="linkedin")
        by_pillar = await store.calendar(conn, world.brand_id, base, base + timedelta(days=1), pillar_id=world.pillar_id)
    assert [e.job.id for e in everything] == [j.id for j in jobs]
    assert [e.job.id for e in first_two] == [jobs[0].id, jobs[1].id]
    assert [e.job.id for e in running] == [jobs[1].id] and [a.status.value for a in running[0].attempts] == ["in_flight"]
    assert other_channel == [] and len(by_pillar) == 3
    assert everything[0].body == "post 0"


async def test_an_hourly_cap_holds_in_any_60_minutes_across_midnight(env):
    db, world, *_ = env
    async with db.transaction() as conn:
        await store.save_connection(conn, Plain(), ChannelConfig(
            brand_id=world.brand_id, channel=Channel.MASTODON, status=ChannelStatus.CONNECTED,
            rate_limits=RateLimits(posts_per_hour=2)), store.Secrets())  # fmt: skip
        posts = await add_variants(conn, world, "mastodon", [f"toot {i}" for i in range(4)])
    midnight = (utcnow() + timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
    await schedule(db, world.brand_id, posts[0].id, midnight - timedelta(minutes=20))
    await schedule(db, world.brand_id, posts[1].id, midnight - timedelta(minutes=5))
    with pytest.raises(Conflict) as capped:  # 23:40, 23:55 and 00:20 fit in one 60-minute window
        await schedule(db, world.brand_id, posts[2].id, midnight + timedelta(minutes=20))
    assert capped.value.details["rule"] == "hourly_cap"
    assert await jobs_of(db, posts[2].id) == []
    await schedule(db, world.brand_id, posts[3].id, midnight + timedelta(minutes=41))  # 23:40 is out of its window
