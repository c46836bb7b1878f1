"""Hook library throughput: hooks selected from 1,000 and 10,000 measured posts, embedded with
MiniLM (one torch thread, as in the miner pool) into embedded Chroma, then topic searches of a
brand (its own space and the global one) with their latency.

Posts are the same variations of the labelled swipe file as ``bench_miner.py``; the engine does
the work through its own operations (``index_hooks``, ``search_hooks``), as the pool does.

    .venv/bin/python benchmarks/bench_miner_hooks.py [--sizes 1000 10000] [--searches 50]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.engines.miner import HookSearchInput, IndexHooksInput, PatternMiner
from agents.miner.hooks import open_hook_library
from benchmarks.bench_miner import _variants
from benchmarks.common import machine, percentile

TOPICS = [
    "pricing a freelance design service", "hiring the first engineer", "why our launch flopped",
    "lessons from losing a big client", "growing a newsletter from zero", "remote team rituals",
    "cutting churn in a SaaS product", "what investors ask first", "writing better cold emails",
    "burnout as a founder",
]


async def run(n: int, searches: int, root: Path) -> dict:
    posts = _variants(n)
    brand_id = uuid4()
    own = [p.model_copy(update={"id": uuid4(), "brand_id": brand_id, "is_global": False}) for p in posts[: n // 10]]
    miner = PatternMiner(hook_library=lambda: open_hook_library(path=root / f"hooks-{n}", num_threads=1))
    await miner.search_hooks(HookSearchInput(topic="warm up"))  # the model and the store, opened once
    t0, c0 = time.perf_counter(), time.process_time()
    indexed = await miner.index_hooks(IndexHooksInput(posts=posts))
    indexed_own = await miner.index_hooks(IndexHooksInput(brand_id=brand_id, posts=own))
    t1, c1 = time.perf_counter(), time.process_time()
    again = await miner.index_hooks(IndexHooksInput(posts=posts))  # nothing new: no embedding
    t2 = time.perf_counter()
    latencies = []
    for i in range(searches):
        s0 = time.perf_counter()
        await miner.search_hooks(HookSearchInput(topic=f"{TOPICS[i % len(TOPICS)]} ({i})", brand_id=brand_id, k=10))
        latencies.append(time.perf_counter() - s0)
    added = indexed.added + indexed_own.added
    return {"posts": n, "hooks": added, "index_wall": t1 - t0, "index_cpu": c1 - c0, "again_new": again.added,
            "again_wall": t2 - t1, "p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95)}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--searches", type=int, default=50)
    args = parser.parse_args()
    print(machine())
    print("| posts | hooks indexed | index (wall / CPU) | re-index, nothing new | search k=10, brand + global (p50 / p95) |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            r = await run(n, args.searches, Path(tmp))
            print(f"| {n:,} | {r['hooks']:,} | {r['index_wall']:.1f} s / {r['index_cpu']:.1f} s, "
                  f"{r['hooks'] / r['index_wall']:,.0f} hooks/s | {r['again_wall']:.2f} s ({r['again_new']} new) "
                  f"| {r['p50'] * 1000:.0f} / {r['p95'] * 1000:.0f} ms |")


if __name__ == "__main__":
    asyncio.run(main())
