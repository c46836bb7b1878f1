"""A local web site on 127.0.0.1 for the writer's page tests: an article to write about and the
ways a page fails (404, an image, a page with no main text, a body over the cap, a server that
answers 500, one that answers too late). It runs an aiohttp server in a thread of its own, so sync API tests (the client
talks to Serve) and async integration tests use it alike; ``hits`` counts requests per path."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiohttp import web

HERE = Path(__file__).parent
ARTICLE = (HERE / "pipeline_review_page.html").read_bytes()
NAV_ONLY = b"""<!DOCTYPE html><html><head><title>Northfield Notes</title></head><body>
<nav><a href="/">Home</a> <a href="/pricing">Pricing</a> <a href="/login">Log in</a></nav>
<footer>Copyright 2026</footer></body></html>"""
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
HUGE_BYTES = 6 * 1024 * 1024  # over ingestion's 5 MiB page cap


def _app(hits: Counter) -> web.Application:
    async def article(request: web.Request) -> web.Response:
        hits[request.path] += 1
        return web.Response(body=ARTICLE, content_type="text/html", charset="utf-8")

    async def image(request: web.Request) -> web.Response:
        hits[request.path] += 1
        return web.Response(body=PNG, content_type="image/png")

    async def nav_only(request: web.Request) -> web.Response:
        hits[request.path] += 1
        return web.Response(body=NAV_ONLY, content_type="text/html")

    async def huge(request: web.Request) -> web.StreamResponse:
        hits[request.path] += 1
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        chunk = b"<p>" + b"word " * 13106 + b"</p>"
        for _ in range(HUGE_BYTES // len(chunk) + 1):  # streamed without a Content-Length
            await response.write(chunk)
        await response.write_eof()
        return response

    async def slow(request: web.Request) -> web.Response:
        hits[request.path] += 1
        await asyncio.sleep(5)
        return web.Response(body=ARTICLE, content_type="text/html")

    async def error(request: web.Request) -> web.Response:
        hits[request.path] += 1
        return web.Response(status=500, text="internal error")

    app = web.Application()
    for path, handler in {"/pipeline-review": article, "/moved-review": article, "/chart.png": image,
                          "/home": nav_only, "/huge": huge, "/error": error, "/slow": slow}.items():  # fmt: skip
        app.router.add_get(path, handler)
    return app


@contextmanager
def page_site() -> Iterator[tuple[str, Counter]]:
    """``(base_url, hits)`` of a running site; stopped on exit."""
    hits: Counter = Counter()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(_app(hits), shutdown_timeout=0.5)
    started = threading.Event()
    port: list[int] = []

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        started.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    started.wait(10)
    try:
        yield f"http://127.0.0.1:{port[0]}", hits
    finally:
        async def stop() -> None:
            await runner.cleanup()
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:  # a handler still asleep (``/slow``) ends here
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
