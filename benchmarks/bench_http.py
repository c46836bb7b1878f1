"""Benchmark (a): GET /v1/brands/{id} through the real Serve proxy vs a trivial Serve endpoint.

    .venv/bin/python benchmarks/bench_http.py --seconds 15 --connections 32

Starts a local Kairo (Ray on loopback, embedded PostgreSQL, brand hosts, engines, API), deploys a
trivial deployment with the same replica options next to it, onboards one brand through the
API, then drives both endpoints with an aiohttp client (same run, same machine, alternating).
Prints JSON with req/s and p50/p99 for each and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from runtime.loopback import prepare_local_ray

prepare_local_ray()

import aiohttp  # noqa: E402
from fastapi import FastAPI  # noqa: E402
import ray  # noqa: E402
from common import machine, percentile  # noqa: E402
from ray import serve  # noqa: E402

from runtime.settings import Settings  # noqa: E402
from runtime.stack import init_ray, start_runtime, stop_runtime  # noqa: E402


@serve.deployment(name="Trivial", ray_actor_options={"num_cpus": 0}, max_ongoing_requests=64)
class Trivial:
    """The plainest Serve endpoint: no framework."""

    async def __call__(self, request) -> dict:
        return {"ok": True}


hello = FastAPI()


@hello.get("/")
async def hello_root() -> dict:
    return {"ok": True}


@serve.deployment(name="TrivialFastAPI", ray_actor_options={"num_cpus": 0}, max_ongoing_requests=64)
@serve.ingress(hello)
class TrivialFastAPI:
    """A trivial endpoint behind the same kind of ingress as Kairo's API (FastAPI)."""


async def load(url: str, headers: dict, seconds: float, connections: int) -> dict:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append((time.perf_counter() - start) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "errors": errors,
        "req_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(percentile(ordered, 0.99), 2),
    }


def mean_rps(runs: list[dict]) -> float:
    return statistics.mean(r["req_per_s"] for r in runs)


async def main(seconds: float, connections: int, rounds: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="kairo-bench-http-"))
    settings = Settings(data_dir=root, ray_namespace="kairo-bench-http", api_port=8799, log_level="WARNING")
    init_ray(settings, dashboard=False)
    info = await start_runtime(settings)
    try:
        serve.run(Trivial.bind(), name="trivial", route_prefix="/trivial")
        serve.run(TrivialFastAPI.bind(), name="trivial-fastapi", route_prefix="/trivial-fastapi")
        base = f"http://127.0.0.1:{settings.api_port}"
        auth = {"Authorization": f"Bearer {info.admin_key}"}
        async with aiohttp.ClientSession(headers=auth) as session:
            async with session.post(f"{base}/v1/brands", json={
                "name": "Bench Brand", "slug": "bench-brand", "primary_channels": ["linkedin"],
                "positioning": "Benchmarks, honestly.",
                "personas": [{"name": "Ops", "description": "Runs ops.", "pain_points": ["Noise"], "goals": ["Calm"]}],
                "pillars": [{"name": "Craft", "description": "How we work."}],
            }) as response:
                assert response.status == 201, await response.text()
                brand_id = (await response.json())["brand"]["id"]
        brand_url = f"{base}/v1/brands/{brand_id}"
        await load(brand_url, auth, 3, connections)  # warm-up
        await load(f"{base}/trivial", {}, 3, connections)
        await load(f"{base}/trivial-fastapi", {}, 3, connections)
        trivial, trivial_fastapi, brand = [], [], []
        for _ in range(rounds):
            trivial.append(await load(f"{base}/trivial", {}, seconds, connections))
            trivial_fastapi.append(await load(f"{base}/trivial-fastapi", {}, seconds, connections))
            brand.append(await load(brand_url, auth, seconds, connections))
        return {
            "machine": machine(),
            "connections": connections,
            "seconds_per_round": seconds,
            "trivial_plain": trivial,
            "trivial_fastapi": trivial_fastapi,
            "get_brand": brand,
            "ratio_vs_plain": round(mean_rps(brand) / mean_rps(trivial), 2),
            "ratio_vs_fastapi": round(mean_rps(brand) / mean_rps(trivial_fastapi), 2),
        }
    finally:
        await stop_runtime(info.settings)
        ray.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.seconds, args.connections, args.rounds)), indent=2))
