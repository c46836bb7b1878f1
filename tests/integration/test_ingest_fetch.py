"""Fetchers over real HTTP: a local aiohttp server on 127.0.0.1 serving feeds, pages and faults.

Conditional GET (ETag and Last-Modified, 304), gzip, redirects (and a redirect loop), 500s,
a server that never answers, a huge body, a gzip bomb, HTML garbage and binaries: each ends
as a result or a recorded failure with its reason, never an exception.
"""

from __future__ import annotations

import asyncio
import gzip
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from aiohttp import web

from agents.ingest.feeds import parse_feed
from agents.ingest.fetch import FetchConfig, Fetcher, FetchRequest
from agents.ingest.health import health, new_subscription
from agents.ingest.pages import extract_page
from agents.ingest.poll import poll_feed
from storage.errors import Invalid

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[1] / "data" / "ingest"
ETAG = '"rss-v1"'
LAST_MODIFIED = "Mon, 09 Mar 2026 08:00:00 GMT"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HITS = web.AppKey("hits", dict)


def _app() -> web.Application:
    rss = (DATA / "feed.rss").read_bytes()
    hits: dict[str, int] = {}

    async def feed(request: web.Request) -> web.StreamResponse:
        hits["feed"] = hits.get("feed", 0) + 1
        if request.headers.get("If-None-Match") == ETAG or request.headers.get("If-Modified-Since") == LAST_MODIFIED:
            return web.Response(status=304, headers={"ETag": ETAG})
        return web.Response(body=rss, content_type="application/rss+xml",
                            headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED})  # fmt: skip

    async def atom(request: web.Request) -> web.Response:
        return web.Response(body=(DATA / "feed.atom").read_bytes(), content_type="application/atom+xml")

    async def gzipped(request: web.Request) -> web.Response:
        assert "gzip" in request.headers.get("Accept-Encoding", "")
        return web.Response(body=gzip.compress(rss), content_type="application/rss+xml",
                            headers={"Content-Encoding": "gzip"})  # fmt: skip

    async def page(request: web.Request) -> web.Response:
        return web.Response(body=(DATA / "article.html").read_bytes(), content_type="text/html", charset="utf-8")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(location="/feed.xml")

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound(location="/loop")

    async def error(request: web.Request) -> web.Response:
        return web.Response(status=500, text="internal error")

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(text="too late")

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        for _ in range(64):  # 4 MiB, streamed without a Content-Length
            await response.write(b"<item>" + b"x" * 65530)
        await response.write_eof()
        return response

    async def bomb(request: web.Request) -> web.Response:
        return web.Response(body=gzip.compress(b"\0" * (8 * 1024 * 1024)), content_type="text/html",
                            headers={"Content-Encoding": "gzip"})  # fmt: skip

    async def garbage(request: web.Request) -> web.Response:
        return web.Response(text="<html><div><<<>>><p>></div></span>&&&;;<script>var x=1;</script></html>",
                            content_type="text/html")  # fmt: skip

    async def binary(request: web.Request) -> web.Response:
        return web.Response(body=os.urandom(4096), content_type="application/octet-stream")

    async def binary_as_html(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG\r\n\x1a\n\x00\x00" + os.urandom(2048), content_type="text/html")

    async def empty(request: web.Request) -> web.Response:
        return web.Response(body=b"", content_type="application/rss+xml")

    async def malformed(request: web.Request) -> web.Response:
        return web.Response(text="this is not <rss at all, just <broken markup", content_type="application/rss+xml")

    app = web.Application()
    app[HITS] = hits
    for path, handler in {
        "/feed.xml": feed, "/atom.xml": atom, "/gzip.xml": gzipped, "/article.html": page, "/moved": redirect,
        "/loop": loop, "/error": error, "/slow": slow, "/huge": huge, "/bomb": bomb, "/garbage.html": garbage,
        "/binary": binary, "/binary.html": binary_as_html, "/empty.xml": empty, "/malformed.xml": malformed,
    }.items():  # fmt: skip
        app.router.add_get(path, handler)
    return app


@pytest.fixture
async def server():
    app = _app()
    runner = web.AppRunner(app, shutdown_timeout=0.5)  # a /slow handler still asleep is cut short
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}", app[HITS]
    await runner.cleanup()


@pytest.fixture
async def fetcher():
    async with Fetcher(FetchConfig(timeout_seconds=1.0, max_bytes=1024 * 1024, max_redirects=3)) as f:
        yield f


async def test_rss_feed_then_conditional_get_gives_304(server, fetcher):
    base, hits = server
    first = await fetcher.fetch(FetchRequest(url=f"{base}/feed.xml"))
    assert (first.outcome, first.status, first.etag, first.last_modified) == ("ok", 200, ETAG, LAST_MODIFIED)
    parsed = parse_feed(first.body, first.final_url)
    assert parsed.title == "RevOps Digest"
    assert [i.title for i in parsed.items][0].startswith("Ad platforms claim")
    first_item = parsed.items[0]
    assert first_item.source_url == f"{base}/news/platform-conversions?utm_source=rss"  # relative link resolved
    assert first_item.published_at == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    assert "<b>" in first_item.text  # markup is cleaned at ingestion, not lost here
    again = await fetcher.fetch(FetchRequest(url=f"{base}/feed.xml", etag=first.etag))
    assert (again.outcome, again.status, again.body) == ("not_modified", 304, None)
    by_date = await fetcher.fetch(FetchRequest(url=f"{base}/feed.xml", last_modified=LAST_MODIFIED))
    assert by_date.outcome == "not_modified"
    assert hits["feed"] == 3


async def test_atom_gzip_and_redirects(server, fetcher):
    base, _ = server
    atom = await fetcher.fetch(FetchRequest(url=f"{base}/atom.xml"))
    entries = parse_feed(atom.body, atom.final_url).items
    assert entries[0].source_url == "https://originreport.example/ethiopia-harvest-rains"
    assert entries[0].author_handle == "Origin Desk"
    assert entries[0].published_at == datetime(2026, 3, 8, 5, 0, tzinfo=UTC)
    zipped = await fetcher.fetch(FetchRequest(url=f"{base}/gzip.xml"))
    assert zipped.outcome == "ok" and zipped.body == (DATA / "feed.rss").read_bytes()
    moved = await fetcher.fetch(FetchRequest(url=f"{base}/moved"))
    assert (moved.outcome, moved.status, moved.final_url) == ("ok", 200, f"{base}/feed.xml")
    looping = await fetcher.fetch(FetchRequest(url=f"{base}/loop"))
    assert (looping.outcome, looping.error_code) == ("error", "too_many_redirects")


async def test_faults_are_results_with_reasons(server, fetcher):
    base, _ = server
    cases = {"/error": "http_status", "/slow": "timeout", "/huge": "too_large", "/bomb": "too_large"}
    for path, code in cases.items():
        result = await fetcher.fetch(FetchRequest(url=base + path))
        assert (result.outcome, result.error_code) == ("error", code), path
        assert result.error and result.body is None
    assert (await fetcher.fetch(FetchRequest(url=base + "/slow"))).elapsed_seconds < 5  # the timeout held
    closed = await fetcher.fetch(FetchRequest(url="http://127.0.0.1:9/nothing-listens"))
    assert (closed.outcome, closed.error_code) == ("error", "connection")
    bad = await fetcher.fetch(FetchRequest(url="ftp://example.com/feed"))
    assert (bad.outcome, bad.error_code) == ("error", "invalid_url")


async def test_pages_main_text_and_bad_pages(server, fetcher):
    base, _ = server
    fetched = await fetcher.fetch(FetchRequest(url=f"{base}/article.html"))
    item = extract_page(fetched.body, fetched.final_url, content_type=fetched.content_type, charset=fetched.charset)
    assert item.title.startswith("Pausing branded search")
    assert "twelve randomly chosen regions" in item.text
    assert "Cookie settings" not in item.text and "Subscribe" not in item.text  # boilerplate stripped
    assert item.published_at == datetime(2026, 3, 8, 15, 0, tzinfo=UTC)
    for path in ("/garbage.html", "/binary", "/binary.html"):
        result = await fetcher.fetch(FetchRequest(url=base + path))
        with pytest.raises(Invalid) as info:
            extract_page(result.body, result.final_url, content_type=result.content_type, charset=result.charset)
        assert info.value.details == {"field": "body"}, path


async def test_poll_records_health_backoff_and_recovery(server, fetcher):
    base, _ = server
    sub = new_subscription(uuid4(), f"{base}/feed.xml", poll_interval_seconds=900, now=NOW)
    assert health(sub).status == "never_polled"
    ok = await poll_feed(fetcher, sub, NOW)
    assert len(ok.items) == 2 and ok.error is None
    assert (ok.subscription.etag, ok.subscription.title, health(ok.subscription).status) == (ETAG, "RevOps Digest", "ok")
    assert ok.subscription.next_poll_at == NOW + timedelta(seconds=900)
    later = NOW + timedelta(hours=1)
    unchanged = await poll_feed(fetcher, ok.subscription, later)
    assert unchanged.not_modified and unchanged.items == [] and unchanged.subscription.last_success_at == later

    broken = unchanged.subscription.model_copy(update={"url": f"{base}/error"})
    delays = []
    for attempt in range(3):
        outcome = await poll_feed(fetcher, broken, later)
        broken = outcome.subscription
        assert outcome.error.startswith("http_status")
        delays.append((broken.next_poll_at - later).total_seconds())
    assert delays[0] < delays[1] < delays[2]  # exponential backoff
    assert health(broken).status == "failing" and health(broken).consecutive_failures == 3
    assert broken.last_success_at == later  # the last success is still visible
    for path, reason in (("/empty.xml", "invalid_feed"), ("/malformed.xml", "invalid_feed"), ("/slow", "timeout")):
        outcome = await poll_feed(fetcher, broken.model_copy(update={"url": base + path}), later)
        assert outcome.error.startswith(reason), path
        assert outcome.items == []
    recovered = await poll_feed(fetcher, broken.model_copy(update={"url": f"{base}/feed.xml", "etag": None, "last_modified": None}), later)
    assert recovered.subscription.consecutive_failures == 0 and len(recovered.items) == 2
    assert health(recovered.subscription).status == "ok"
