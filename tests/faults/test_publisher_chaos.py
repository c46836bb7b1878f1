"""Chaos: 1,000+ jobs across the fakes and the outbox, with faults injected everywhere, two
publishers racing all along, one of them killed mid-batch, PostgreSQL stopped and restarted.

The end state is compared between the platforms' records and the database: no post twice on any
platform, every post on a platform belongs to a job the database calls ``success`` with that
post's id, and every job ended ``success`` or ``failed`` with a reason (none lost, none left
pending or running).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import timedelta

import aiohttp
import pytest

from agents.publisher.loop import PublisherConfig, PublishLoop
from agents.publisher.policy import RetryPolicy
from agents.publisher.tokens import TokenCipher, new_key, parse_keys
from runtime.fakes import FakeBluesky, FakeLinkedIn, FakeMastodon, FakeX
from runtime.fakes.world import add_variants, make_world
from runtime.scheduler import sweep_expired_leases
from storage.bootstrap import open_postgres
from storage.objects.base import utcnow
from storage.objects.enums import Channel, ChannelStatus
from storage.objects.publishing import AdapterName, ChannelConfig, PublishingJob
from storage.postgres import EmbeddedPostgres
from storage.postgres import publishing as store
from storage.postgres import repositories as repo

pytestmark = pytest.mark.faults

JOBS = {"x": 300, "linkedin": 200, "mastodon": 200, "bluesky": 150, "youtube_script": 150}  # 1,000
ACCOUNTS = {"x": "42", "linkedin": "urn:li:person:chaos", "mastodon": "chaos", "bluesky": "did:plc:chaos"}
FAULTS = {"delay": 0.03, "drop": 0.04, "error_5xx": 0.04, "reset": 0.02}
TIMEOUT = 0.5
LEASE = 4.0
DEADLINE = 80.0
TOKEN_TTL = 4.0


async def _seed(db, fakes, cipher, outbox):
    async with db.transaction() as conn:
        world = await make_world(conn)
        for channel, count in JOBS.items():
            variants = await add_variants(conn, world, channel, [f"chaos {channel} post #{i}: ship it (v{i}) https://k.example/{i}"
                                                                for i in range(count)])
            await repo.publishing_jobs.insert_many(conn, [
                PublishingJob(brand_id=world.brand_id, content_variant_id=v.id, channel=Channel(channel),
                              scheduled_at=utcnow() - timedelta(seconds=1)) for v in variants])  # fmt: skip
        for channel, fake in fakes.items():
            grant = fake.connect(ACCOUNTS[channel])
            config = ChannelConfig(brand_id=world.brand_id, channel=Channel(channel), status=ChannelStatus.CONNECTED,
                                   adapter=AdapterName(channel), endpoint=fake.url, account_ref=ACCOUNTS[channel],
                                   token_expires_at=utcnow() + timedelta(seconds=TOKEN_TTL))
            await store.save_connection(conn, cipher, config, store.Secrets(
                access_token=grant["access_token"], refresh_token=grant["refresh_token"], client_id="kairo",
                client_secret="secret"))  # fmt: skip
        await store.save_connection(conn, cipher, ChannelConfig(
            brand_id=world.brand_id, channel=Channel.YOUTUBE_SCRIPT, status=ChannelStatus.CONNECTED,
            adapter=AdapterName.OUTBOX, endpoint=str(outbox)), store.Secrets())  # fmt: skip
    return world


async def test_chaos_publishes_every_job_exactly_once(data_root, tmp_path):
    server = EmbeddedPostgres(data_root / "chaos-postgres")
    dsn = server.start()
    handle = await open_postgres(database_url=dsn, data_dir=data_root, schema="chaos", pool_max=6)
    db = handle.db
    ttl = TOKEN_TTL  # access tokens expire mid-run; refresh tokens are single-use (X, Bluesky)
    fakes = {"x": FakeX(detect_duplicates=False, create_limit=60, window_seconds=2.0, access_ttl=ttl),  # resends would show
             "linkedin": FakeLinkedIn(posts_per_day=10_000, access_ttl=ttl), "mastodon": FakeMastodon(limit=10_000),
             "bluesky": FakeBluesky(points_per_hour=100_000, access_ttl=ttl)}  # fmt: skip
    for fake in fakes.values():
        await fake.start()
        fake.faults.delay_seconds = TIMEOUT * 2
    for seed, fake in enumerate(fakes.values()):
        fake.faults.randomly(FAULTS, seed=seed)
    cipher = TokenCipher(parse_keys(f"k1:{new_key()}"), "k1")
    outbox = tmp_path / "outbox.jsonl"
    await _seed(db, fakes, cipher, outbox)
    policy = RetryPolicy(base_seconds=0.2, cap_seconds=2.0, jitter=0.3, reconcile_delay_seconds=0.3, max_reconcile_checks=20,
                         refresh_margin_seconds=1.0)
    stop = asyncio.Event()
    events: Counter[str] = Counter()

    async with aiohttp.ClientSession() as session:
        def publisher(owner: str) -> PublishLoop:
            return PublishLoop(db, cipher, session, PublisherConfig(
                owner=owner, lease_seconds=LEASE, batch=25, poll_seconds=0.1, http_timeout=TIMEOUT,
                outbox_dir=tmp_path, policy=policy))  # fmt: skip

        loops = [publisher("pub-a"), publisher("pub-b")]
        tasks = [asyncio.create_task(loop.run(stop)) for loop in loops]

        async def chaos() -> None:
            started = time.monotonic()
            killed = capped = restarted = False
            while not stop.is_set():
                await asyncio.sleep(0.25)
                elapsed = time.monotonic() - started
                if not capped and elapsed > 3.0:  # a usage cap with a reset a moment away
                    fakes["x"].usage_capped_until = fakes["x"].clock() + 1.5
                    capped = True
                if not killed and elapsed > 1.5:  # a publisher killed mid-batch
                    tasks[0].cancel()
                    loops.append(publisher("pub-c"))
                    tasks.append(asyncio.create_task(loops[-1].run(stop)))
                    killed = True
                    events["publisher_killed"] += 1
                if not restarted and elapsed > 5.0:  # PostgreSQL stopped and started again
                    await asyncio.to_thread(server.stop)
                    await asyncio.sleep(0.5)
                    await asyncio.to_thread(server.start)
                    restarted = True
                    events["postgres_restarted"] += 1
                try:  # the scheduler's sweep, as it runs in production
                    events["leases_swept"] += await sweep_expired_leases(db)
                except Exception:
                    events["sweep_errors"] += 1

        async def settled() -> bool:
            try:
                async with db.connection() as conn:
                    return await conn.fetchval("SELECT count(*) FROM publishing_jobs WHERE status IN ('pending', 'running')") == 0
            except Exception:
                return False

        chaos_task = asyncio.create_task(chaos())
        began = time.monotonic()
        while time.monotonic() - began < DEADLINE and not await settled():
            await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*tasks, chaos_task, return_exceptions=True)

    try:
        async with db.connection() as conn:
            jobs = await conn.fetch(
                "SELECT j.id, j.channel, j.status, j.last_error, v.body, a.external_post_id FROM publishing_jobs j"
                " JOIN content_variants v ON v.id = j.content_variant_id"
                " LEFT JOIN publish_attempts a ON a.publishing_job_id = j.id AND a.status = 'success'")
            attempt_stats = await conn.fetch("SELECT status, error_code, count(*) AS n FROM publish_attempts GROUP BY 1, 2")
            refreshes = await conn.fetchval("SELECT sum(refreshes) FROM channel_credentials")
    finally:
        for fake in fakes.values():
            await fake.stop()
        await handle.close()
        server.stop()

    assert len(jobs) == sum(JOBS.values()) >= 1000
    by_status = Counter(r["status"] for r in jobs)
    assert set(by_status) <= {"success", "failed"}, by_status  # none lost, none left pending or running
    assert all(r["last_error"] for r in jobs if r["status"] == "failed")
    assert len({r["id"] for r in jobs}) == len(jobs)  # at most one success attempt per job

    outbox_lines = [json.loads(line) for line in outbox.read_text().splitlines()]
    posted = {channel: [p["text"] for p in fake.posts] for channel, fake in fakes.items()}
    posted["youtube_script"] = [line["text"] for line in outbox_lines]
    duplicates = {channel: [t for t, n in Counter(texts).items() if n > 1] for channel, texts in posted.items()}
    assert duplicates == {channel: [] for channel in posted}

    ids = {channel: {p["text"]: p["id"] for p in fake.posts} for channel, fake in fakes.items()}
    ids["youtube_script"] = {line["text"]: f"outbox:{line['key']}" for line in outbox_lines}
    mismatched, unrecorded = [], []
    for r in jobs:
        on_platform = ids[r["channel"]].get(_shown(r["channel"], r["body"]))
        if r["status"] == "success" and on_platform != r["external_post_id"]:
            mismatched.append((r["channel"], r["body"], on_platform, r["external_post_id"]))
        if r["status"] == "failed" and on_platform is not None:
            unrecorded.append((r["channel"], r["body"], r["last_error"]))
    assert mismatched == [] and unrecorded == []  # the platforms and the database agree
    stats = {(r["status"], r["error_code"]): r["n"] for r in attempt_stats}
    print("\nchaos:", dict(by_status), dict(events), "refreshes", refreshes, "faults",
          {c: f.faults.applied for c, f in fakes.items()}, "attempts", stats)
    # The faults really happened and were survived.
    assert sum(n for (status, _), n in stats.items() if status == "unconfirmed" or _ == "not_published") > 0
    assert events["publisher_killed"] == 1 and events["postgres_restarted"] == 1 and refreshes >= 3
    assert by_status["success"] >= 0.98 * len(jobs)


def _shown(channel: str, body: str) -> str:
    return body  # every platform here shows the text as sent (LinkedIn after unescaping)
