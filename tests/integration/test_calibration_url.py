"""URL imports over real HTTP: a local aiohttp server on 127.0.0.1 serving a blog post, an
error and a binary; the page's main text becomes examples, failures are Invalid on ``url``."""

from __future__ import annotations

import pytest
from aiohttp import web

from agents.calibration import fetch_examples
from agents.calibration.pages import page_text
from agents.ingest.fetch import FetchConfig, Fetcher
from storage.errors import Invalid

pytestmark = pytest.mark.integration

POST = """<html><head><title>Signal over noise</title></head><body>
<nav><a href="/">Home</a> <a href="/blog">Blog</a> <a href="/pricing">Pricing</a></nav>
<article><h1>Signal over noise: what 1,140 dashboards taught us</h1>
<p>The data says most dashboards are never opened. In our Q2 benchmark of 1,140 dashboards, 61% had
not been opened in 30 days, and 18% carried a metric with two conflicting definitions.</p>
<p>One chart, one decision. If a tile cannot name the decision it supports, it is decoration, and
decoration costs query time, attention and trust in every number next to it.</p>
</article><footer>© Ledgerline. Subscribe to our newsletter.</footer></body></html>"""


@pytest.fixture
async def site():
    async def post(request: web.Request) -> web.Response:
        return web.Response(text=POST, content_type="text/html")

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="oops")

    async def binary(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, content_type="image/png")

    app = web.Application()
    for path, handler in {"/post": post, "/broken": broken, "/image": binary}.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    port = server._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def fetch():
    async with Fetcher(FetchConfig(timeout_seconds=2.0, max_bytes=256 * 1024)) as fetcher:
        yield page_text(fetcher)


async def test_a_page_becomes_examples_of_its_main_text(site, fetch):
    parsed = await fetch_examples(f"{site}/post", fetch)
    assert len(parsed.examples) >= 2
    assert {(e.source, e.url) for e in parsed.examples} == {("url", f"{site}/post")}
    text = "\n".join(e.text for e in parsed.examples)
    assert "61% had not been opened in 30 days" in text and "One chart, one decision" in text
    assert "Pricing" not in text and "Subscribe to our newsletter" not in text


@pytest.mark.parametrize("path", ["/broken", "/image", "/missing"])
async def test_a_page_that_cannot_be_read_is_invalid_on_url(site, fetch, path):
    with pytest.raises(Invalid) as caught:
        await fetch_examples(f"{site}{path}", fetch)
    assert caught.value.details["field"] == "url"
