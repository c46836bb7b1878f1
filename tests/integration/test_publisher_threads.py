"""Threads as reply chains against the fakes over real HTTP: a variant written as a thread posts
part 1, then each next part as a reply to the previous one, exactly once per part, also when a
part's create is answered by a dropped connection or a 5xx (reconciled, never re-posted) and when
the publisher that was sending it stops mid-thread."""

from __future__ import annotations

import json
from datetime import timedelta

import aiohttp
import pytest

from agents.publisher.loop import PublisherConfig, PublishLoop
from agents.publisher.adapters.x import XAdapter
from agents.publisher.policy import RetryPolicy
from agents.publisher.scheduling import schedule
from agents.publisher.threads import thread_parts
from agents.publisher.tokens import TokenCipher, new_key, parse_keys
from runtime.fakes import FakeMastodon, FakeX
from runtime.fakes.world import add_variants, make_world
from runtime.scheduler import sweep_expired_leases
from storage.errors import Invalid
from storage.objects import PublishingJob
from storage.objects.base import utcnow
from storage.objects.enums import Channel, ChannelStatus, PublishStatus
from storage.objects.publishing import AdapterName, ChannelConfig
from storage.postgres import publishing as store
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration


class Killed(BaseException):
    """The publisher's process going away (not an error it could catch)."""


TIMEOUT = 0.4
FAST = RetryPolicy(base_seconds=0.0, jitter=0.0, reconcile_delay_seconds=0.0, max_reconcile_checks=3)
LONG = (
    "Most attribution dashboards answer a question nobody on the board asked. They count clicks by channel and call "
    "it influence. Finance wants something else: pipeline by stage, and which lever moved it. We rebuilt our report "
    "around three numbers the CFO already trusts. Qualified pipeline created, pipeline advanced a stage, and revenue "
    "closed from both. Everything else went to an appendix nobody opens. The meeting got shorter and the budget "
    "conversation got easier. Try it for one quarter and keep the appendix if you miss it. Two caveats from our own "
    "rollout: stage definitions have to be agreed with sales first, or the numbers start a fight instead of ending "
    "one. And the first month looks worse, because honest pipeline is smaller than the clicks story ever was."
)
ACCOUNTS = {"x": "42", "mastodon": "alice"}


@pytest.fixture
async def env(embedded_postgres_dsn, tmp_path, fresh_schema):
    async with fresh_schema(embedded_postgres_dsn, tmp_path, prefix="thr", pool_max=4) as handle:
        db = handle.db
        async with db.transaction() as conn:
            world = await make_world(conn)
        fakes = {"x": FakeX(), "mastodon": FakeMastodon()}
        cipher = TokenCipher(parse_keys(f"k1:{new_key()}"), "k1")
        for channel, fake in fakes.items():
            await fake.start()
            fake.faults.delay_seconds = TIMEOUT * 3
            grant = fake.connect(ACCOUNTS[channel])
            async with db.transaction() as conn:
                await store.save_connection(conn, cipher, ChannelConfig(
                    brand_id=world.brand_id, channel=Channel(channel), status=ChannelStatus.CONNECTED,
                    adapter=AdapterName(channel), endpoint=fake.url, account_ref=ACCOUNTS[channel],
                    token_expires_at=utcnow() + timedelta(hours=2)), store.Secrets(
                    access_token=grant["access_token"], refresh_token=grant.get("refresh_token"), client_id="kairo"))  # fmt: skip
        async with aiohttp.ClientSession() as session:
            yield db, world, fakes, cipher, session
        for fake in fakes.values():
            await fake.stop()


async def thread_variant(db, world, channel: str, text: str = LONG, *, thread: bool = True):
    """A variant of the world's package on ``channel``, its plan written as a thread (or not)."""
    async with db.transaction() as conn:
        (variant,) = await add_variants(conn, world, channel, [text])
        settings = {str(world.plans[channel]): {"thread": thread, "budget": 280, "length_mode": "standard",
                                                 "risk_mode": "safe"}}  # fmt: skip
        await conn.execute(
            "INSERT INTO generation_sessions (brand_id, content_package_id, round, status, generator, seed, plan_settings)"
            " VALUES ($1, $2, 'write', 'written', 'composer', 0, $3)", world.brand_id, world.package_id, settings)
    return variant


async def due_job(db, world, variant) -> PublishingJob:
    job = PublishingJob(brand_id=world.brand_id, content_variant_id=variant.id, channel=variant.channel,
                        scheduled_at=utcnow() - timedelta(seconds=1))  # fmt: skip
    async with db.transaction() as conn:
        await repo.publishing_jobs.insert(conn, job)
    return job


def loop(db, cipher, session, owner="thr") -> PublishLoop:
    return PublishLoop(db, cipher, session, PublisherConfig(owner=owner, lease_seconds=30, http_timeout=TIMEOUT, policy=FAST,
                                                            metrics_every_seconds=None))  # fmt: skip


async def drain(*loops: PublishLoop, rounds: int = 10) -> None:
    for _ in range(rounds):
        if not any([await lp.run_once() for lp in loops]):
            return


async def state(db, job):
    async with db.connection() as conn:
        return await repo.publishing_jobs.get(conn, job.id), await store.attempts_of(conn, job.id)


def assert_chain(posts: list[dict], parts: list[str]) -> None:
    """The platform holds each part exactly once, in order, each replying to the one before."""
    assert [p["text"] for p in posts] == parts
    assert [p["in_reply_to"] for p in posts] == [None] + [p["id"] for p in posts[:-1]]


async def test_an_x_thread_is_a_reply_chain_of_its_parts(env):
    db, world, fakes, cipher, session = env
    variant = await thread_variant(db, world, "x")
    parts = thread_parts(Channel.X, "x", LONG)
    assert len(parts) >= 3 and parts[0].endswith(f"1/{len(parts)}")
    job = await due_job(db, world, variant)
    await drain(loop(db, cipher, session))
    stored, attempts = await state(db, job)
    assert stored.status is PublishStatus.SUCCESS
    assert_chain(fakes["x"].posts, parts)
    assert [a.external_post_id for a in attempts] == [p["id"] for p in fakes["x"].posts]
    assert [a.raw_response["thread_part"] for a in attempts] == list(range(1, len(parts) + 1))
    assert stored.attempts == 1  # the parts of one thread use one attempt of the job's budget


@pytest.mark.parametrize("fault", ["drop", "error_5xx", "delay"])
async def test_a_part_lost_in_transit_is_reconciled_never_posted_twice(env, fault):
    """``drop``/``delay``: the platform took part 2 but the answer was lost; ``error_5xx``: it
    did not. Either way the chain ends with each part once."""
    db, world, fakes, cipher, session = env
    variant = await thread_variant(db, world, "x")
    parts = thread_parts(Channel.X, "x", LONG)
    job = await due_job(db, world, variant)
    fakes["x"].faults.push("ok")
    fakes["x"].faults.push(fault)
    await loop(db, cipher, session).run_once()
    stored, attempts = await state(db, job)
    assert stored.status is PublishStatus.PENDING and stored.reconcile_pending
    assert [a.status.value for a in attempts] == ["success", "unconfirmed"]
    await drain(loop(db, cipher, session, owner="thr-2"))
    stored, attempts = await state(db, job)
    assert stored.status is PublishStatus.SUCCESS
    assert_chain(fakes["x"].posts, parts)


async def test_a_publisher_stopped_mid_thread_is_resumed_from_the_last_confirmed_part(env):
    db, world, fakes, cipher, session = env
    variant = await thread_variant(db, world, "x")
    parts = thread_parts(Channel.X, "x", LONG)
    job = await due_job(db, world, variant)
    sent: list[str] = []
    real_publish = XAdapter.publish

    async def dies_after_two(self, creds, request):
        if len(sent) == 2:
            raise Killed  # the process goes away with part 3's attempt committed, before sending it
        sent.append(request.text)
        return await real_publish(self, creds, request)

    XAdapter.publish = dies_after_two
    try:
        with pytest.raises(Killed):
            await loop(db, cipher, session, owner="dies").run_once()
    finally:
        XAdapter.publish = real_publish
    assert [p["text"] for p in fakes["x"].posts] == parts[:2]
    async with db.connection() as conn:  # its lease runs out; the scheduler's sweep hands the job back
        await conn.execute("UPDATE publishing_jobs SET lease_expires_at = now() - interval '1 second' WHERE id = $1", job.id)
    assert await sweep_expired_leases(db) == 1
    await drain(loop(db, cipher, session, owner="heir"))
    stored, _ = await state(db, job)
    assert stored.status is PublishStatus.SUCCESS
    assert_chain(fakes["x"].posts, parts)


async def test_a_mastodon_thread_replies_with_in_reply_to_id(env):
    db, world, fakes, cipher, session = env
    variant = await thread_variant(db, world, "mastodon")
    job = await due_job(db, world, variant)
    await drain(loop(db, cipher, session))
    parts = thread_parts(Channel.MASTODON, "mastodon", LONG)
    assert len(parts) >= 2
    assert (await state(db, job))[0].status is PublishStatus.SUCCESS
    assert_chain(fakes["mastodon"].posts, parts)
    assert len({p["key"] for p in fakes["mastodon"].posts}) == len(parts)  # one Idempotency-Key per part


async def test_only_a_thread_variant_may_be_longer_than_the_channel(env):
    db, world, fakes, cipher, session = env
    threaded = await thread_variant(db, world, "x")
    job = await schedule(db, world.brand_id, threaded.id, utcnow() + timedelta(hours=1))
    assert job.status is PublishStatus.PENDING
    plain = await thread_variant(db, world, "x", LONG + " Plain.", thread=False)  # the plan rewritten as one post
    with pytest.raises(Invalid) as refused:
        await schedule(db, world.brand_id, plain.id, utcnow() + timedelta(hours=3))
    assert refused.value.details["rule"] == "over_length"
    assert json.dumps(refused.value.details)  # the refusal is plain data


async def test_a_bluesky_thread_replies_with_root_and_parent_refs(env):
    from runtime.fakes import FakeBluesky

    db, world, fakes, cipher, session = env
    fake = FakeBluesky()
    await fake.start()
    try:
        fakes["bluesky"] = fake
        grant = fake.connect("did:plc:kairo")
        async with db.transaction() as conn:
            await store.save_connection(conn, cipher, ChannelConfig(
                brand_id=world.brand_id, channel=Channel.BLUESKY, status=ChannelStatus.CONNECTED,
                adapter=AdapterName.BLUESKY, endpoint=fake.url, account_ref="did:plc:kairo",
                token_expires_at=utcnow() + timedelta(hours=2)),
                store.Secrets(access_token=grant["access_token"], refresh_token=grant["refresh_token"]))  # fmt: skip
        variant = await thread_variant(db, world, "bluesky")
        parts = thread_parts(Channel.BLUESKY, "bluesky", LONG)
        assert len(parts) >= 2
        job = await due_job(db, world, variant)
        fake.faults.push("ok")
        fake.faults.push("drop")  # part 2 written, its answer lost: reconciled by its record key
        await drain(loop(db, cipher, session))
        stored, _ = await state(db, job)
        assert stored.status is PublishStatus.SUCCESS
        assert_chain(fake.posts, parts)
        first = fake.posts[0]
        for post in fake.posts[1:]:
            assert post["record"]["reply"]["root"] == {"uri": first["id"], "cid": fake.records[tuple(
                first["id"].removeprefix("at://").split("/")[::2])]["cid"]}  # fmt: skip
    finally:
        await fake.stop()
