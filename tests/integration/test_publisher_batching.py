"""The publisher's round trips cut per batch, each with the guarantee it must keep: the claim
commits the first attempt rows (before anything is sent, only as many as will be sent, cancelled
when a create is put off), successes that finish together settle in one statement (one refused
success refuses only itself), and connections are read again whenever their rows changed."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import aiohttp
import pytest

from agents.publisher.adapters import ADAPTERS
from agents.publisher.loop import PublisherConfig, PublishLoop
from agents.publisher.policy import RetryPolicy
from agents.publisher.settling import SuccessGroup
from agents.publisher.tokens import TokenCipher, new_key, parse_keys
from runtime.fakes import FakeX
from runtime.fakes.world import add_variants, make_world
from storage.errors import Conflict
from storage.objects.base import utcnow
from storage.objects.enums import Channel, ChannelStatus, PublishStatus
from storage.objects.publishing import AdapterName, ChannelConfig, PublishingJob
from storage.postgres import publishing as store
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration
FAST = RetryPolicy(base_seconds=0.0, jitter=0.0, reconcile_delay_seconds=0.0, max_reconcile_checks=3)


@pytest.fixture
async def env(embedded_postgres_dsn, tmp_path, fresh_schema):
    async with fresh_schema(embedded_postgres_dsn, tmp_path, prefix="bat", pool_max=4) as handle:
        async with handle.db.transaction() as conn:
            world = await make_world(conn)
        cipher = TokenCipher(parse_keys(f"k1:{new_key()}"), "k1")
        fake = FakeX()
        await fake.start()
        async with aiohttp.ClientSession() as session:
            yield Env(handle.db, world, cipher, session, tmp_path, fake)
        await fake.stop()


class Env:
    def __init__(self, db, world, cipher, session, tmp, fake):
        self.db, self.world, self.cipher, self.session, self.tmp, self.fake = db, world, cipher, session, tmp, fake
        self.outbox = tmp / "outbox.jsonl"

    def loop(self, owner="bat", batch=5) -> PublishLoop:
        return PublishLoop(self.db, self.cipher, self.session, PublisherConfig(
            owner=owner, batch=batch, lease_seconds=30, http_timeout=0.5, outbox_dir=self.tmp, policy=FAST,
            metrics_every_seconds=None))  # fmt: skip

    async def connect_outbox(self, channel="linkedin", **overrides) -> ChannelConfig:
        async with self.db.transaction() as conn:
            return await store.save_connection(conn, self.cipher, ChannelConfig(
                brand_id=self.world.brand_id, channel=Channel(channel), status=ChannelStatus.CONNECTED,
                adapter=AdapterName.OUTBOX, endpoint=str(self.outbox), **overrides), store.Secrets())  # fmt: skip

    async def connect_x(self) -> ChannelConfig:
        grant = self.fake.connect("42")
        async with self.db.transaction() as conn:
            return await store.save_connection(conn, self.cipher, ChannelConfig(
                brand_id=self.world.brand_id, channel=Channel.X, status=ChannelStatus.CONNECTED, adapter=AdapterName.X,
                endpoint=self.fake.url, account_ref="42", token_expires_at=utcnow() + timedelta(hours=2)),
                store.Secrets(access_token=grant["access_token"], refresh_token=grant["refresh_token"], client_id="k"))  # fmt: skip

    async def jobs(self, channel: str, n: int, tag: str) -> list[PublishingJob]:
        async with self.db.transaction() as conn:
            variants = await add_variants(conn, self.world, channel, [f"{tag} post {i}: pipeline by stage" for i in range(n)])
            jobs = [PublishingJob(brand_id=self.world.brand_id, content_variant_id=v.id, channel=Channel(channel),
                                  scheduled_at=utcnow() - timedelta(seconds=1)) for v in variants]  # fmt: skip
            await repo.publishing_jobs.insert_many(conn, jobs)
        return jobs

    async def attempts(self, jobs) -> dict:
        async with self.db.connection() as conn:
            rows = await conn.fetch("SELECT publishing_job_id, status, error_code FROM publish_attempts"
                                    " WHERE publishing_job_id = ANY($1::uuid[]) ORDER BY attempt_index", [j.id for j in jobs])
        out: dict = {j.id: [] for j in jobs}
        for r in rows:
            out[r["publishing_job_id"]].append((r["status"], r["error_code"]))
        return out

    async def statuses(self, jobs) -> list[str]:
        async with self.db.connection() as conn:
            return [await conn.fetchval("SELECT status FROM publishing_jobs WHERE id = $1", j.id) for j in jobs]


async def test_the_claim_commits_first_attempts_only_up_to_each_connections_budget(env):
    outbox = await env.connect_outbox()
    x = await env.connect_x()
    await env.jobs("linkedin", 4, "outbox")
    await env.jobs("x", 3, "x")
    claimed = await store.claim_batch(env.db, "bat", 30, 10, first_attempts={outbox.id: 3, x.id: 1})
    made = Counter(c.job.channel.value for c in claimed if c.first_attempt is not None)
    assert len(claimed) == 7 and made == {"linkedin": 3, "x": 1}
    async with env.db.connection() as conn:  # committed by the claim itself, in flight, before anything is sent
        in_flight = await conn.fetchval("SELECT count(*) FROM publish_attempts WHERE status = 'in_flight' AND attempt_index = 1")
    assert in_flight == 4
    assert all(c.body.startswith(("outbox post", "x post")) and not c.threaded and not c.had_attempts for c in claimed)
    assert {c.connection_version for c in claimed if c.job.channel is Channel.X} != {
        c.connection_version for c in claimed if c.job.channel is Channel.LINKEDIN}


async def test_no_first_attempt_for_a_blocked_or_disconnected_connection_or_a_job_with_attempts(env):
    outbox = await env.connect_outbox(blocked_until=utcnow() + timedelta(hours=1))
    await env.jobs("linkedin", 2, "blocked")
    claimed = await store.claim_batch(env.db, "bat", 30, 10, first_attempts={outbox.id: 10})
    assert len(claimed) == 2 and all(c.first_attempt is None for c in claimed)
    assert all(c.connection_version for c in claimed)


async def test_a_loop_uses_the_claims_attempt_rows_from_its_second_batch(env, monkeypatch):
    await env.connect_outbox()
    jobs = await env.jobs("linkedin", 12, "batched")
    begun = []
    real_begin = store.begin_attempt

    async def counting_begin(*args, **kwargs):
        begun.append(args[1])
        return await real_begin(*args, **kwargs)

    monkeypatch.setattr(store, "begin_attempt", counting_begin)
    loop = env.loop(batch=4)
    while await loop.run_once():
        pass
    assert await env.statuses(jobs) == ["success"] * 12
    assert all(a == [("success", None)] for a in (await env.attempts(jobs)).values())  # one attempt each, none cancelled
    assert len(begun) == 4  # the first batch only: later claims committed the attempt rows
    assert loop.successes.statements < 12  # successes that finished together shared a statement
    assert len(env.outbox.read_text().splitlines()) == 12


async def test_a_first_attempt_whose_create_is_put_off_is_cancelled_not_left_in_flight(env, monkeypatch):
    """The bucket empties between the claim and the create (a 429 answered another job): the
    claim's row is closed as never sent, in the transaction that gives the job back, so nothing
    looks it up later, and the job waits without reconciling."""
    x = await env.connect_x()
    await env.jobs("x", 1, "warm")
    loop = env.loop()
    assert await loop.run_once() == 1  # the connection is known now
    (job,) = await env.jobs("x", 1, "later")
    budgets = loop._sendable()
    assert budgets[x.id] >= 1
    loop._sendable = lambda: budgets  # the claim still believes in a token ...
    loop._bucket(x, ADAPTERS["x"]).block(utcnow() + timedelta(minutes=5))  # ... that a 429 took meanwhile
    separate = []
    monkeypatch.setattr(store, "cancel_attempt", lambda *args: separate.append(args))
    assert await loop.run_once() == 1
    assert separate == []  # no round trip of its own: the release cancelled it
    assert (await env.attempts([job]))[job.id] == [("cancelled", "not_sent")]
    async with env.db.connection() as conn:
        stored = await repo.publishing_jobs.get(conn, job.id)
    assert stored.status is PublishStatus.PENDING and not stored.reconcile_pending and stored.attempts == 0
    assert [p["text"] for p in env.fake.posts] == ["warm post 0: pipeline by stage"]


async def test_an_error_before_the_create_cancels_the_claims_row_instead_of_reconciling(env):
    """A job fails on our side after the claim committed its attempt row but before the create
    was sent: the row is closed as never sent, so the job is retried as a plain create, not
    looked up as possibly published."""
    await env.connect_outbox()
    await env.jobs("linkedin", 1, "warm")
    loop = env.loop()
    assert await loop.run_once() == 1  # the connection is known now: the next claim makes the rows
    (job,) = await env.jobs("linkedin", 1, "broken")
    real_credentials = loop._credentials

    def failing_once(*args):
        loop._credentials = real_credentials
        raise RuntimeError("credentials could not be built")

    loop._credentials = failing_once
    assert await loop.run_once() == 1
    assert (await env.attempts([job]))[job.id] == [("cancelled", "not_sent")]
    async with env.db.connection() as conn:
        stored = await repo.publishing_jobs.get(conn, job.id)
    assert stored.status is PublishStatus.PENDING and not stored.reconcile_pending
    assert loop.counts["errors"] == 1 and loop.unsent == {}
    async with env.db.transaction() as conn:  # due again now
        await conn.execute("UPDATE publishing_jobs SET next_attempt_at = now() WHERE id = $1", job.id)
    assert await loop.run_once() == 1
    assert await env.statuses([job]) == ["success"]
    assert [s for s, _ in (await env.attempts([job]))[job.id]] == ["cancelled", "success"]
    assert sum("broken post" in line for line in env.outbox.read_text().splitlines()) == 1


async def test_a_connection_idle_for_ten_leases_is_forgotten_with_its_tokens(env):
    await env.connect_outbox()
    x = await env.connect_x()
    await env.jobs("x", 1, "x")
    now = [utcnow()]
    loop = env.loop()
    loop.clock = lambda: now[0]
    assert await loop.run_once() == 1
    assert x.id in loop._sendable() and len(loop.known) == 1
    now[0] += timedelta(seconds=10 * 30 + 1)  # ten leases of 30 s later, only the outbox has work
    await env.jobs("linkedin", 1, "outbox")
    assert await loop.run_once() == 1
    assert [key[1] for key in loop.known] == ["linkedin"] and x.id not in loop._sendable()
    assert set(loop.claimed_at) == set(loop.known)


async def test_a_connection_changed_between_batches_is_read_again(env):
    config = await env.connect_outbox()
    await env.jobs("linkedin", 1, "first")
    loop = env.loop()
    assert await loop.run_once() == 1
    async with env.db.transaction() as conn:
        await store.disconnect(conn, config.id)
    (job,) = await env.jobs("linkedin", 1, "second")
    assert await loop.run_once() == 1
    async with env.db.connection() as conn:
        stored = await repo.publishing_jobs.get(conn, job.id)
    assert stored.status is PublishStatus.FAILED and "disconnected" in stored.last_error
    assert len(env.outbox.read_text().splitlines()) == 1  # the cached connection was not used
    assert (await env.attempts([job]))[job.id] in ([], [("cancelled", "not_sent")])


async def test_a_group_of_successes_settles_together_and_one_lost_lease_refuses_only_itself(env):
    await env.connect_outbox()
    await env.jobs("linkedin", 3, "group")
    claimed = await store.claim_batch(env.db, "bat", 30, 10)
    attempts = [await store.begin_attempt(env.db, c.job.id, "bat", count=False, lease_seconds=30) for c in claimed]
    async with env.db.connection() as conn:  # another publisher took the third job over
        await conn.execute("UPDATE publishing_jobs SET lease_owner = 'other' WHERE id = $1", claimed[2].job.id)
    successes = [store.Success(c.job, a.id, store.AttemptOutcome(status="success", external_post_id=f"p{i}"))
                 for i, (c, a) in enumerate(zip(claimed, attempts, strict=True))]  # fmt: skip
    assert await store.settle_successes(env.db, "bat", successes) == [(True, True), (True, True), (True, False)]
    assert await env.statuses([c.job for c in claimed]) == ["success", "success", "running"]
    async with env.db.connection() as conn:
        events = await conn.fetchval("SELECT count(*) FROM event_log WHERE event_type = 'publish_succeeded'")
        usages = await conn.fetchval("SELECT count(*) FROM pattern_usages WHERE content_variant_id = ANY($1::uuid[])",
                                     [c.job.content_variant_id for c in claimed])
        published = await conn.fetchval("SELECT count(*) FROM content_variants WHERE id = ANY($1::uuid[]) AND status = 'published'",
                                        [c.job.content_variant_id for c in claimed])
    assert (events, usages, published) == (2, 2, 2)  # the content of the lost job waits for its holder


async def test_a_refused_success_in_a_group_fails_alone(env):
    """Two jobs of one variant may not both succeed (one success per variant): in one group,
    the statement is refused, and written again one by one: the first settles, the second
    gets the conflict as its own."""
    await env.connect_outbox()
    (first,) = await env.jobs("linkedin", 1, "twice")
    second = PublishingJob(brand_id=env.world.brand_id, content_variant_id=first.content_variant_id, channel=Channel.LINKEDIN,
                           scheduled_at=utcnow() - timedelta(seconds=1))
    async with env.db.transaction() as conn:
        await repo.publishing_jobs.insert(conn, second)
    claimed = await store.claim_batch(env.db, "bat", 30, 10)
    assert len(claimed) == 2
    group = SuccessGroup(env.db, "bat")
    results = []
    for i, c in enumerate(claimed):
        attempt = await store.begin_attempt(env.db, c.job.id, "bat", count=False, lease_seconds=30)
        results.append(group.settle(store.Success(c.job, attempt.id, store.AttemptOutcome(status="success",
                                                                                           external_post_id=f"p{i}"))))
    settled = await asyncio.gather(*results, return_exceptions=True)
    assert settled[0] == (True, True) and isinstance(settled[1], Conflict)
    assert group.statements == 3  # the refused pair, then each alone
    assert sorted(await env.statuses([c.job for c in claimed])) == ["running", "success"]


async def test_record_published_and_the_grouped_settle_change_the_same_content(env):
    """The two success paths share one SQL fragment: either one publishes the variant and the
    package, uses the opportunity, adds one pattern usage and one event."""
    await env.connect_outbox()
    (job,) = await env.jobs("linkedin", 1, "alone")
    async with env.db.transaction() as conn:
        await store.record_published(conn, job)
        await store.record_published(conn, job)  # a second run adds no second usage
    async with env.db.connection() as conn:
        assert await conn.fetchval("SELECT status FROM content_variants WHERE id = $1", job.content_variant_id) == "published"
        assert await conn.fetchval("SELECT status FROM content_packages WHERE id = $1", env.world.package_id) == "published"
        assert await conn.fetchval("SELECT lifecycle_state FROM opportunity_cards WHERE id = $1", env.world.opportunity_id) == "used"
        assert await conn.fetchval("SELECT count(*) FROM pattern_usages WHERE content_variant_id = $1", job.content_variant_id) == 1
        meta = await conn.fetchval("SELECT meta FROM event_log WHERE subject_id = $1", str(job.id))
    assert meta == {"content_variant_id": str(job.content_variant_id)}
