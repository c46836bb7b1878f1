"""Benchmark (d), where a memory search's time goes: the same search at each step of the path.

    .venv/bin/python benchmarks/bench_memory_path.py                 # steps + CPU per process
    .venv/bin/python benchmarks/bench_memory_path.py --py-spy 12     # and 12 s of py-spy per process

Starts a local Kairo (Ray on loopback, embedded PostgreSQL, memory service, API) plus a trivial
Serve deployment on the same proxy, onboards one brand and remembers ``--fragments`` fragments
through ``POST .../memory:batch``. Then, one client, sequential requests, each step with its own
never-searched texts (no query-vector cache hit), steps interleaved over ``--rounds`` rounds so
the machine's load hits every step alike:

* ``raw``: ``Embedder.embed_array`` of the query + ``collection.query`` top-5 in this process
  (a copy of the same fragments in a Chroma of its own);
* ``actor``: ``RayMemoryClient.search`` from this driver by an actor call (memory service: embed,
  Chroma, read-back from PostgreSQL); ``socket``: the same over the service's Unix socket;
* ``api``: ``GET /v1/brands/{id}/memory/search?k=5`` (Serve proxy -> API replica -> actor);
* ``api_cached``: the same texts again (the query-vector cache: the path without the model);
* floors: ``GET /trivial`` (a plain Serve deployment: the proxy and a replica, no work) and
  ``GET /v1/brands/{id}`` (the API's auth + one SQL query).

CPU per request of each process comes from ``/proc/<pid>/stat`` around the ``api`` step, minus
what the process burns when idle (measured for as long just before: Serve's and Ray's background
loops). With ``--py-spy S``, py-spy samples the proxy, the replica and the memory service for S
seconds of searches and the heaviest frames are printed. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from runtime.loopback import prepare_local_ray

prepare_local_ray()

from bench_memory import (  # noqa: E402  (it also prepares Ray: before ray is imported)
    BATCH, Api, corpus, cpu_snapshot, kairo_processes, own_local_ray, raw_collection, rss_mib, summary,
)  # fmt: skip
import aiohttp  # noqa: E402
import chromadb  # noqa: E402
import ray  # noqa: E402
from common import machine  # noqa: E402
from ray import serve  # noqa: E402

from runtime.memory_service import RayMemoryClient, get_memory_client  # noqa: E402
from runtime.settings import Settings  # noqa: E402
from runtime.stack import start_runtime, stop_runtime  # noqa: E402
from storage.memory import Embedder  # noqa: E402


@serve.deployment(name="Trivial", ray_actor_options={"num_cpus": 0}, max_ongoing_requests=64)
class Trivial:
    """The plainest Serve endpoint: the proxy and one replica hop, no framework, no work."""

    async def __call__(self, request: Any) -> dict:
        return {"ok": True}


def raw_step(collection: Any, embedder: Embedder, queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        started = time.perf_counter()
        collection.query(query_embeddings=embedder.embed_array([q]), n_results=5, include=["distances"])
        out.append((time.perf_counter() - started) * 1000)
    return out


async def actor_step(client: Any, brand_id: Any, queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        started = time.perf_counter()
        await client.search(brand_id, q, 5)
        out.append((time.perf_counter() - started) * 1000)
    return out


async def get_step(session: aiohttp.ClientSession, url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        async with session.get(url) as response:
            assert response.status == 200, await response.text()
            await response.read()
        out.append((time.perf_counter() - started) * 1000)
    return out


def idle_rates(groups: dict[str, list[int]], seconds: float) -> dict[str, float]:
    """CPU seconds per second each process group burns with no request in flight."""
    before = cpu_snapshot(groups)
    time.sleep(seconds)
    after = cpu_snapshot(groups)
    return {k: (after[k] - before[k]) / seconds for k in before}


def cpu_net(before: dict[str, float], after: dict[str, float], idle: dict[str, float],
            seconds: float, requests: int) -> dict[str, float]:  # fmt: skip
    per = {k: round(max(0.0, after[k] - before[k] - idle.get(k, 0.0) * seconds) * 1000 / requests, 2) for k in before}
    per["everything"] = round(sum(per.values()), 2)
    return per


def py_spy(pid: int, seconds: float, out: Path) -> subprocess.Popen:
    exe = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "py-spy"
    return subprocess.Popen(
        [str(exe), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
         "--format", "raw", "--nonblocking", "--output", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def heaviest(raw: Path, top: int = 25) -> dict[str, Any]:
    """Inclusive share of samples per frame (function + file:line stripped to the file)."""
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    if not raw.exists():
        return {"samples": 0, "frames": []}
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        seen = set()
        for frame in stack.split(";"):
            name, _, where = frame.partition(" (")
            key = f"{name} ({where.split(':')[0].rsplit('/', 1)[-1]}"
            if key not in seen:
                seen.add(key)
                inclusive[key] += n
    return {"samples": total,
            "frames": [(k, round(100 * v / total, 1)) for k, v in inclusive.most_common(top)] if total else []}  # fmt: skip


async def main(args: argparse.Namespace) -> dict[str, Any]:
    os.environ["RAY_worker_niceness"] = str(args.niceness)
    root = Path(tempfile.mkdtemp(prefix="kairo-bench-memory-path-"))
    settings = Settings(data_dir=root, ray_namespace="kairo-bench-memory-path", api_port=8796, log_level="WARNING",
                        memory_socket=not args.no_socket)  # fmt: skip
    own_local_ray(settings)
    info = await start_runtime(settings)
    settings = info.settings
    result: dict[str, Any] = {"machine": machine(), "load_average_at_start": os.getloadavg(),
                              "fragments": args.fragments, "ray_worker_niceness": args.niceness,
                              "memory_socket": not args.no_socket}  # fmt: skip
    embedder = Embedder(num_threads=settings.embedding_threads)
    embedder.load()
    raw_client = chromadb.PersistentClient(path=str(root / "raw-chroma"),
                                           settings=chromadb.config.Settings(anonymized_telemetry=False))  # fmt: skip
    try:
        serve.run(Trivial.bind(), name="trivial", route_prefix="/trivial")
        base = f"http://127.0.0.1:{settings.api_port}"
        auth = {"Authorization": f"Bearer {info.admin_key}"}
        async with aiohttp.ClientSession(headers=auth) as session:
            async with session.post(f"{base}/v1/brands", json={
                "name": "Bench Brand", "slug": "bench-memory-path", "primary_channels": ["linkedin"],
                "positioning": "Benchmarks, honestly.",
                "personas": [{"name": "Ops", "description": "Runs ops.", "pain_points": ["Noise"], "goals": ["Calm"]}],
                "pillars": [{"name": "Craft", "description": "How we work."}],
            }) as response:  # fmt: skip
                assert response.status == 201, await response.text()
                brand_id = (await response.json())["brand"]["id"]
            api = Api(session, base)
            texts = corpus(args.fragments, seed=1)
            await api.remember(brand_id, texts)
            collection = raw_collection(raw_client, "raw", embedder)
            for start in range(0, len(texts), BATCH):
                chunk = texts[start:start + BATCH]
                collection.add(ids=[f"r{start + i}" for i in range(len(chunk))],
                               embeddings=embedder.embed_array(chunk), documents=chunk)  # fmt: skip
            client = RayMemoryClient(get_memory_client(settings).handle)  # over the service's Unix socket
            by_actor = RayMemoryClient(client.handle, use_socket=False)
            import uuid as _uuid

            brand_uuid = _uuid.UUID(brand_id)
            known = set(texts)
            pool = [q for q in corpus(args.rounds * args.per_step * 4 + 50, seed=2) if q not in known]
            # warm every step once (replica handles, the trivial replica, the actor's connections)
            await api.search(brand_id, pool[:5])
            await actor_step(client, brand_id=brand_uuid, queries=pool[5:10])
            await actor_step(by_actor, brand_id=brand_uuid, queries=pool[10:15])
            await get_step(session, f"{base}/trivial", 5)
            await get_step(session, f"{base}/v1/brands/{brand_id}", 5)
            pool = pool[15:]
            steps: dict[str, list[float]] = collections.defaultdict(list)
            groups = kairo_processes(root)
            result["processes"] = {k: len(v) for k, v in groups.items()}
            cpu: dict[str, list[dict[str, float]]] = collections.defaultdict(list)
            raw_cpu: list[float] = []
            loads = []
            for r in range(args.rounds):
                raw_q, actor_q, socket_q, api_q = (
                    pool[(4 * r + i) * args.per_step:(4 * r + i + 1) * args.per_step] for i in range(4)
                )
                cpu_started = time.process_time()
                steps["raw"] += raw_step(collection, embedder, raw_q)
                raw_cpu.append((time.process_time() - cpu_started) * 1000 / len(raw_q))
                idle = idle_rates(groups, 3.0)
                plan = [
                    ("actor", lambda: actor_step(by_actor, brand_uuid, actor_q)),
                    ("socket", lambda: actor_step(client, brand_uuid, socket_q)),
                    ("api", lambda: api.search(brand_id, api_q)),
                    ("api_cached", lambda: api.search(brand_id, api_q)),
                    ("trivial_get", lambda: get_step(session, f"{base}/trivial", args.per_step)),
                    ("get_brand", lambda: get_step(session, f"{base}/v1/brands/{brand_id}", args.per_step)),
                ]
                for name, run in plan:
                    before, started = cpu_snapshot(groups), time.perf_counter()
                    latencies = await run()
                    elapsed = time.perf_counter() - started
                    steps[name] += latencies
                    cpu[name].append(cpu_net(before, cpu_snapshot(groups), idle, elapsed, len(latencies)))
                loads.append(round(os.getloadavg()[0], 2))
            result["load_average_per_round"] = loads
            result["steps"] = {k: summary(v) for k, v in steps.items()}
            result["ratio_api_to_raw_p50"] = round(result["steps"]["api"]["p50_ms"] / result["steps"]["raw"]["p50_ms"], 2)
            result["cpu_ms_per_request_median_of_rounds"] = {
                name: {k: round(statistics.median(c[k] for c in rounds), 2) for k in rounds[0]}
                for name, rounds in cpu.items()
            }  # fmt: skip
            result["raw_cpu_ms_per_request_median_of_rounds"] = round(statistics.median(raw_cpu), 2)
            if groups["memory_service"]:
                result["memory_service_rss_mib"] = rss_mib(groups["memory_service"][0])
            if args.py_spy:
                spies = {}
                for name in ("proxy", "api_replica", "memory_service"):
                    for pid in groups[name][:1]:
                        out = Path(args.spy_dir or root) / f"{name}.txt"
                        spies[name] = (py_spy(pid, args.py_spy, out), out)
                deadline = time.perf_counter() + args.py_spy + 1
                extra = corpus(4000, seed=9)
                i = 0
                while time.perf_counter() < deadline:
                    await api.search(brand_id, extra[i:i + 10])
                    i += 10
                profiles = {}
                for name, (proc, out) in spies.items():
                    proc.wait(timeout=60)
                    profiles[name] = heaviest(out)
                result["py_spy"] = profiles
    finally:
        raw_client.close()
        result["load_average_at_end"] = os.getloadavg()
        await stop_runtime(settings)
        ray.shutdown()
        shutil.rmtree(root, ignore_errors=True)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--fragments", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--per-step", type=int, default=50, help="requests per step and round")
    parser.add_argument("--py-spy", type=float, default=0, help="seconds of py-spy per process (0: none)")
    parser.add_argument("--no-socket", action="store_true", help="searches by actor call only (the path before the socket)")
    parser.add_argument("--spy-dir", default="", help="keep py-spy's raw stacks here (default: deleted)")
    parser.add_argument("--niceness", type=int, default=0, help="Ray worker niceness (Ray's default is 15)")
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
