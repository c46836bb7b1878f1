"""Benchmark: publish jobs per second through the publisher, to the outbox and to a fake
platform over HTTP, against a raw ``FOR UPDATE SKIP LOCKED`` claim loop on the same database in
the same run; duplicates counted on the outbox file and the fake.

    .venv/bin/python benchmarks/bench_publisher.py --jobs 2000

The raw loop claims one job per transaction and marks it done (no attempt rows, no platform):
the ceiling of any claim-based publisher on this database. The publisher runs two loops in one
process (as two publisher actors would), each job: claim, attempt row committed before the
create, the create, the outcome in one transaction (attempt, job, variant, package, pattern
usage, event). Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import aiohttp
from common import machine

from agents.publisher.loop import PublisherConfig, PublishLoop
from agents.publisher.policy import RetryPolicy
from agents.publisher.tokens import TokenCipher, new_key, parse_keys
from runtime.fakes import FakeMastodon
from runtime.fakes.world import add_variants, make_world
from storage.bootstrap import open_postgres
from storage.objects.base import utcnow
from storage.objects.enums import Channel, ChannelStatus
from storage.objects.publishing import AdapterName, ChannelConfig, PublishingJob
from storage.postgres import publishing as store
from storage.postgres import repositories as repo


async def seed(db, world, channel: str, n: int, tag: str) -> None:
    async with db.transaction() as conn:
        variants = await add_variants(conn, world, channel, [f"{tag} post {i} {uuid.uuid4().hex[:6]}" for i in range(n)])
        await repo.publishing_jobs.insert_many(conn, [
            PublishingJob(brand_id=world.brand_id, content_variant_id=v.id, channel=Channel(channel),
                          scheduled_at=utcnow() - timedelta(seconds=1)) for v in variants])  # fmt: skip


async def raw_claim_loop(db, workers: int) -> int:
    async def worker() -> int:
        done = 0
        while True:
            async with db.transaction() as conn:
                job = await conn.fetchval(
                    "SELECT id FROM publishing_jobs WHERE status = 'pending' AND scheduled_at <= now() AND channel = 'linkedin'"
                    " ORDER BY scheduled_at FOR UPDATE SKIP LOCKED LIMIT 1")
                if job is None:
                    return done
                await conn.execute("UPDATE publishing_jobs SET status = 'success', attempts = 1, updated_at = now() WHERE id = $1", job)
                done += 1

    return sum(await asyncio.gather(*(worker() for _ in range(workers))))


async def publish_all(db, cipher, session, workers: int, tmp: Path) -> None:
    stop = asyncio.Event()
    loops = [PublishLoop(db, cipher, session, PublisherConfig(
        owner=f"bench-{i}", batch=20, poll_seconds=0.02, http_timeout=10, outbox_dir=tmp,
        policy=RetryPolicy(refresh_margin_seconds=0))) for i in range(workers)]  # fmt: skip
    tasks = [asyncio.create_task(loop.run(stop)) for loop in loops]
    while True:
        async with db.connection() as conn:
            left = await conn.fetchval("SELECT count(*) FROM publishing_jobs WHERE status IN ('pending', 'running')")
        if not left:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.gather(*tasks)


async def main(jobs: int, workers: int, database_url: str | None) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="kairo-bench-publisher-"))
    handle = await open_postgres(database_url=database_url, data_dir=tmp, schema=f"bench_{uuid.uuid4().hex[:8]}", pool_max=6)
    db = handle.db
    cipher = TokenCipher(parse_keys(f"k1:{new_key()}"), "k1")
    fake = FakeMastodon(limit=10**9)
    await fake.start()
    try:
        async with db.transaction() as conn:
            world = await make_world(conn)
            grant = fake.connect("bench")
            await store.save_connection(conn, cipher, ChannelConfig(
                brand_id=world.brand_id, channel=Channel.MASTODON, status=ChannelStatus.CONNECTED,
                adapter=AdapterName.MASTODON, endpoint=fake.url, account_ref="bench"),
                store.Secrets(access_token=grant["access_token"]))  # fmt: skip
            outbox = tmp / "outbox.jsonl"
            await store.save_connection(conn, cipher, ChannelConfig(
                brand_id=world.brand_id, channel=Channel.YOUTUBE_SCRIPT, status=ChannelStatus.CONNECTED,
                adapter=AdapterName.OUTBOX, endpoint=str(outbox)), store.Secrets())  # fmt: skip
        results: dict = {"machine": machine(), "jobs": jobs, "workers": workers}

        await seed(db, world, "linkedin", jobs, "raw")
        started = time.perf_counter()
        done = await raw_claim_loop(db, workers)
        results["raw_skip_locked_jobs_per_s"] = round(done / (time.perf_counter() - started), 1)

        async with aiohttp.ClientSession() as session:
            for name, channel in (("outbox", "youtube_script"), ("fake_mastodon", "mastodon")):
                await seed(db, world, channel, jobs, name)
                started = time.perf_counter()
                await publish_all(db, cipher, session, workers, tmp)
                elapsed = time.perf_counter() - started
                async with db.connection() as conn:
                    ok = await conn.fetchval("SELECT count(*) FROM publishing_jobs WHERE channel = $1 AND status = 'success'", channel)
                results[f"publisher_{name}_jobs_per_s"] = round(ok / elapsed, 1)
                results[f"publisher_{name}_succeeded"] = ok
        lines = [json.loads(line)["key"] for line in outbox.read_text().splitlines()]
        results["duplicates_outbox"] = sum(n - 1 for n in Counter(lines).values())
        results["duplicates_fake"] = sum(n - 1 for n in Counter(p["text"] for p in fake.posts).values())
        raw = results["raw_skip_locked_jobs_per_s"]
        results["ratio_outbox"] = round(results["publisher_outbox_jobs_per_s"] / raw, 2)
        results["ratio_fake"] = round(results["publisher_fake_mastodon_jobs_per_s"] / raw, 2)
        return results
    finally:
        try:
            await fake.stop()
            async with db.pool.acquire() as conn:
                await conn.execute(f"DROP SCHEMA {db.schema} CASCADE")
        finally:
            await handle.close()  # stops the embedded PostgreSQL, whatever happened above


async def stoppable(run):
    """Run ``run`` so that SIGTERM, like Ctrl-C, cancels it: its ``finally`` drops the schema and
    stops the embedded PostgreSQL instead of leaving a server behind."""
    task = asyncio.current_task()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await run


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="default: an embedded PostgreSQL in a temp dir")
    args = parser.parse_args()
    import structlog, logging  # noqa: E401 - quiet the per-job info lines while measuring

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        print(json.dumps(asyncio.run(stoppable(main(args.jobs, args.workers, args.database_url))), indent=2))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("stopped; the embedded PostgreSQL was shut down", file=sys.stderr)
        sys.exit(130)
