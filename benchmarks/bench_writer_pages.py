"""Benchmark: packages written about pages at URLs, end to end through the brand agent (in
process, no Ray): fetching each page from a local site (127.0.0.1), extracting it (trafilatura),
ingesting it (cleaning, language, dedupe, MiniLM passages), matching it to the brand's persona
and pillar (the scout), writing the package (composer,
grounding, every gate with MiniLM) and storing it. Then the same URLs again: a known URL is
reused without fetching, so the second pass shows what the page costs on top of the writing.

    .venv/bin/python benchmarks/bench_writer_pages.py

The 16 labelled pages of tests/data/writer/pages.json as HTML pages (a nav and a footer around
the article), the seed brand, LinkedIn and X × 2 variants. Prints JSON: packages per second of
each pass, p50/p95 latency, and the first pass's share of time in fetching, extraction,
ingestion, focusing (the scout's match), writing and storing.
"""

from __future__ import annotations

import asyncio
import html
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiohttp import web
from common import machine, percentile, timed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runtime import agent_pages
from runtime.commands import ChannelAsk, PageAsk, WritePackage
from runtime.local import LocalAgentGateway, LocalEngines
from storage.bootstrap import open_postgres
from storage.examples import load_seed_examples
from storage.memory import Embedder
from storage.objects import Channel
from tests.integration.conftest import insert_examples

PAGES = json.loads((ROOT / "tests" / "data" / "writer" / "pages.json").read_text())["pages"]
SPENT = {"fetching": 0.0, "extracting": 0.0, "ingesting": 0.0, "focusing": 0.0, "writing": 0.0, "storing": 0.0}


def page_html(page: dict) -> bytes:
    title = page["text"][: len(page["title"])]
    body = page["text"][len(page["title"]):].strip()
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in body.split("\n\n"))
    return (f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head><body>"
            f"<nav><a href='/'>Home</a> <a href='/pricing'>Pricing</a></nav><article><h1>{html.escape(title)}</h1>"
            f"{paragraphs}</article><footer>Copyright 2026</footer></body></html>").encode()  # fmt: skip



async def site() -> tuple[web.AppRunner, str]:
    app = web.Application()

    async def page(request: web.Request) -> web.Response:
        return web.Response(body=page_html(PAGES[int(request.match_info["i"])]), content_type="text/html")

    app.router.add_get("/pages/{i}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    return runner, f"http://127.0.0.1:{server._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]


async def main() -> dict:
    from storage.postgres import writing as store

    tmp = Path(tempfile.mkdtemp(prefix="kairo-bench-pages-"))
    handle = await open_postgres(database_url=None, data_dir=tmp, schema=f"bench_{uuid.uuid4().hex[:8]}", pool_max=4)
    runner, base = await site()
    db = handle.db
    try:
        e = load_seed_examples()
        await insert_examples(db, e)
        engines = LocalEngines(Embedder(num_threads=1))
        calls = engines.call

        async def call(kind: str, op: str, payload):
            name = {"extract_page": "extracting", "ingest": "ingesting", "scout": "focusing"}.get(op, "writing")
            return await timed(SPENT, name, calls)(kind, op, payload)

        engines.call = call  # type: ignore[method-assign]
        agent_pages.fetch_page = timed(SPENT, "fetching", agent_pages.fetch_page)
        store.save_written = timed(SPENT, "storing", store.save_written)
        gateway = LocalAgentGateway(db, engines)
        channels = [ChannelAsk(channel=Channel.LINKEDIN), ChannelAsk(channel=Channel.X)]
        await gateway.send(e.brand.id, WritePackage(topic=None, page=PageAsk(url=f"{base}/pages/0"),
                                                    channels=channels))  # warm-up: the model  # fmt: skip
        for key in SPENT:
            SPENT[key] = 0.0
        passes = {}
        for name in ("new_url", "known_url"):
            latencies = []
            start = time.perf_counter()
            for i in range(1, len(PAGES)):
                t = time.perf_counter()
                await gateway.send(e.brand.id, WritePackage(page=PageAsk(url=f"{base}/pages/{i}"), channels=channels,
                                                            seed=i))  # fmt: skip
                latencies.append(time.perf_counter() - t)
            total = time.perf_counter() - start
            passes[name] = {"packages": len(latencies), "packages_per_second": round(len(latencies) / total, 2),
                            "p50_ms": round(1000 * percentile(latencies, 0.5), 1),
                            "p95_ms": round(1000 * percentile(latencies, 0.95), 1)}  # fmt: skip
            if name == "new_url":
                passes[name]["share"] = {k: round(v / total, 3) for k, v in SPENT.items()}
        return {"machine": machine(), **passes}
    finally:
        await runner.cleanup()
        async with db.connection() as conn:
            await conn.execute(f"DROP SCHEMA {db.schema} CASCADE")
        await handle.close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
