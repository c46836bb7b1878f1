"""The DB-backed publish loop without Ray: the plain async code against real PostgreSQL and the
fakes over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import aiohttp
import pytest
from structlog.testing import capture_logs

from agents.publisher.adapters.x import XAdapter
from agents.publisher.loop import PublisherConfig, PublishLoop
from agents.publisher.policy import RetryPolicy
from agents.publisher.tokens import TokenCipher, new_key, parse_keys
from runtime.fakes import FakeBluesky, FakeLinkedIn, FakeMastodon, FakeWebhookReceiver, FakeX
from runtime.fakes.world import add_variants, make_world
from runtime.scheduler import sweep_expired_leases
from storage.objects.base import utcnow
from storage.objects.enums import Channel, ChannelStatus, PublishStatus
from storage.objects.publishing import AdapterName, AuthStatus, ChannelConfig, PublishingJob
from storage.postgres import publishing as store
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration
TIMEOUT = 0.4
FAST = RetryPolicy(base_seconds=0.0, jitter=0.0, reconcile_delay_seconds=0.0, max_reconcile_checks=3)


@pytest.fixture
async def env(embedded_postgres_dsn, tmp_path, fresh_schema):
    async with fresh_schema(embedded_postgres_dsn, tmp_path, prefix="pub", pool_max=4) as handle:
        async with handle.db.transaction() as conn:
            world = await make_world(conn)
        fakes = {"x": FakeX(), "linkedin": FakeLinkedIn(), "mastodon": FakeMastodon(), "bluesky": FakeBluesky(),
                 "webhook": FakeWebhookReceiver(secret="hook-secret")}
        for fake in fakes.values():
            await fake.start()
            fake.faults.delay_seconds = TIMEOUT * 3
        cipher = TokenCipher(parse_keys(f"k1:{new_key()}"), "k1")
        async with aiohttp.ClientSession() as session:
            yield Env(handle.db, world, fakes, cipher, session, tmp_path)
        for fake in fakes.values():
            await fake.stop()


class Env:
    def __init__(self, db, world, fakes, cipher, session, tmp):
        self.db, self.world, self.fakes, self.cipher, self.session, self.tmp = db, world, fakes, cipher, session, tmp

    def loop(self, owner="pub-a", **kw) -> PublishLoop:
        config = PublisherConfig(owner=owner, lease_seconds=kw.pop("lease_seconds", 30), http_timeout=TIMEOUT,
                                 outbox_dir=self.tmp / "outbox", policy=kw.pop("policy", FAST), **kw)
        return PublishLoop(self.db, self.cipher, self.session, config)

    async def connect(self, channel: str, adapter: str | None = None, **overrides) -> ChannelConfig:
        adapter = adapter or channel
        fake = self.fakes.get(adapter)
        account = {"x": "42", "linkedin": "urn:li:person:abc", "mastodon": "alice", "bluesky": "did:plc:kairo"}.get(adapter)
        grant = fake.connect(account) if fake and adapter != "webhook" else {}
        endpoint = {"webhook": f"{fake.url}/hook" if fake else None, "outbox": str(self.tmp / "outbox.jsonl")}.get(
            adapter, fake.url if fake else None)
        config = ChannelConfig(brand_id=self.world.brand_id, channel=Channel(channel), status=ChannelStatus.CONNECTED,
                               adapter=AdapterName(adapter), endpoint=overrides.pop("endpoint", endpoint), account_ref=account,
                               token_expires_at=utcnow() + timedelta(hours=2) if grant else None, **overrides)
        secrets = store.Secrets(access_token=grant.get("access_token"), refresh_token=grant.get("refresh_token"),
                                client_id="kairo-client", client_secret="client-secret" if adapter == "linkedin" else None,
                                signing_secret="hook-secret" if adapter == "webhook" else None)
        async with self.db.transaction() as conn:
            return await store.save_connection(conn, self.cipher, config, secrets)

    async def jobs(self, channel: str, bodies: list[str], **fields) -> list[PublishingJob]:
        async with self.db.transaction() as conn:
            variants = await add_variants(conn, self.world, channel, bodies)
            jobs = [PublishingJob(brand_id=self.world.brand_id, content_variant_id=v.id, channel=Channel(channel),
                                  scheduled_at=utcnow() - timedelta(seconds=1), **fields) for v in variants]
            await repo.publishing_jobs.insert_many(conn, jobs)
        return jobs

    async def job(self, job_id):
        async with self.db.connection() as conn:
            return await repo.publishing_jobs.get(conn, job_id), await store.attempts_of(conn, job_id)

    async def drain(self, *loops: PublishLoop, rounds: int = 10) -> None:
        for _ in range(rounds):
            claimed = await asyncio.gather(*(loop.run_once() for loop in loops))
            if not any(claimed):
                return


@pytest.mark.parametrize(("channel", "adapter"), [
    ("x", "x"), ("linkedin", "linkedin"), ("mastodon", "mastodon"), ("bluesky", "bluesky"),
    ("linkedin", "webhook"), ("x", "outbox"),
])  # fmt: skip
async def test_success_stores_the_external_id_and_advances_the_content(env, channel, adapter):
    await env.connect(channel, adapter)
    (job,) = await env.jobs(channel, [f"Kairo ships on {adapter} (v2) https://kairo.example/{adapter}"])
    await env.drain(env.loop())
    stored, attempts = await env.job(job.id)
    assert stored.status is PublishStatus.SUCCESS and stored.lease_owner is None
    assert [a.status.value for a in attempts] == ["success"]
    if adapter == "outbox":
        lines = [json.loads(line) for line in (env.tmp / "outbox.jsonl").read_text().splitlines()]
        assert [entry["job_id"] for entry in lines] == [str(job.id)]
    else:
        assert [p["id"] for p in env.fakes[adapter].posts] == [attempts[0].external_post_id]
    async with env.db.connection() as conn:
        assert await conn.fetchval("SELECT status FROM content_variants WHERE id = $1", job.content_variant_id) == "published"
        assert await conn.fetchval("SELECT status FROM content_packages WHERE id = $1", env.world.package_id) == "published"
        assert await conn.fetchval("SELECT lifecycle_state FROM opportunity_cards WHERE id = $1", env.world.opportunity_id) == "used"
        assert await conn.fetchval("SELECT count(*) FROM pattern_usages WHERE content_variant_id = $1", job.content_variant_id) == 1
        assert await conn.fetchval("SELECT count(*) FROM event_log WHERE event_type = 'publish_succeeded'") == 1


async def test_a_variant_whose_usage_the_writer_recorded_keeps_that_one_row(env):
    """The writer records a variant's PatternUsage when it writes it; publishing adds none, so
    the variant's outcome is counted once in its template's stats."""
    await env.connect("x", "outbox")
    (job,) = await env.jobs("x", ["Kairo ships on the outbox https://kairo.example/once"])
    async with env.db.connection() as conn:
        usage = await conn.fetchval(
            "INSERT INTO pattern_usages (pattern_template_id, content_variant_id, brand_id, channel) "
            "SELECT pattern_template_id, id, brand_id, channel FROM content_variants WHERE id = $1 RETURNING id",
            job.content_variant_id)  # fmt: skip
    await env.drain(env.loop())
    stored, _ = await env.job(job.id)
    assert stored.status is PublishStatus.SUCCESS
    async with env.db.connection() as conn:
        rows = await conn.fetch("SELECT id FROM pattern_usages WHERE content_variant_id = $1", job.content_variant_id)
    assert [r["id"] for r in rows] == [usage]


async def test_the_attempt_row_is_committed_before_the_create_is_sent(env, monkeypatch):
    await env.connect("x")
    (job,) = await env.jobs("x", ["seen in flight"])
    seen = []
    original = XAdapter.publish

    async def spy(self, creds, request):
        async with env.db.connection() as conn:  # another connection: only committed rows are visible
            seen.append(await conn.fetchval(
                "SELECT status FROM publish_attempts WHERE publishing_job_id = $1", job.id))
        return await original(self, creds, request)

    monkeypatch.setattr(XAdapter, "publish", spy)
    await env.drain(env.loop())
    assert seen == ["in_flight"]
    assert (await env.job(job.id))[0].status is PublishStatus.SUCCESS


@pytest.mark.parametrize("channel", ["x", "linkedin"])
async def test_a_dropped_connection_after_the_write_is_reconciled_not_resent(env, channel):
    await env.connect(channel)
    (job,) = await env.jobs(channel, ["dropped after the write (really)"])
    env.fakes[channel].faults.push("drop")
    await env.loop().run_once()
    stored, attempts = await env.job(job.id)
    assert stored.status is PublishStatus.PENDING and stored.reconcile_pending
    assert [a.status.value for a in attempts] == ["unconfirmed"]
    await env.drain(env.loop())
    stored, attempts = await env.job(job.id)
    assert stored.status is PublishStatus.SUCCESS and stored.attempts == 1
    assert [a.status.value for a in attempts] == ["success"]  # the unconfirmed attempt resolved
    assert len(env.fakes[channel].posts) == 1 and attempts[0].external_post_id == env.fakes[channel].posts[0]["id"]


async def test_a_5xx_is_reconciled_as_not_published_then_created_once_more(env):
    await env.connect("x")
    (job,) = await env.jobs("x", ["five hundred"])
    env.fakes["x"].faults.push("error_5xx")
    await env.drain(env.loop())
    stored, attempts = await env.job(job.id)
    assert stored.status is PublishStatus.SUCCESS and stored.attempts == 2
    assert [(a.status.value, a.error_code) for a in attempts] == [("failed", "not_published"), ("success", None)]
    assert len(env.fakes["x"].posts) == 1


async def test_mastodon_reconciles_by_the_same_idempotency_key(env):
    await env.connect("mastodon")
    (job,) = await env.jobs("mastodon", ["toot under delay"])
    env.fakes["mastodon"].faults.push("delay")
    await env.drain(env.loop())
    stored, attempts = await env.job(job.id)
    assert stored.status is PublishStatus.SUCCESS and len(env.fakes["mastodon"].posts) == 1
    assert attempts[0].external_post_id == env.fakes["mastodon"].posts[0]["id"]


async def test_rate_headers_fill_the_bucket_so_the_next_job_waits_without_sending(env):
    env.fakes["x"].window.limit = 1
    await env.connect("x")
    first, second = await env.jobs("x", ["one", "two"])
    loop = env.loop(batch=1)
    await loop.run_once()
    await loop.run_once()
    stored, attempts = await env.job(second.id)
    reset = env.fakes["x"].window.state("42")[1]
    assert stored.status is PublishStatus.PENDING and stored.attempts == 0 and attempts == []
    assert abs(stored.next_attempt_at.timestamp() - reset) < 2
    assert env.fakes["x"].requests == [("POST", "/2/tweets")]  # the second create was never sent


async def test_429_moves_the_job_to_the_reset_and_blocks_the_connection(env):
    env.fakes["x"].window.limit = 1
    env.fakes["x"].send_rate_headers = False  # X sometimes omits them: the 429 itself must do
    config = await env.connect("x")
    first, second, third = await env.jobs("x", ["one", "two", "three"])
    loop = env.loop(batch=1)
    await loop.run_once()
    await loop.run_once()
    stored, attempts = await env.job(second.id)
    assert stored.status is PublishStatus.PENDING and stored.attempts == 0  # refunded
    assert [a.error_code for a in attempts] == ["rate_limited"]
    retry = stored.next_attempt_at - utcnow()
    assert timedelta(minutes=14) < retry <= timedelta(minutes=15)  # the default window, no spinning
    async with env.db.connection() as conn:
        blocked = await repo.channel_configs.get(conn, config.id)
    assert blocked.blocked_until == stored.next_attempt_at
    other = env.loop("pub-b", batch=1)  # another publisher, with an empty bucket of its own, sees the block
    await other.run_once()
    stored, attempts = await env.job(third.id)
    assert stored.status is PublishStatus.PENDING and attempts == [] and stored.attempts == 0
    assert len(env.fakes["x"].posts) == 1 and len(env.fakes["x"].requests) == 2


async def test_expired_tokens_refresh_once_across_two_publishers(env):
    config = await env.connect("x")
    jobs = await env.jobs("x", [f"after expiry {i}" for i in range(6)])
    env.fakes["x"].tokens.expire_all()
    refreshes = []
    original = env.fakes["x"].tokens.use_refresh
    env.fakes["x"].tokens.use_refresh = lambda token: refreshes.append(token) or original(token)
    await env.drain(env.loop("pub-a", batch=3), env.loop("pub-b", batch=3))
    for job in jobs:
        assert (await env.job(job.id))[0].status is PublishStatus.SUCCESS
    assert len(refreshes) == 1  # single-use refresh token: a second refresh would have failed
    async with env.db.connection() as conn:
        secrets = await store.open_secrets(conn, env.cipher, config.id)
        row = await conn.fetchrow("SELECT * FROM channel_credentials WHERE channel_config_id = $1", config.id)
    assert secrets.refresh_token in env.fakes["x"].tokens.refresh  # the rotated one was stored
    assert row["refreshes"] == 1 and secrets.refresh_token not in json.dumps(dict(row), default=str)


async def test_a_refused_refresh_fails_the_job_and_marks_the_connection(env):
    config = await env.connect("x")
    (job,) = await env.jobs("x", ["spent"])
    env.fakes["x"].tokens.expire_all()
    env.fakes["x"].tokens.refresh.clear()  # the refresh token was spent elsewhere
    await env.drain(env.loop())
    stored, _ = await env.job(job.id)
    assert stored.status is PublishStatus.FAILED and "reconnect" in stored.last_error
    async with env.db.connection() as conn:
        marked = await repo.channel_configs.get(conn, config.id)
    assert (marked.status, marked.auth_status) == (ChannelStatus.ERROR, AuthStatus.REFRESH_NEEDED)


async def test_an_empty_refresh_token_never_overwrites_the_stored_one(env):
    config = await env.connect("x")
    async with env.db.connection() as conn:
        before = await store.open_secrets(conn, env.cipher, config.id)

    async def refresher(secrets):
        return store.Grant("new-access", None, utcnow() + timedelta(hours=2))

    _, after = await store.refresh_tokens(env.db, env.cipher, config.id, refresher, still_needed=lambda c, s: True)
    assert after.access_token == "new-access" and after.refresh_token == before.refresh_token
    async with env.db.transaction() as conn:  # a reconnect without a refresh token keeps it too
        await store.save_connection(conn, env.cipher, config, store.Secrets(access_token="reconnected"))
        kept = await store.open_secrets(conn, env.cipher, config.id)
    assert kept.access_token == "reconnected" and kept.refresh_token == before.refresh_token


async def test_permanent_errors_fail_with_the_reason_and_mark_the_connection(env):
    config = await env.connect("mastodon")
    (long,) = await env.jobs("mastodon", ["m" * 501])
    await env.drain(env.loop())
    stored, attempts = await env.job(long.id)
    assert stored.status is PublishStatus.FAILED and "500" in stored.last_error
    assert attempts[0].error_code == "validation_failed"
    async with env.db.connection() as conn:
        noted = await repo.channel_configs.get(conn, config.id)
    assert noted.status is ChannelStatus.CONNECTED and "500" in noted.last_error
    env.fakes["mastodon"].tokens.access.clear()  # revoked
    (other,) = await env.jobs("mastodon", ["after revocation"])
    await env.drain(env.loop())
    assert (await env.job(other.id))[0].status is PublishStatus.FAILED
    async with env.db.connection() as conn:
        revoked = await repo.channel_configs.get(conn, config.id)
    assert (revoked.status, revoked.auth_status) == (ChannelStatus.ERROR, AuthStatus.REVOKED)


async def test_out_of_attempts_is_failed_never_running(env):
    fake = FakeX()
    dead = await fake.start()
    await fake.stop()
    await env.connect("x", endpoint=dead)
    (job,) = await env.jobs("x", ["nobody listens"], max_attempts=2)
    await env.drain(env.loop())
    stored, attempts = await env.job(job.id)
    assert stored.status is PublishStatus.FAILED and "out of attempts (2)" in stored.last_error
    assert [a.error_code for a in attempts] == ["connect_failed", "connect_failed"]


async def test_a_disconnected_channel_fails_the_job_with_the_reason(env):
    (job,) = await env.jobs("bluesky", ["no connection"])
    await env.drain(env.loop())
    stored, attempts = await env.job(job.id)
    assert stored.status is PublishStatus.FAILED and stored.last_error == "channel not connected" and attempts == []


async def test_a_publisher_dying_mid_send_is_swept_and_reconciled(env):
    await env.connect("linkedin")
    (job,) = await env.jobs("linkedin", ["the publisher died"])
    # What a dead publisher leaves: a claim, an in-flight attempt, and (here) a post on the platform.
    (claimed,) = await store.claim_jobs(env.db, "dead", 0.2, 5)
    assert await store.begin_attempt(env.db, claimed.id, "dead", count=False, lease_seconds=0.2) is not None
    creds = env.fakes["linkedin"].connect("urn:li:person:abc")
    from agents.publisher.adapters import Credentials, PostRequest
    from agents.publisher.adapters.linkedin import LinkedInAdapter
    await LinkedInAdapter(env.session).publish(
        Credentials(endpoint=env.fakes["linkedin"].url, account_id="urn:li:person:abc", access_token=creds["access_token"]),
        PostRequest(job_id=str(job.id), text="the publisher died", channel="linkedin"))
    await asyncio.sleep(0.3)
    assert await env.loop().run_once() == 0  # still running: nobody else may touch it
    assert await sweep_expired_leases(env.db) == 1
    stored, _ = await env.job(job.id)
    assert stored.status is PublishStatus.PENDING and stored.reconcile_pending
    await env.drain(env.loop())
    stored, attempts = await env.job(job.id)
    assert stored.status is PublishStatus.SUCCESS and len(env.fakes["linkedin"].posts) == 1
    assert [a.status.value for a in attempts] == ["success"]


async def test_sweep_fails_an_exhausted_job_with_nothing_in_flight(env):
    await env.connect("x")
    (job,) = await env.jobs("x", ["claimed and abandoned"], max_attempts=1)
    await store.claim_jobs(env.db, "dead", 0.1, 5)
    await asyncio.sleep(0.2)
    assert await sweep_expired_leases(env.db) == 1
    stored, _ = await env.job(job.id)
    assert stored.status is PublishStatus.FAILED and "out of attempts" in stored.last_error


async def test_tokens_are_never_logged_nor_stored_in_plaintext(env):
    grant_holder = {}
    config = await env.connect("x")
    async with env.db.connection() as conn:
        secrets = await store.open_secrets(conn, env.cipher, config.id)
        grant_holder["access"], grant_holder["refresh"] = secrets.access_token, secrets.refresh_token
        dump = await conn.fetchval("SELECT string_agg(t::text, ' ') FROM channel_credentials t")
        dump += await conn.fetchval("SELECT string_agg(t::text, ' ') FROM channel_configs t")
    jobs = await env.jobs("x", ["log me not", "nor me"])
    env.fakes["x"].tokens.expire_all()
    env.fakes["x"].faults.push("drop")
    with capture_logs() as logs:
        await env.drain(env.loop())
    text = json.dumps(logs, default=str) + repr(secrets) + dump
    async with env.db.connection() as conn:
        text += await conn.fetchval("SELECT string_agg(t::text, ' ') FROM publish_attempts t")
        after = await store.open_secrets(conn, env.cipher, config.id)
    assert logs and [(await env.job(j.id))[0].status for j in jobs] == [PublishStatus.SUCCESS] * 2
    for token in (*grant_holder.values(), after.access_token, after.refresh_token):
        assert token not in text


async def test_key_rotation_re_seals_every_secret_under_the_current_key(env):
    config = await env.connect("linkedin")
    async with env.db.connection() as conn:
        before = await store.open_secrets(conn, env.cipher, config.id)
    rotated = TokenCipher({**env.cipher.keys, **parse_keys(f"k2:{new_key()}")}, "k2")
    assert await store.rotate_keys(env.db, rotated) == 3  # access, refresh, client secret
    assert await store.rotate_keys(env.db, rotated) == 0
    async with env.db.connection() as conn:
        row = await conn.fetchrow("SELECT * FROM channel_credentials WHERE channel_config_id = $1", config.id)
        after = await store.open_secrets(conn, TokenCipher({"k2": rotated.keys["k2"]}, "k2"), config.id)
    assert {TokenCipher.key_id(row[f]) for f in ("access_token", "refresh_token", "client_secret")} == {"k2"}
    assert after == before
