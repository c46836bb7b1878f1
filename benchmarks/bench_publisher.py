"""Benchmark: publish jobs per second through the publisher, to the outbox and to a fake
platform over HTTP (its own process), against a raw ``FOR UPDATE SKIP LOCKED`` claim loop on the same database in
the same run; duplicates counted on the outbox file and the fake.

    .venv/bin/python benchmarks/bench_publisher.py --jobs 2000 --batches 1 20 --repeats 5

Fair by construction: for each batch size both sides claim that many jobs per claim, with the
same number of workers (two, as two publisher actors), each worker stopping when a claim finds
nothing; a warm-up round of each runs first; each round gets freshly seeded jobs; the figures
are medians over the repetitions (and the median of the per-repetition ratios). For a batch
above one, each repetition also runs the raw loop at one job per claim (the reference the goal
was set against, as in the stack notes). The raw loop,
per claim: BEGIN, ``SELECT … FOR UPDATE SKIP LOCKED LIMIT batch``, one UPDATE marking them
done, COMMIT (no attempt rows, no platform): the ceiling of any claim-based worker. The
publisher, per job: claimed under a lease with its first attempt row committed by the claim,
the create, the success settled with the others that finished together in one statement
(attempt, job, variant, package, opportunity, pattern usage, event). Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
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


async def raw_claim_loop(db, workers: int, batch: int) -> int:
    async def worker() -> int:
        done = 0
        while True:
            async with db.transaction() as conn:
                ids = await conn.fetch(
                    "SELECT id FROM publishing_jobs WHERE status = 'pending' AND scheduled_at <= now() AND channel = 'linkedin'"
                    " ORDER BY scheduled_at FOR UPDATE SKIP LOCKED LIMIT $1", batch)
                if not ids:
                    return done
                await conn.execute("UPDATE publishing_jobs SET status = 'success', attempts = 1, updated_at = now()"
                                   " WHERE id = ANY($1::uuid[])", [r["id"] for r in ids])
                done += len(ids)

    return sum(await asyncio.gather(*(worker() for _ in range(workers))))


async def publish_all(db, cipher, session, workers: int, batch: int, tmp: Path) -> dict:
    """Publish everything due with ``workers`` loops; each stops when a claim finds nothing (as
    the raw workers do). The loops' counters, summed."""
    loops = [PublishLoop(db, cipher, session, PublisherConfig(
        owner=f"bench-{uuid.uuid4().hex[:6]}", batch=batch, http_timeout=10, outbox_dir=tmp, metrics_every_seconds=None,
        policy=RetryPolicy(refresh_margin_seconds=0))) for _ in range(workers)]  # fmt: skip

    async def worker(loop: PublishLoop) -> None:
        while await loop.run_once():
            pass

    await asyncio.gather(*(worker(loop) for loop in loops))
    counts: Counter[str] = Counter()
    for loop in loops:
        counts.update(loop.counts)
        counts["settle_statements"] += loop.successes.statements
    return dict(counts)


async def one_round(db, world, cipher, session, tmp: Path, *, jobs: int, workers: int, batch: int) -> dict:
    """One repetition: the raw loop, then the publisher to the outbox, then to the fake, each
    on jobs seeded for it; jobs per second of each."""
    out: dict = {}
    await seed(db, world, "linkedin", jobs, "raw")
    started = time.perf_counter()
    done = await raw_claim_loop(db, workers, batch)
    out["raw"] = done / (time.perf_counter() - started)
    if batch != 1:  # the reference loop, one job per claim, in the same repetition
        await seed(db, world, "linkedin", jobs, "ref")
        started = time.perf_counter()
        done = await raw_claim_loop(db, workers, 1)
        out["raw_one"] = done / (time.perf_counter() - started)
    for name, channel in (("outbox", "youtube_script"), ("fake", "mastodon")):
        await seed(db, world, channel, jobs, name)
        async with db.connection() as conn:
            before = await conn.fetchval("SELECT count(*) FROM publishing_jobs WHERE channel = $1 AND status = 'success'", channel)
        started = time.perf_counter()
        counts = await publish_all(db, cipher, session, workers, batch, tmp)
        elapsed = time.perf_counter() - started
        async with db.connection() as conn:
            after = await conn.fetchval("SELECT count(*) FROM publishing_jobs WHERE channel = $1 AND status = 'success'", channel)
            left = await conn.fetchval("SELECT count(*) FROM publishing_jobs WHERE status IN ('pending', 'running')")
        out[name] = (after - before) / elapsed
        out[f"{name}_unsettled"] = left
        out[f"{name}_per_statement"] = round(counts.get("published", 0) / max(1, counts.get("settle_statements", 0)), 1)
    return out


_FAKE_PROCESS = """
import asyncio
from runtime.fakes import FakeMastodon

async def main():
    fake = FakeMastodon(limit=10**9)
    print(await fake.start(), flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


class FakeProcess:
    """The fake Mastodon in a process of its own, as a real platform would be: its CPU is not
    the publisher's. Driven over its ``/_fake`` control routes."""

    async def start(self, session: aiohttp.ClientSession) -> str:
        self.session = session
        self.proc = await asyncio.create_subprocess_exec(sys.executable, "-c", _FAKE_PROCESS, stdout=asyncio.subprocess.PIPE)
        self.url = (await self.proc.stdout.readline()).decode().strip()
        if not self.url.startswith("http"):
            raise RuntimeError("the fake platform did not start")
        return self.url

    async def connect(self, account: str) -> dict:
        async with self.session.post(f"{self.url}/_fake/tokens", json={"account": account}) as response:
            return await response.json()

    async def posts(self) -> list[dict]:
        async with self.session.get(f"{self.url}/_fake/posts") as response:
            return (await response.json())["posts"]

    async def stop(self) -> None:
        if getattr(self, "proc", None) is not None and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()


async def main(jobs: int, workers: int, batches: list[int], repeats: int, database_url: str | None) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="kairo-bench-publisher-"))
    handle = await open_postgres(database_url=database_url, data_dir=tmp, schema=f"bench_{uuid.uuid4().hex[:8]}", pool_max=6)
    db = handle.db
    cipher = TokenCipher(parse_keys(f"k1:{new_key()}"), "k1")
    fake = FakeProcess()
    control = aiohttp.ClientSession()
    try:
        await fake.start(control)
        grant = await fake.connect("bench")
        async with db.transaction() as conn:
            world = await make_world(conn)
            await store.save_connection(conn, cipher, ChannelConfig(
                brand_id=world.brand_id, channel=Channel.MASTODON, status=ChannelStatus.CONNECTED,
                adapter=AdapterName.MASTODON, endpoint=fake.url, account_ref="bench"),
                store.Secrets(access_token=grant["access_token"]))  # fmt: skip
            outbox = tmp / "outbox.jsonl"
            await store.save_connection(conn, cipher, ChannelConfig(
                brand_id=world.brand_id, channel=Channel.YOUTUBE_SCRIPT, status=ChannelStatus.CONNECTED,
                adapter=AdapterName.OUTBOX, endpoint=str(outbox)), store.Secrets())  # fmt: skip
        results: dict = {"machine": machine(), "jobs": jobs, "workers": workers, "repeats": repeats,
                         "load_before": round(os.getloadavg()[0], 2)}
        async with aiohttp.ClientSession() as session:
            for batch in batches:
                await one_round(db, world, cipher, session, tmp, jobs=max(100, jobs // 10), workers=workers, batch=batch)  # warm-up
                rounds = [await one_round(db, world, cipher, session, tmp, jobs=jobs, workers=workers, batch=batch)
                          for _ in range(repeats)]  # fmt: skip
                kinds = ("raw", "outbox", "fake") + (("raw_one",) if batch != 1 else ())
                row = {f"{k}_jobs_per_s": [round(r[k], 1) for r in rounds] for k in kinds}
                for k in kinds:
                    row[f"{k}_median"] = round(statistics.median(r[k] for r in rounds), 1)
                for k in ("outbox", "fake"):
                    row[f"ratio_{k}"] = round(statistics.median(r[k] / r["raw"] for r in rounds), 3)
                    if batch != 1:
                        row[f"ratio_{k}_to_one_per_claim"] = round(statistics.median(r[k] / r["raw_one"] for r in rounds), 3)
                    row[f"ratio_{k}_min"] = round(min(r[k] / r["raw"] for r in rounds), 3)
                    row[f"{k}_successes_per_settle_statement"] = statistics.median(r[f"{k}_per_statement"] for r in rounds)
                    row[f"{k}_left_unsettled"] = max(r[f"{k}_unsettled"] for r in rounds)
                results[f"batch_{batch}"] = row
        results["load_after"] = round(os.getloadavg()[0], 2)
        lines = [json.loads(line)["key"] for line in outbox.read_text().splitlines()]
        results["duplicates_outbox"] = sum(n - 1 for n in Counter(lines).values())
        results["duplicates_fake"] = sum(n - 1 for n in Counter(p["text"] for p in await fake.posts()).values())
        return results
    finally:
        try:
            await fake.stop()
            await control.close()
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
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 20], help="claim sizes, the same on both sides")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: an embedded PostgreSQL in a temp dir")
    args = parser.parse_args()
    import structlog, logging  # noqa: E401 - quiet the per-job info lines while measuring

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        print(json.dumps(asyncio.run(stoppable(main(args.jobs, args.workers, args.batches, args.repeats, args.database_url))), indent=2))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("stopped; the embedded PostgreSQL was shut down", file=sys.stderr)
        sys.exit(130)
