"""Pattern miner throughput: posts segmented + labelled and clustered per second at 1,000 and
10,000 posts, and the clustering's peak memory (it must not grow quadratically with posts).

Posts are variations of the labelled swipe file (tests/data/miner): paragraphs dropped or
borrowed from other posts, list lines cut, calls to action swapped between posts, so the number of distinct
structures grows with the number of posts as in a real swipe file.

    .venv/bin/python benchmarks/bench_miner.py [--sizes 1000 10000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.miner.labelling import BeatLabeller  # noqa: E402
from agents.miner.mining import MiningPass  # noqa: E402
from agents.miner.signature import signature_of  # noqa: E402
from benchmarks.common import machine  # noqa: E402
from storage.objects import PatternSourcePost  # noqa: E402

DATA = ROOT / "tests" / "data" / "miner"


def _variants(n: int, seed: int = 1) -> list[PatternSourcePost]:
    rows = [json.loads(line) for name in ("swipe_posts.jsonl", "new_posts.jsonl")
            for line in (DATA / name).read_text().splitlines()]
    rng = random.Random(seed)
    ctas = [r["raw_text"].split("\n\n")[-1] for r in rows]
    posts = []
    for i in range(n):
        row = rng.choice(rows)
        paragraphs = row["raw_text"].split("\n\n")
        body = [p for p in paragraphs[1:-1] if rng.random() > 0.15]
        body = ["\n".join(line for line in p.split("\n") if rng.random() > 0.2) or p for p in body]
        if rng.random() < 0.4:  # a paragraph borrowed from another post: structures drift apart
            other = rng.choice(rows)["raw_text"].split("\n\n")
            body.insert(rng.randrange(len(body) + 1), rng.choice(other[1:-1] or other))
        tail = rng.choice(ctas) if rng.random() < 0.3 else paragraphs[-1]
        text = "\n\n".join([paragraphs[0], *body, tail]) + f"\n\n#{i}"
        posts.append(PatternSourcePost(id=uuid4(), is_global=True, channel=row["channel"], raw_text=text,
                                       impressions=row["impressions"], engagements=row["engagements"],
                                       created_at=datetime(2025, 1, 1, tzinfo=UTC)))
    return posts


def run(n: int) -> dict:
    """Wall and CPU seconds of each phase (CPU is what counts on a shared machine), then the
    clustering's peak Python memory in a second, traced run."""
    posts = _variants(n)
    labeller = BeatLabeller()
    mining = MiningPass(labeller, threshold=0.3, canopy_radius=0.12, min_evidence=3, max_leaders=2000)
    w0, c0 = time.perf_counter(), time.process_time()
    signatures = [signature_of(b.kind for b in labeller.label(p.raw_text)) for p in posts]
    w1, c1 = time.perf_counter(), time.process_time()
    weights: dict = {}
    for sig in signatures:
        weights[sig] = weights.get(sig, 0) + 1
    clusters = mining.clusterer.fit(weights)
    w2, c2 = time.perf_counter(), time.process_time()
    outcome = mining.run(posts, [], brand_id=None, now=datetime(2026, 1, 1, tzinfo=UTC))
    w3, c3 = time.perf_counter(), time.process_time()
    tracemalloc.start()
    mining.clusterer.fit(weights)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"posts": n, "distinct": len(weights), "clusters": len(clusters),
            "templates": sum(c.action == "created" for c in outcome.changes),
            "label": (w1 - w0, c1 - c0), "cluster": (w2 - w1, c2 - c1), "mine": (w3 - w2, c3 - c2),
            "peak_mib": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    print(machine())
    print("| posts | distinct signatures | clusters / templates | segment+label (CPU) | cluster (CPU) "
          "| mine end to end (CPU) | clustering peak memory |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for n in args.sizes:
        r = run(n)
        lw, lc = r["label"]
        cw, cc = r["cluster"]
        mw, mc = r["mine"]
        print(f"| {n:,} | {r['distinct']:,} | {r['clusters']} / {r['templates']} "
              f"| {lc:.2f} s, {n / lc:,.0f} posts/s | {cc:.2f} s | {mc:.2f} s, {n / mc:,.0f} posts/s "
              f"| {r['peak_mib']:.1f} MiB |")


if __name__ == "__main__":
    main()
