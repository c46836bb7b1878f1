"""Feed subscriptions polled by the scheduler's feed pass over real HTTP (a local aiohttp feed
server on 127.0.0.1) into the ingest pipeline (the real scout engine, MiniLM) and PostgreSQL:
new items become the org's documents, an unchanged feed is a 304 (ETag asked for), a failing
feed records its reason and backs off longer each time, and one feed's fault never stops the
others."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from agents.brand_brain import OnboardingRequest, PersonaDraft, PillarDraft, onboard_brand
from agents.engines.scout import OpportunityScout
from agents.ingest.fetch import FetchConfig, Fetcher
from agents.ingest.health import health, new_subscription
from agents.scout.feeds import FeedPolling, poll_due_feeds
from storage.objects.base import utcnow
from storage.postgres import sources as store

pytestmark = pytest.mark.integration

FEED = (Path(__file__).resolve().parents[1] / "data" / "ingest" / "feed.rss").read_bytes()
ETAG = '"digest-v1"'
REQUESTS = web.AppKey("requests", list)


def _app() -> web.Application:
    seen: list[tuple[str, str | None]] = []

    async def feed(request: web.Request) -> web.Response:
        seen.append((request.path, request.headers.get("If-None-Match")))
        if request.headers.get("If-None-Match") == ETAG:
            return web.Response(status=304, headers={"ETag": ETAG})
        return web.Response(body=FEED, content_type="application/rss+xml", headers={"ETag": ETAG})

    async def error(request: web.Request) -> web.Response:
        seen.append((request.path, None))
        return web.Response(status=500, text="upstream down")

    async def garbage(request: web.Request) -> web.Response:
        seen.append((request.path, None))
        return web.Response(body=b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, content_type="image/png")

    async def slow(request: web.Request) -> web.Response:
        seen.append((request.path, None))
        await asyncio.sleep(10)
        return web.Response(text="too late")

    app = web.Application()
    app[REQUESTS] = seen
    app.router.add_get("/digest.rss", feed)
    app.router.add_get("/down.rss", error)
    app.router.add_get("/image.rss", garbage)
    app.router.add_get("/slow.rss", slow)
    return app


@pytest.fixture
async def feed_server():
    app = _app()
    runner = web.AppRunner(app, shutdown_timeout=0.5)  # a slow handler still asleep is cut short
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - the bound port
    yield f"http://127.0.0.1:{port}", app[REQUESTS]
    await runner.cleanup()


@pytest.fixture
async def brand(db, seeded):
    onboarded = await onboard_brand(db, OnboardingRequest(
        org_id=seeded.org.id, owner_user_ids=[seeded.user.id], name="Ledgerline", slug="ledgerline",
        primary_channels=["linkedin"], positioning="Marketing analytics that finance teams trust.",
        personas=[PersonaDraft(name="RevOps lead", description="Keeps the CRM and the tracking plan honest.",
                               pain_points=["Reports nobody trusts"], goals=["One source of truth"])],
        pillars=[PillarDraft(name="Attribution", description="Which marketing channel earned the deal: ad platform "
                             "conversions against closed revenue in the CRM."),
                 PillarDraft(name="Tracking plans", description="Event tracking that stays clean release after "
                             "release: naming, audits and unused events.")],
    ))  # fmt: skip
    return onboarded.brand


async def test_due_feeds_are_polled_into_documents_with_health_and_backoff(db, brand, feed_server, minilm):
    base, requests = feed_server
    now = utcnow()
    subs = {name: new_subscription(brand.id, f"{base}/{name}.rss", poll_interval_seconds=900, now=now)
            for name in ("digest", "down", "image", "slow")}  # fmt: skip
    async with db.transaction() as conn:
        for sub in subs.values():
            await store.feed_subscriptions.insert(conn, sub)
    engine = OpportunityScout(minilm)
    polling = FeedPolling(concurrency=4)
    async with Fetcher(FetchConfig(timeout_seconds=1.0)) as fetcher:
        first = await poll_due_feeds(db, engine, fetcher, now=now, polling=polling)
        assert (first.polled, first.failed, first.stored) == (4, 3, 2)
        async with db.connection() as conn:
            after = {s.url.rsplit("/", 1)[1].split(".")[0]: s for s in await store.brand_feeds(conn, brand.id)}
            docs = await store.recent_documents(conn, org_id=brand.org_id, since=now - timedelta(days=1))
        assert {d.doc.org_id for d in docs} == {brand.org_id} and len(docs) == 2  # the brand's org owns them
        ok = after["digest"]
        assert (health(ok).status, ok.etag, ok.title, health(ok).conditional_get) == ("ok", ETAG, "RevOps Digest", True)
        assert ok.next_poll_at == now + timedelta(seconds=900)
        reasons = {name: after[name].last_error.split(":")[0] for name in ("down", "image", "slow")}
        assert reasons == {"down": "http_status", "image": "invalid_feed", "slow": "timeout"}
        assert all(health(after[n]).status == "failing" and after[n].consecutive_failures == 1 for n in reasons)

        # Nothing is due before its time: a second pass at once polls nothing.
        assert (await poll_due_feeds(db, engine, fetcher, now=now, polling=polling)).polled == 0

        # An hour later everything is due again: the digest answers 304 to its ETag, the broken
        # feeds fail again and wait longer than the first time.
        later = now + timedelta(hours=1)
        second = await poll_due_feeds(db, engine, fetcher, now=later, polling=polling)
        assert (second.polled, second.not_modified, second.stored) == (4, 1, 0)
        assert requests.count(("/digest.rss", ETAG)) == 1
        async with db.connection() as conn:
            again = {s.url.rsplit("/", 1)[1].split(".")[0]: s for s in await store.brand_feeds(conn, brand.id)}
        assert again["digest"].last_success_at == later and again["digest"].consecutive_failures == 0
        for name in ("down", "image", "slow"):
            assert again[name].consecutive_failures == 2
            assert again[name].next_poll_at - later > after[name].next_poll_at - now  # exponential backoff
            assert again[name].last_success_at is None


async def test_a_removed_or_concurrently_claimed_feed_is_not_polled_twice(db, brand, feed_server, minilm):
    base, requests = feed_server
    now = utcnow()
    sub = new_subscription(brand.id, f"{base}/digest.rss", now=now)
    async with db.transaction() as conn:
        await store.feed_subscriptions.insert(conn, sub)
    engine = OpportunityScout(minilm)
    async with Fetcher(FetchConfig(timeout_seconds=2.0)) as fetcher:
        both = await asyncio.gather(*(poll_due_feeds(db, engine, fetcher, now=now) for _ in range(2)))
    assert sorted(r.polled for r in both) == [0, 1]  # claimed once: never fetched twice at once
    assert sum(r.stored for r in both) == 2 and len(requests) == 1
