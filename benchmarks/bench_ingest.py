"""Benchmark: documents ingested (cleaned, language-tagged, deduplicated, embedded) per second
against the raw model's ``encode`` of the same texts, in the same run.

    .venv/bin/python benchmarks/bench_ingest.py --docs 300 --rounds 3

Documents are built with a fixed seed from the sentences of the labelled scout set (distinct
texts, realistic length), plus 10 % exact copies under other URLs and 5 % with a tracking
parameter on a known URL, so dedupe has real work. Per round: the raw side encodes, with the
same model and thread count, exactly the passages the pipeline embeds (``vs_same_texts``), and
also one text per document (``vs_whole_docs``, the model truncates long ones). The model is
loaded and lingua built before timing. Prints JSON; the ratio is ingest docs/s over raw docs/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import machine  # noqa: E402

from agents.ingest.language import detector  # noqa: E402
from agents.ingest.models import IngestInput, RawItem  # noqa: E402
from agents.ingest.passages import sentences  # noqa: E402
from agents.ingest.pipeline import Ingestor, known_from_prepared  # noqa: E402
from storage.memory import Embedder  # noqa: E402
from storage.memory.embeddings import BATCH_SIZE, _load_model  # noqa: E402


def corpus(n: int, seed: int = 7) -> list[RawItem]:
    pool: list[str] = []
    for path in sorted((ROOT / "tests" / "data" / "scout").glob("docs_*.json")):
        for doc in json.loads(path.read_text()):
            if doc["language"] == "en":
                pool.extend(sentences(doc["text"]))
    rng = random.Random(seed)
    items = []
    for i in range(n):
        chosen = rng.sample(pool, rng.randint(4, 9))
        items.append(RawItem(text=" ".join(chosen), title=f"Story {i}", source_url=f"https://news{i % 17}.example/s/{i}"))
    for j in range(n // 10):  # exact copies elsewhere
        src = items[rng.randrange(n)]
        items.append(RawItem(text=src.text, source_url=f"https://mirror.example/{j}"))
    for j in range(n // 20):  # same URL with tracking
        src = items[rng.randrange(n)]
        items.append(RawItem(text=src.text + " Updated.", source_url=src.source_url + "?utm_source=x"))
    rng.shuffle(items)
    return items


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    items = corpus(args.docs)
    embedder = Embedder(num_threads=1)
    embedder.load()
    detector()
    ingestor = Ingestor(embedder)
    model = _load_model()
    await ingestor.ingest(IngestInput(items=items[:20]))  # warm-up
    rounds = []
    chunk = 50
    for round_no in range(args.rounds):
        # Interleaved in chunks (ABAB, order alternating) so machine load drifts hit both sides.
        ingest_s = raw_same_s = raw_whole_s = 0.0
        kept_total = merged = passages_total = 0
        known: list = []
        for c, start in enumerate(range(0, len(items), chunk)):
            part = items[start : start + chunk]

            async def run_ingest():
                t = time.perf_counter()
                res = await ingestor.ingest(IngestInput(items=part, known=known))
                return res, time.perf_counter() - t

            def run_raw(texts):
                t = time.perf_counter()
                if texts:
                    model.encode(texts, batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True,
                                 show_progress_bar=False)  # fmt: skip
                return time.perf_counter() - t

            if (c + round_no) % 2 == 0:
                result, took = await run_ingest()
                texts = [t for p in result.docs for t in p.passages]
                same = run_raw(texts)
            else:
                # The raw side needs the same texts: prepare them without timing (passages of new docs).
                result, took = await run_ingest()
                texts = [t for p in result.docs for t in p.passages]
                same = run_raw(texts)
                result, took = await run_ingest()  # the timed ingest runs after the raw one here
            ingest_s += took
            raw_same_s += same
            raw_whole_s += run_raw([p.doc.text for p in result.docs])
            known.extend(known_from_prepared(result.docs))
            kept_total += len(result.docs)
            merged += len(result.merged)
            passages_total += len(texts)
        rounds.append({
            "items": len(items), "docs_kept": kept_total, "merged": merged, "passages": passages_total,
            "ingest_items_per_s": len(items) / ingest_s, "ingest_docs_per_s": kept_total / ingest_s,
            "raw_same_texts_docs_per_s": kept_total / raw_same_s, "raw_whole_docs_per_s": kept_total / raw_whole_s,
            "vs_same_texts": raw_same_s / ingest_s, "vs_whole_docs": raw_whole_s / ingest_s,
        })  # fmt: skip
    summary = {k: round(statistics.median(r[k] for r in rounds), 3) for k in rounds[0]}
    print(json.dumps({"machine": machine(), "rounds": args.rounds, "median": summary,
                      "per_round": [{k: round(v, 3) for k, v in r.items()} for r in rounds]}, indent=1))  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
