"""Benchmark (b) and (c): brand agent activation, resident agents per GiB, no-op round trip.

    .venv/bin/python benchmarks/bench_agents.py --brands 10000

Starts an embedded PostgreSQL and a local Ray on loopback, bulk-onboards N brands, activates
every agent through the RayAgentGateway on ONE BrandHost (so the host's memory growth is the
agents' own), then measures the round trip of a no-op command to a warm agent. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from runtime.loopback import prepare_local_ray  # noqa: E402

prepare_local_ray()

import ray  # noqa: E402
from common import machine, percentile  # noqa: E402

from runtime.commands import GetStatus, Noop  # noqa: E402
from runtime.hosts import RayAgentGateway  # noqa: E402
from runtime.settings import Settings  # noqa: E402
from storage.bootstrap import open_postgres  # noqa: E402
from storage.objects import (  # noqa: E402
    Brand, BrandBrainSnapshot, BrandPreferences, BrandRuntimeContext, Org, Persona, Pillar, User,
)
from storage.postgres import repositories as repo  # noqa: E402
from agents.brand_brain.defaults import DEFAULT_SCORING_WEIGHTS, default_override  # noqa: E402


def model_free_engines(settings):
    """Engines in the host process with a model-free embedder: the benchmark measures the agents,
    not MiniLM."""
    from runtime.local import LocalEngines
    from storage.memory import HashingEmbedder

    return LocalEngines(HashingEmbedder())


async def bulk_onboard(db, count: int) -> list[uuid.UUID]:
    org = Org(name="Bench", slug="bench")
    user = User(org_id=org.id, email="bench@example.com", role="admin")
    async with db.transaction() as conn:
        await repo.orgs.insert(conn, org)
        await repo.users.insert(conn, user)
    ids = []
    for start in range(0, count, 500):
        brands, personas, pillars, snapshots, contexts, prefs = [], [], [], [], [], []
        for i in range(start, min(count, start + 500)):
            b = Brand(org_id=org.id, name=f"Brand {i}", slug=f"brand-{i}", owner_user_ids=[user.id],
                      primary_channels=["linkedin", "x"])
            p = Persona(brand_id=b.id, name="Lead", description="Leads.", pain_points=["Noise"], goals=["Focus"])
            pl = Pillar(brand_id=b.id, name="Craft", description="How we work.")
            s = BrandBrainSnapshot(brand_id=b.id, version=1, positioning=f"Positioning of brand {i}.",
                                   tone_descriptors=["direct"], persona_ids=[p.id], pillar_ids=[pl.id])
            c = BrandRuntimeContext(brand_id=b.id, brand_brain_snapshot_id=s.id,
                                    channel_overrides={ch: default_override(ch) for ch in b.primary_channels})
            brands.append(b); personas.append(p); pillars.append(pl); snapshots.append(s); contexts.append(c)
            prefs.append(BrandPreferences(brand_id=b.id, opportunity_scoring_weights=DEFAULT_SCORING_WEIGHTS))
            ids.append(b.id)
        async with db.transaction() as conn:
            for rep, objs in ((repo.brands, brands), (repo.personas, personas), (repo.pillars, pillars),
                              (repo.snapshots, snapshots), (repo.runtime_contexts, contexts),
                              (repo.brand_preferences, prefs)):
                await rep.insert_many(conn, objs)
    return ids


async def main(count: int, concurrency: int, noops: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="kairo-bench-"))
    settings = Settings(data_dir=root, ray_namespace="kairo-bench", brand_hosts=1, db_pool_max=4,
                        agent_idle_seconds=86400)
    pg = await open_postgres(database_url=None, data_dir=root)
    settings = settings.model_copy(update={"database_url": pg.embedded.dsn})
    ray.init(include_dashboard=False, namespace="kairo-bench", num_cpus=2, log_to_driver=False,
             _node_ip_address="127.0.0.1")
    try:
        t = time.perf_counter()
        ids = await bulk_onboard(pg.db, count)
        onboard_s = time.perf_counter() - t
        gateway = RayAgentGateway(settings, engines_factory=model_free_engines)
        host = gateway.host(gateway.host_name(ids[0]))
        await host.ready.remote()
        await gateway.send(ids[0], Noop())  # warm the path (pool, imports) with one brand
        base = await host.stats.remote()
        latencies: list[float] = []
        sem = asyncio.Semaphore(concurrency)

        async def activate(brand_id):
            async with sem:
                start = time.perf_counter()
                await gateway.send(brand_id, GetStatus())
                latencies.append((time.perf_counter() - start) * 1000)

        # Latency alone: one activation at a time over the first tenth of the brands.
        serial = ids[1 : 1 + count // 10]
        serial_latencies: list[float] = []
        for brand_id in serial:
            start = time.perf_counter()
            await gateway.send(brand_id, GetStatus())
            serial_latencies.append((time.perf_counter() - start) * 1000)
        # Throughput: the rest with `concurrency` activations in flight.
        t = time.perf_counter()
        await asyncio.gather(*(activate(b) for b in ids[1 + len(serial):]))
        activate_s = time.perf_counter() - t
        after = await host.stats.remote()
        grown_gib = (after["rss_kib"] - base["rss_kib"]) / (1024 * 1024)
        warm = ids[1]
        rtts = []
        for _ in range(noops):
            start = time.perf_counter()
            await gateway.send(warm, Noop())
            rtts.append((time.perf_counter() - start) * 1000)
        t = time.perf_counter()
        await asyncio.gather(*(gateway.send(warm, Noop()) for _ in range(noops)))
        burst_s = time.perf_counter() - t
        ray.kill(host, no_restart=True)
        return {
            "machine": machine(),
            "brands": count,
            "onboard_seconds": round(onboard_s, 1),
            "activation_one_at_a_time": {
                "brands": len(serial_latencies),
                "p50_ms": round(statistics.median(serial_latencies), 2),
                "p99_ms": round(percentile(serial_latencies, 0.99), 2),
            },
            "activation_concurrent": {
                "concurrency": concurrency,
                "p50_ms": round(statistics.median(latencies), 2),
                "p99_ms": round(percentile(latencies, 0.99), 2),
                "activations_per_s": round(len(latencies) / activate_s, 1),
            },
            "host_rss_mib": {"before": base["rss_kib"] // 1024, "after": after["rss_kib"] // 1024},
            "active_agents": after["active_agents"],
            "agents_per_gib": round((count - 1) / grown_gib) if grown_gib > 0 else None,
            "noop_round_trip": {
                "sequential_p50_ms": round(statistics.median(rtts), 3),
                "sequential_p99_ms": round(percentile(rtts, 0.99), 3),
                "concurrent_per_s": round(noops / burst_s, 1),
            },
        }
    finally:
        ray.shutdown()
        await pg.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--noops", type=int, default=2000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.brands, args.concurrency, args.noops)), indent=2))
