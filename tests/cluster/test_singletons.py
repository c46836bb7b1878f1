"""The singleton actors on a real local Ray and a real PostgreSQL: memory service, scheduler,
publisher. Only the agent gateway is a test double (brand agents are not part of this test)."""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import timedelta

import pytest
import ray
import ray.cloudpickle

from runtime import names
from runtime.memory_service import RayMemoryClient, get_memory_client, start_memory_service
from runtime.publisher import claim_due, start_publisher
from runtime.scheduler import Scheduler, due_brands, start_scheduler, sweep_expired_leases
from runtime.settings import Settings
from storage.bootstrap import open_postgres
from storage.examples import load_seed_examples
from storage.memory.store import MemoryDraft
from storage.objects import Brand, PublishingJob, PublishStatus
from storage.objects.base import utcnow
from storage.postgres import repositories as repo
from tests.integration.conftest import insert_examples

pytestmark = pytest.mark.cluster

NAMESPACE = "kairo-test"
SINGLETONS = (names.MEMORY, names.SCHEDULER, names.PUBLISHER)

# The fake gateway below is sent to the scheduler actor: pickle this module's classes by value,
# since worker processes cannot import a test module.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


def kill_named(name: str) -> None:
    try:
        ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)
    except ValueError:
        pass


@pytest.fixture(scope="module")
async def env(ray_cluster, embedded_postgres_dsn, data_root, fresh_schema):
    """A freshly migrated schema holding the seed examples plus a second brand, and Settings
    pointing at it. Singletons left by another module would hold another schema: killed first."""
    data_dir = data_root / f"singletons-{uuid.uuid4().hex[:12]}"
    async with fresh_schema(embedded_postgres_dsn, data_dir, pool_max=4) as handle:
        examples = load_seed_examples()
        await insert_examples(handle.db, examples)
        other = Brand(org_id=examples.org.id, name="Birch Bakery", slug="birch-bakery",
                      owner_user_ids=[examples.user.id], primary_channels=["mastodon"])
        async with handle.db.transaction() as conn:
            await repo.brands.insert(conn, other)
        settings = Settings(
            database_url=embedded_postgres_dsn, database_schema=handle.db.schema, data_dir=data_dir,
            ray_namespace=NAMESPACE, scheduler_tick_seconds=3600,
        )
        for name in SINGLETONS:
            kill_named(name)
        yield settings, handle.db, examples, other
        for name in SINGLETONS:
            kill_named(name)


# -- memory service ------------------------------------------------------------------------------


async def test_memory_service_keeps_brands_apart(env):
    settings, _db, examples, other = env
    acme = examples.brand
    start_memory_service(settings)
    client = get_memory_client(settings)
    assert isinstance(client, RayMemoryClient)
    acme_texts = [
        "Attribution dashboards should tell a revenue story, not show pretty charts.",
        "Our board only listens when marketing reports pipeline, not clicks.",
    ]
    birch_texts = ["Our sourdough rests for 36 hours before it meets the oven."]
    added = await client.add(
        [MemoryDraft(brand_id=acme.id, source_type="manual", raw_text=t) for t in acme_texts]
        + [MemoryDraft(brand_id=other.id, source_type="manual", raw_text=t) for t in birch_texts]
    )
    assert len(added) == 3 and all(f.embedding_dim == 384 for f in added)

    hits = await client.search(acme.id, "bread that proofs for a long time", 5)
    assert {h.fragment.raw_text for h in hits} == set(acme_texts)  # never the bakery's fragment
    assert all(h.fragment.brand_id == acme.id for h in hits)
    birch_hits = await client.search(other.id, "revenue dashboards for the board", 5)
    assert [h.fragment.raw_text for h in birch_hits] == birch_texts
    best = await client.search(acme.id, "the board wants pipeline numbers", 1)
    assert best[0].fragment.raw_text == acme_texts[1]

    assert {f.raw_text for f in await client.list(other.id)} == set(birch_texts)
    report = await client.reconcile(acme.id)
    assert (report.orphan_vectors_removed, report.rows_reembedded) == (0, 0)
    info = await ray.get_actor(names.MEMORY, namespace=NAMESPACE).describe.remote()
    assert info["opened"] is True


# -- scheduler -------------------------------------------------------------------------------------


@ray.remote(num_cpus=0)
class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def record(self, brand_id: str, kind: str) -> None:
        self.calls.append((brand_id, kind))

    def get(self) -> list[tuple[str, str]]:
        return list(self.calls)


class RecordingGateway:
    """A test double of the AgentGateway: records every send; fails for chosen brands."""

    def __init__(self, recorder, failing: frozenset[str]) -> None:
        self.recorder = recorder
        self.failing = failing

    async def send(self, brand_id, command):
        await self.recorder.record.remote(str(brand_id), command.kind)
        if str(brand_id) in self.failing:
            raise RuntimeError("agent host unreachable")
        return None


class RecordingGatewayFactory:
    def __init__(self, recorder, failing: frozenset[str]) -> None:
        self.recorder = recorder
        self.failing = failing

    def __call__(self) -> RecordingGateway:
        return RecordingGateway(self.recorder, self.failing)


async def make_brand(db, examples, slug: str) -> Brand:
    brand = Brand(org_id=examples.org.id, name=slug.title(), slug=slug,
                  owner_user_ids=[examples.user.id], primary_channels=["x"])
    async with db.transaction() as conn:
        await repo.brands.insert(conn, brand)
    return brand


async def set_state(db, brand_id, *, paused: bool, wake_in: timedelta | None) -> None:
    async with db.transaction() as conn:
        await repo.agent_states.ensure(conn, brand_id)
        await conn.execute(
            "UPDATE agent_states SET paused = $2, next_wake_at = now() + $3::interval WHERE brand_id = $1",
            brand_id, paused, wake_in,
        )


def job(examples, **fields) -> PublishingJob:
    return PublishingJob(
        brand_id=examples.brand.id, content_variant_id=examples.variant.id,
        channel=examples.variant.channel, **fields,
    )


async def insert_jobs(db, jobs: list[PublishingJob]) -> None:
    async with db.transaction() as conn:
        await repo.publishing_jobs.insert_many(conn, jobs)


async def test_scheduler_wakes_only_due_unpaused_brands_and_resets_expired_leases(env):
    settings, db, examples, _other = env
    due = await make_brand(db, examples, "due-brand")
    due_failing = await make_brand(db, examples, "due-failing")
    paused = await make_brand(db, examples, "paused-brand")
    future = await make_brand(db, examples, "future-brand")
    never = await make_brand(db, examples, "never-scheduled")
    await set_state(db, due.id, paused=False, wake_in=timedelta(minutes=-5))
    await set_state(db, due_failing.id, paused=False, wake_in=timedelta(minutes=-1))
    await set_state(db, paused.id, paused=True, wake_in=timedelta(minutes=-10))
    await set_state(db, future.id, paused=False, wake_in=timedelta(hours=1))
    await set_state(db, never.id, paused=False, wake_in=None)
    assert await due_brands(db) == [due.id, due_failing.id]  # earliest first

    now = utcnow()
    expired = job(examples, status=PublishStatus.RUNNING, attempts=1, lease_owner="dead-publisher",
                  lease_expires_at=now - timedelta(seconds=30), scheduled_at=now + timedelta(days=30))
    live = job(examples, status=PublishStatus.RUNNING, attempts=1, lease_owner="live-publisher",
               lease_expires_at=now + timedelta(minutes=10), scheduled_at=now + timedelta(days=30))
    await insert_jobs(db, [expired, live])

    recorder = Recorder.remote()
    factory = RecordingGatewayFactory(recorder, frozenset({str(due_failing.id)}))
    scheduler = start_scheduler(settings, factory, run_loop=False)
    try:
        result = await scheduler.tick.remote()
        assert {k: result[k] for k in ("due", "woken", "failed", "leases_reset")} == {
            "due": 2, "woken": 1, "failed": 1, "leases_reset": 1,
        }
        assert sorted(await recorder.get.remote()) == sorted([(str(due.id), "wake"), (str(due_failing.id), "wake")])

        async with db.connection() as conn:
            reset = await repo.publishing_jobs.get(conn, expired.id)
            still = await repo.publishing_jobs.get(conn, live.id)
        assert (reset.status, reset.lease_owner, reset.lease_expires_at) == (PublishStatus.PENDING, None, None)
        assert reset.updated_at > expired.updated_at
        assert (still.status, still.lease_owner) == (PublishStatus.RUNNING, "live-publisher")
        assert await sweep_expired_leases(db) == 0

        # The loop: start is idempotent, a tick runs at once, stop ends it.
        assert await scheduler.start.remote() is True
        assert await scheduler.start.remote() is False
        for _ in range(100):
            status = await scheduler.status.remote()
            if status["ticks"] >= 2:
                break
            await asyncio.sleep(0.05)
        assert status["running"] is True and status["ticks"] >= 2
        assert status["totals"]["woken"] >= 2 and status["totals"]["failed"] >= 2
        assert await scheduler.stop.remote() is True
        assert (await scheduler.status.remote())["running"] is False

        # autostart: the loop runs from the constructor, so also after an actor restart.
        auto = Scheduler.remote(settings, factory, autostart=True)
        try:
            assert (await auto.status.remote())["running"] is True
        finally:
            ray.kill(auto)
    finally:
        ray.kill(recorder)
        for brand in (due, due_failing, paused, future, never):
            async with db.transaction() as conn:
                await conn.execute("DELETE FROM agent_states WHERE brand_id = $1", brand.id)


# -- publisher -------------------------------------------------------------------------------------


async def pending_due_ids(db) -> set:
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT id FROM publishing_jobs WHERE status = 'pending' AND scheduled_at <= now()")
    return {r["id"] for r in rows}


async def test_publisher_claims_each_due_job_once_with_a_lease(env):
    settings, db, examples, _other = env
    now = utcnow()
    due_jobs = [job(examples, scheduled_at=now - timedelta(minutes=m)) for m in (1, 2, 3)]
    future = job(examples, scheduled_at=now + timedelta(hours=1))
    backing_off = job(examples, scheduled_at=now - timedelta(minutes=5), attempts=1,
                      next_attempt_at=now + timedelta(minutes=5))
    exhausted = job(examples, scheduled_at=now - timedelta(minutes=5), attempts=5, max_attempts=5)
    await insert_jobs(db, [*due_jobs, future, backing_off, exhausted])
    claimable = await pending_due_ids(db) - {backing_off.id, exhausted.id}
    assert {j.id for j in due_jobs} <= claimable

    publisher = start_publisher(settings)
    status = await publisher.status.remote()
    assert status["jobs_due"] == len(claimable) + 2 and status["publishing"] is False

    first, second = await asyncio.gather(
        publisher.claim_due.remote(50, "publisher-a", 30.0), publisher.claim_due.remote(50, "publisher-b", 30.0)
    )
    ids_a, ids_b = {j.id for j in first}, {j.id for j in second}
    assert ids_a.isdisjoint(ids_b)
    assert ids_a | ids_b == claimable
    for claimed, owner in [(first, "publisher-a"), (second, "publisher-b")]:
        for j in claimed:
            assert (j.status, j.lease_owner) == (PublishStatus.RUNNING, owner)
            assert j.lease_expires_at - utcnow() == pytest.approx(timedelta(seconds=30), abs=timedelta(seconds=5))
    assert {j.id: j.attempts for j in [*first, *second] if j.id in {d.id for d in due_jobs}} == {
        d.id: 1 for d in due_jobs
    }
    assert await publisher.claim_due.remote(50, "publisher-a", 30.0) == []
    async with db.connection() as conn:
        assert (await repo.publishing_jobs.get(conn, future.id)).status is PublishStatus.PENDING
        assert (await repo.publishing_jobs.get(conn, backing_off.id)).status is PublishStatus.PENDING
        assert (await repo.publishing_jobs.get(conn, exhausted.id)).status is PublishStatus.PENDING
    assert (await publisher.status.remote())["jobs_due"] == 2  # backing off, exhausted


async def test_concurrent_claimers_on_separate_pools_never_double_claim(env):
    """Two processes' worth of claimers (two pools), many small claims racing over 40 jobs."""
    settings, db, examples, _other = env
    now = utcnow()
    jobs = [job(examples, scheduled_at=now - timedelta(seconds=i)) for i in range(40)]
    await insert_jobs(db, jobs)
    async with db.connection() as conn:  # plus any due job an earlier test left claimable
        rows = await conn.fetch(
            "SELECT id FROM publishing_jobs WHERE status = 'pending' AND scheduled_at <= now() "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= now()) AND attempts < max_attempts"
        )
    claimable = {r["id"] for r in rows}
    assert {j.id for j in jobs} <= claimable
    other = await open_postgres(database_url=settings.database_url, data_dir=settings.data_dir,
                                schema=settings.database_schema, migrate=False, pool_max=2)
    try:
        claimers = [(db, "a"), (other.db, "b"), (db, "c"), (other.db, "d")]
        # Every claimer's first claim at once (each gets 3 of the 40, whatever the order they
        # run in), then all drain the rest concurrently.
        firsts = await asyncio.gather(*(claim_due(pool, 3, owner, 60) for pool, owner in claimers))

        async def drain(pool, owner, got):
            while batch := await claim_due(pool, 3, owner, 60):
                got.extend(batch)
            return got

        results = await asyncio.gather(*(drain(pool, owner, list(first))
                                         for (pool, owner), first in zip(claimers, firsts, strict=True)))  # fmt: skip
    finally:
        await other.close()
    claimed = [j.id for batch in results for j in batch]
    assert len(claimed) == len(set(claimed)) == len(claimable)
    assert set(claimed) == claimable
    assert [len(first) for first in firsts] == [3] * len(claimers)  # concurrent claims never overlap
