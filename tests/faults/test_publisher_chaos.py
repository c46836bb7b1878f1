"""Chaos: 1,000+ jobs across the fakes and the outbox, with faults injected everywhere, two
publishers racing all along, one of them killed mid-batch, PostgreSQL stopped and restarted.
Among them, threads on X, Mastodon and Bluesky: posted part by part as reply chains, so the
faults (a timeout after a part's write, a dropped connection, a 5xx, the killed publisher, the
database going away) land between parts too.

The end state is compared between the platforms' records and the database: no post (no thread
part) twice on any platform, every post on a platform belongs to a job the database calls
``success`` with that post's id (a thread: each part, in order, each replying to the one
before), a failed thread has on the platform exactly the parts its attempts confirmed, and
every job ended ``success`` or ``failed`` with a reason (none lost, none left pending or
running).
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
from agents.publisher.threads import thread_parts
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
THREADS = {"x": 30, "mastodon": 25, "bluesky": 25}  # more jobs, each a reply chain of several parts
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
            bodies = [f"chaos {channel} post #{i}: ship it (v{i}) https://k.example/{i}" for i in range(count)]
            bodies += [_thread_text(channel, i) for i in range(THREADS.get(channel, 0))]
            variants = await add_variants(conn, world, channel, bodies)
            await repo.publishing_jobs.insert_many(conn, [
                PublishingJob(brand_id=world.brand_id, content_variant_id=v.id, channel=Channel(channel),
                              scheduled_at=utcnow() - timedelta(seconds=1)) for v in variants])  # fmt: skip
        # The channels' plans were written as threads: a variant too long for one post goes out
        # as a reply chain (a short one stays one post).
        await conn.execute(
            "INSERT INTO generation_sessions (brand_id, content_package_id, round, status, generator, seed, plan_settings)"
            " VALUES ($1, $2, 'write', 'written', 'composer', 0, $3)", world.brand_id, world.package_id,
            {str(world.plans[c]): {"thread": True, "budget": 280, "length_mode": "standard", "risk_mode": "safe"}
             for c in THREADS})  # fmt: skip
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
                "SELECT j.id, j.channel, j.status, j.last_error, v.body, a.external_post_id, a.confirmed, a.parts FROM publishing_jobs j"
                " JOIN content_variants v ON v.id = j.content_variant_id"
                " LEFT JOIN LATERAL (SELECT count(*) AS confirmed, (array_agg(external_post_id ORDER BY attempt_index))[1]"
                "   AS external_post_id, array_agg(external_post_id ORDER BY attempt_index) AS parts FROM publish_attempts"
                "   WHERE publishing_job_id = j.id AND status = 'success') a ON true")
            interrupted = {r["id"] for r in await conn.fetch(  # a part's create met a fault after an earlier part was out
                "SELECT DISTINCT f.publishing_job_id AS id FROM publish_attempts f JOIN publish_attempts ok"
                " ON ok.publishing_job_id = f.publishing_job_id AND ok.status = 'success' AND ok.attempt_index < f.attempt_index"
                " WHERE f.status <> 'success' OR f.error_code IS NOT NULL")}
            attempt_stats = await conn.fetch("SELECT status, error_code, count(*) AS n FROM publish_attempts GROUP BY 1, 2")
            refreshes = await conn.fetchval("SELECT sum(refreshes) FROM channel_credentials")
    finally:
        for fake in fakes.values():
            await fake.stop()
        await handle.close()
        server.stop()

    assert len(jobs) == sum(JOBS.values()) + sum(THREADS.values()) >= 1000
    by_status = Counter(r["status"] for r in jobs)
    assert set(by_status) <= {"success", "failed"}, by_status  # none lost, none left pending or running
    assert all(r["last_error"] for r in jobs if r["status"] == "failed")
    parts_of = {r["id"]: _parts(r["channel"], r["body"]) for r in jobs}
    threads = {r["id"] for r in jobs if len(parts_of[r["id"]]) > 1}
    assert len(threads) == sum(THREADS.values())  # every thread job really is a reply chain
    single = [r for r in jobs if r["id"] not in threads]
    assert all(r["confirmed"] <= 1 for r in single)  # at most one success attempt per single post

    outbox_lines = [json.loads(line) for line in outbox.read_text().splitlines()]
    posted = {channel: [p["text"] for p in fake.posts] for channel, fake in fakes.items()}
    posted["youtube_script"] = [line["text"] for line in outbox_lines]
    duplicates = {channel: [t for t, n in Counter(texts).items() if n > 1] for channel, texts in posted.items()}
    assert duplicates == {channel: [] for channel in posted}

    ids = {channel: {p["text"]: p["id"] for p in fake.posts} for channel, fake in fakes.items()}
    ids["youtube_script"] = {line["text"]: f"outbox:{line['key']}" for line in outbox_lines}
    replies = {channel: {p["id"]: p.get("in_reply_to") for p in fake.posts} for channel, fake in fakes.items()}
    mismatched, unrecorded, broken_chains = [], [], []
    for r in single:
        on_platform = ids[r["channel"]].get(_shown(r["channel"], r["body"]))
        if r["status"] == "success" and on_platform != r["external_post_id"]:
            mismatched.append((r["channel"], r["body"], on_platform, r["external_post_id"]))
        if r["status"] == "failed" and on_platform is not None:
            unrecorded.append((r["channel"], r["body"], r["last_error"]))
    thread_outcomes: Counter[str] = Counter()
    for r in (r for r in jobs if r["id"] in threads):
        on_platform = [ids[r["channel"]].get(part) for part in parts_of[r["id"]]]
        recorded = [i for i in (r["parts"] or []) if i is not None]
        posted = [i for i in on_platform if i is not None]
        if posted != recorded or on_platform[: len(posted)] != posted:  # parts out: exactly the confirmed ones, a prefix
            unrecorded.append((r["channel"], r["body"][:40], on_platform, recorded, r["last_error"]))
        if r["status"] == "success" and len(posted) != len(on_platform):
            mismatched.append((r["channel"], r["body"][:40], on_platform, recorded))
        if [replies[r["channel"]][i] for i in posted] != [None, *posted[:-1]][: len(posted)]:
            broken_chains.append((r["channel"], r["body"][:40], posted))
        thread_outcomes[f"{r['status']}:{len(posted)}/{len(on_platform)}" if r["status"] == "failed" else "success"] += 1
    assert mismatched == [] and unrecorded == []  # the platforms and the database agree
    assert broken_chains == []  # each part replies to the one before it, the first to nothing
    assert len(threads & interrupted) >= 3  # faults did land between parts, and were survived
    stats = {(r["status"], r["error_code"]): r["n"] for r in attempt_stats}
    print("\nchaos:", dict(by_status), "threads", dict(thread_outcomes), "interrupted", len(threads & interrupted),
          dict(events), "refreshes", refreshes, "faults",
          {c: f.faults.applied for c, f in fakes.items()}, "attempts", stats)
    # The faults really happened and were survived.
    assert sum(n for (status, _), n in stats.items() if status == "unconfirmed" or _ == "not_published") > 0
    assert events["publisher_killed"] == 1 and events["postgres_restarted"] == 1 and refreshes >= 3
    assert by_status["success"] >= 0.98 * len(jobs)


def _thread_text(channel: str, i: int) -> str:
    """A post too long for one part on any of the thread channels, every sentence its own (so
    no part of one thread reads like a part of another)."""
    sentences = [
        f"Thread {i} on {channel}, note one: our board stopped reading click dashboards last spring.",
        f"Note two of thread {i}: finance asked for pipeline by stage, and which lever moved it.",
        f"Note three ({channel} {i}): we rebuilt the report around three numbers the CFO already trusts.",
        f"Note four, thread {i}: qualified pipeline created, pipeline advanced a stage, revenue closed.",
        f"Note five of {i}: everything else went to an appendix that nobody has opened since.",
        f"Note six ({i}): the meeting got shorter and the budget conversation got a lot easier.",
        f"Note seven, {channel} thread {i}: agree stage definitions with sales first, or the numbers start a fight.",
        f"Last note of thread {i}: the first month looks worse, because honest pipeline is smaller.",
    ]
    return " ".join(sentences)


def _parts(channel: str, body: str) -> list[str]:
    return thread_parts(Channel(channel), channel, body) if channel in THREADS else [body]


def _shown(channel: str, body: str) -> str:
    return body  # every platform here shows the text as sent (LinkedIn after unescaping)
