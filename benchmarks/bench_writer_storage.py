"""Benchmark: a package written end to end through the brand agent (in process, no Ray) -
reading what the write needs from PostgreSQL, the writer engine (composer, grounding, every
gate with the real MiniLM embedder), and storing the package whole (argument, plans, variants,
attempts, quality reports, pattern usages, the card) in one transaction.

    .venv/bin/python benchmarks/bench_writer_storage.py --packages 20

An embedded PostgreSQL in a temp dir (or --database-url), the seed brand, one card per package
on a story of the writer's labelled set (LinkedIn and X, 2 variants each), a new seed per package. Prints JSON:
packages per second and the share of time in reading, writing (the engine) and storing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import machine, percentile, timed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runtime import agent_writing
from runtime.commands import ChannelAsk, WritePackage
from runtime.local import LocalAgentGateway, LocalEngines
from storage.bootstrap import open_postgres
from storage.examples import load_seed_examples
from storage.memory import Embedder
from storage.objects import (
    Channel,
    GlobalSourceDoc,
    OpportunityCard,
    OpportunityType,
    SourceDocType,
    SourceRef,
)
from storage.postgres import repositories as repo
from storage.postgres import writing as store
from tests.data.writer.corpus import requests
from tests.integration.conftest import insert_examples

SPENT = {"reading": 0.0, "writing": 0.0, "storing": 0.0}



async def main(packages: int, database_url: str | None) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="kairo-bench-writer-"))
    handle = await open_postgres(database_url=database_url, data_dir=tmp, schema=f"bench_{uuid.uuid4().hex[:8]}",
                                 pool_max=4)  # fmt: skip
    db = handle.db
    try:
        e = load_seed_examples()
        await insert_examples(db, e)
        docs, cards = [], []
        for req in requests()[: packages + 1]:  # the writer's labelled cards: a story each
            doc = GlobalSourceDoc(source_type=SourceDocType.ARTICLE, title=req.sources[0].title, language="en",
                                  text=req.sources[0].text)  # fmt: skip
            docs.append(doc)
            cards.append(OpportunityCard(brand_id=e.brand.id, persona_id=e.opportunity_cards[0].persona_id,
                                         pillar_id=e.opportunity_cards[0].pillar_id, score=80,
                                         source_refs=[SourceRef(global_source_doc_id=doc.id, relevance_note="story")],
                                         angle_summary=req.card.angle_summary, opportunity_type=OpportunityType.TREND))  # fmt: skip
        async with db.transaction() as conn:
            await repo.source_docs.insert_many(conn, docs)
            await repo.opportunity_cards.insert_many(conn, cards)
        engines = LocalEngines(Embedder(num_threads=1))
        engines.call = timed(SPENT, "writing", engines.call)  # type: ignore[method-assign]
        agent_writing.write_request = timed(SPENT, "reading", agent_writing.write_request)
        store.save_written = timed(SPENT, "storing", store.save_written)
        gateway = LocalAgentGateway(db, engines)
        channels = [ChannelAsk(channel=Channel.LINKEDIN), ChannelAsk(channel=Channel.X)]
        await gateway.send(e.brand.id, WritePackage(card_id=cards[0].id, channels=channels))  # warm-up: the model
        for key in SPENT:
            SPENT[key] = 0.0
        latencies, variants, passed = [], 0, 0
        start = time.perf_counter()
        for i, card in enumerate(cards[1:], start=1):
            t = time.perf_counter()
            view = await gateway.send(e.brand.id, WritePackage(card_id=card.id, channels=channels, seed=i))
            latencies.append(time.perf_counter() - t)
            variants += len(view.variants)
            passed += sum(v.variant.status == "draft" for v in view.variants)
        total = time.perf_counter() - start
        rest = total - sum(SPENT.values())
        return {
            "machine": machine(), "packages": len(latencies), "variants": variants,
            "packages_per_second": round(len(latencies) / total, 2),
            "p50_ms": round(1000 * percentile(latencies, 0.5), 1), "p95_ms": round(1000 * percentile(latencies, 0.95), 1),
            "passed": round(passed / max(variants, 1), 3),
            "share": {k: round(v / total, 3) for k, v in {**SPENT, "agent_and_views": rest}.items()},
        }  # fmt: skip
    finally:
        async with db.connection() as conn:
            await conn.execute(f"DROP SCHEMA {db.schema} CASCADE")
        await handle.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: an embedded PostgreSQL in a temp dir")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.packages, args.database_url)), indent=2))
