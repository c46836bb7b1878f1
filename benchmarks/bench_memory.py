"""Benchmark (d): brand memory through the API vs its raw parts (MiniLM + Chroma), in one run.

    .venv/bin/python benchmarks/bench_memory.py                      # 1k, 100k, 1,000 brands
    .venv/bin/python benchmarks/bench_memory.py --big 0 --brands 0   # the 1,000-fragment part only

Starts a local Kairo (Ray on loopback, embedded PostgreSQL, memory service, API) in a temporary
directory, onboards one brand through the API, and measures, sequentially (one client):

* **remember**: fragments/s of ``POST .../memory:batch`` with 64 fragments per request, against
  the raw parts on the same texts in this process: ``Embedder.embed_array`` of 64 texts (same
  thread count as the service) + ``collection.add`` of the precomputed vectors;
* **search**: p50/p99 of ``GET .../memory/search?k=5`` for distinct query texts (no cache hit),
  against raw ``embed_array`` of the query + ``collection.query`` top-5; then the same queries
  again (answered from the service's query-vector cache);
* CPU per request of each process (proxy, API replica, memory service, PostgreSQL, this client),
  from ``/proc/<pid>/stat`` before and after a phase;
* the same at ~100,000 fragments in one brand: the bulk is written while the memory service is
  restarted (it opens its store lazily), straight into its Chroma files and PostgreSQL, with
  random unit vectors (embedding 100k texts twice would take ~30 min here); query texts are real
  and embedded by the model, so only the index part is synthetic;
* 1,000 brands of 100 fragments each (built the same way): search latency on first touch and
  warm as more collections are open, and the memory service's RSS.

Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from runtime.loopback import prepare_local_ray

prepare_local_ray()

import aiohttp  # noqa: E402
import chromadb  # noqa: E402
import numpy as np  # noqa: E402
import ray  # noqa: E402
from common import machine, percentile  # noqa: E402

from runtime import names  # noqa: E402
from runtime.database import open_database  # noqa: E402
from runtime.settings import Settings  # noqa: E402
from runtime.stack import start_runtime, stop_runtime  # noqa: E402
from storage.memory import Embedder, KairoEmbeddingFunction, collection_name  # noqa: E402
from storage.memory.vectors import COLLECTION_CONFIGURATION  # noqa: E402
from storage.objects import BrandMemoryFragment  # noqa: E402
from storage.postgres import repositories as repo  # noqa: E402

BATCH = 64

# -- a corpus of ~18-word fragments (benchmark text, not labelled data) ------------------------

_OPENERS = ["Most teams", "Our customers", "Every marketing lead we met", "The boards we report to",
            "Small agencies", "Founders at seed stage", "Revenue teams", "Our own sales desk",
            "The analysts on our team", "Half the CMOs we surveyed", "Procurement", "New hires"]
_VERBS = ["still judge campaigns by", "quietly stopped trusting", "keep asking us about",
          "spend the first week arguing over", "learned the hard way about", "rarely question",
          "over-invest in", "forget to measure", "now plan the quarter around", "discount"]
_OBJECTS = ["last-touch attribution", "pipeline by stage", "cost per opportunity", "brand search volume",
            "webinar sign-ups", "self-reported attribution", "win rates by segment", "demo no-shows",
            "content that never ranks", "the weekly dashboard", "paid social reach", "renewal risk"]
_TAILS = ["because nobody owns the definition.", "until the CFO asks one simple question.",
          "and the numbers drift every month.", "which is why we rebuilt our reporting.",
          "even when the data says otherwise.", "so the next budget review goes badly.",
          "while the real signal sits in the CRM.", "and then wonder why deals stall in March."]


def corpus(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        text = (f"{rng.choice(_OPENERS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} "
                f"{rng.choice(_TAILS)} ({rng.randrange(10_000)})")  # fmt: skip
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


# -- processes and their CPU -------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def kairo_processes(data_dir: Path) -> dict[str, list[int]]:
    """This run's processes by role: only workers of this driver's own raylet (another Ray on the
    machine runs actors of the same names) and the PostgreSQL serving ``data_dir``."""
    groups: dict[str, list[int]] = {"proxy": [], "api_replica": [], "trivial_replica": [], "memory_service": [],
                                    "postgres": []}  # fmt: skip
    raylets = [p for p in _children(os.getpid()) if "raylet/raylet" in _cmdline(p)]
    workers = {w for r in raylets for w in _children(r)}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        cmd = _cmdline(pid)
        if "postgres" in cmd and str(data_dir) in cmd:
            groups["postgres"].append(pid)
        elif pid not in workers:
            continue
        elif cmd.startswith("ray::ProxyActor"):
            groups["proxy"].append(pid)
        elif cmd.startswith("ray::ServeReplica:kairo") or "KairoApi" in cmd.split(" ")[0]:
            groups["api_replica"].append(pid)
        elif cmd.startswith("ray::ServeReplica:trivial"):
            groups["trivial_replica"].append(pid)
        elif cmd.startswith("ray::MemoryService"):
            groups["memory_service"].append(pid)
    groups["postgres"] = _with_children(groups["postgres"])
    groups["client"] = [os.getpid()]
    return groups


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _children(pid: int) -> list[int]:
    return [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit() and _parent(int(e.name)) == pid]


def _with_children(pids: list[int]) -> list[int]:
    found = set(pids)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _parent(int(entry.name)) in found:
            found.add(int(entry.name))
    return sorted(found)


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(_cpu_seconds(p) for p in pids) for name, pids in groups.items()}


def cpu_per_request(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
    per = {k: round((after[k] - before[k]) * 1000 / requests, 2) for k in before}
    per["everything"] = round(sum(per.values()), 2)
    return per


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def summary(latencies_ms: list[float]) -> dict[str, float]:
    ordered = sorted(latencies_ms)
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered), 2),
            "p99_ms": round(percentile(ordered, 0.99), 2)}  # fmt: skip


# -- the API side --------------------------------------------------------------------------------


class Api:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    async def remember(self, brand_id: str, texts: list[str]) -> dict[str, Any]:
        started = time.perf_counter()
        for start in range(0, len(texts), BATCH):
            body = {"fragments": [{"raw_text": t, "source_type": "imported_example"} for t in texts[start:start + BATCH]]}
            async with self.session.post(f"{self.base}/v1/brands/{brand_id}/memory:batch", json=body) as r:
                assert r.status == 201, await r.text()
                await r.read()
        elapsed = time.perf_counter() - started
        return {"fragments": len(texts), "seconds": round(elapsed, 2), "fragments_per_s": round(len(texts) / elapsed, 1)}

    async def search(self, brand_id: str, queries: list[str], k: int = 5) -> list[float]:
        latencies = []
        for q in queries:
            started = time.perf_counter()
            async with self.session.get(f"{self.base}/v1/brands/{brand_id}/memory/search", params={"q": q, "k": k}) as r:
                assert r.status == 200, await r.text()
                await r.read()
            latencies.append((time.perf_counter() - started) * 1000)
        return latencies


# -- the raw side ----------------------------------------------------------------------------------


def raw_collection(client: Any, name: str, embedder: Embedder) -> Any:
    return client.get_or_create_collection(
        name, configuration=COLLECTION_CONFIGURATION, embedding_function=KairoEmbeddingFunction(embedder)
    )


def raw_remember(collection: Any, embedder: Embedder, texts: list[str]) -> tuple[dict[str, Any], list[str]]:
    ids: list[str] = []
    started = time.perf_counter()
    for start in range(0, len(texts), BATCH):
        chunk = texts[start:start + BATCH]
        vectors = embedder.embed_array(chunk)
        chunk_ids = [str(uuid.uuid4()) for _ in chunk]
        collection.add(ids=chunk_ids, embeddings=vectors, documents=chunk)
        ids += chunk_ids
    elapsed = time.perf_counter() - started
    return {"fragments": len(texts), "seconds": round(elapsed, 2), "fragments_per_s": round(len(texts) / elapsed, 1)}, ids


def raw_search(collection: Any, embedder: Embedder, queries: list[str], k: int = 5) -> dict[str, Any]:
    total, encode, query = [], [], []
    for q in queries:
        t0 = time.perf_counter()
        vector = embedder.embed_array([q])
        t1 = time.perf_counter()
        collection.query(query_embeddings=vector, n_results=k, include=["distances"])
        t2 = time.perf_counter()
        total.append((t2 - t0) * 1000)
        encode.append((t1 - t0) * 1000)
        query.append((t2 - t1) * 1000)
    return {**summary(total), "encode_p50_ms": round(statistics.median(encode), 2),
            "query_p50_ms": round(statistics.median(query), 2)}  # fmt: skip


def own_local_ray(settings: Settings) -> None:
    """A Ray of this benchmark's own: ``ray.init()`` without an address joins any Ray another
    process started on this machine (its numbers, and its actors, would mix with ours)."""
    ray.init(address="local", namespace=settings.ray_namespace, include_dashboard=False,
             _node_ip_address="127.0.0.1", log_to_driver=False)  # fmt: skip


def random_unit(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((n, dim), dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


# -- phases --------------------------------------------------------------------------------------


async def compare(api: Api, brand_id: str, collection: Any, embedder: Embedder, texts: list[str],
                  queries: list[str], groups: dict[str, list[int]]) -> dict[str, Any]:  # fmt: skip
    """Remember ``texts`` both ways, then search ``queries`` both ways (API twice: cold, cached)."""
    raw_add, raw_ids = raw_remember(collection, embedder, texts)
    await api.search(brand_id, queries[:2])  # warm: the service has its model and store open
    before = cpu_snapshot(groups)
    api_add = await api.remember(brand_id, texts)
    add_cpu = cpu_per_request(before, cpu_snapshot(groups), max(1, len(texts) // BATCH))
    raw = raw_search(collection, embedder, queries)
    await api.search(brand_id, queries[:5])  # warm the path (the replica's first request, handles)
    cold_queries = queries[5:]
    before = cpu_snapshot(groups)
    cold = summary(await api.search(brand_id, cold_queries))
    search_cpu = cpu_per_request(before, cpu_snapshot(groups), len(cold_queries))
    cached = summary(await api.search(brand_id, cold_queries))
    raw_cold = raw_search(collection, embedder, cold_queries)
    return {
        "remember": {"api_batch_64": api_add, "raw_encode_plus_add": raw_add,
                     "ratio": round(api_add["fragments_per_s"] / raw_add["fragments_per_s"], 2),
                     "cpu_ms_per_request_of_64": add_cpu},
        "search": {"api_distinct_queries": cold, "raw_encode_plus_query": raw_cold, "raw_first_pass": raw,
                   "ratio_p50": round(cold["p50_ms"] / raw_cold["p50_ms"], 2),
                   "api_repeated_queries_cached": cached, "cpu_ms_per_request": search_cpu},
        "raw_ids": raw_ids,
    }  # fmt: skip


async def restart_memory_service(settings: Settings) -> None:
    """Kill the memory service; Ray restarts it at once and it reopens its store on first use."""
    handle = ray.get_actor(names.MEMORY, namespace=settings.ray_namespace)
    ray.kill(handle, no_restart=False)
    for _ in range(100):
        try:
            await handle.describe.remote()
            return
        except Exception:
            await asyncio.sleep(0.2)


def bulk_vectors(chroma_dir: Path, embedder: Embedder, plan: dict[uuid.UUID, tuple[list[uuid.UUID], np.ndarray, list[str]]]) -> float:
    """Write precomputed vectors straight into the service's Chroma files (service not using them)."""
    started = time.perf_counter()
    client = chromadb.PersistentClient(path=str(chroma_dir), settings=chromadb.config.Settings(anonymized_telemetry=False))
    try:
        step = client.get_max_batch_size()
        for brand_id, (ids, vectors, texts) in plan.items():
            collection = raw_collection(client, collection_name(brand_id), embedder)
            for start in range(0, len(ids), min(step, 5000)):
                end = start + min(step, 5000)
                collection.add(ids=[str(i) for i in ids[start:end]], embeddings=vectors[start:end], documents=texts[start:end])
    finally:
        client.close()
    return round(time.perf_counter() - started, 1)


async def bulk_rows(db: Any, brand_id: uuid.UUID, ids: list[uuid.UUID], texts: list[str], embedder: Embedder) -> None:
    fragments = [BrandMemoryFragment(id=i, brand_id=brand_id, source_type="imported_example", raw_text=t,
                                     embedding_model=embedder.model_name, embedding_dim=embedder.dim)
                 for i, t in zip(ids, texts)]  # fmt: skip
    async with db.transaction() as conn:
        await repo.memory_fragments.insert_many(conn, fragments)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    # Ray starts every worker at nice 15 by default: on a shared machine each Kairo actor then
    # yields to any other process, the raw parts measured here (nice 0) included.
    os.environ["RAY_worker_niceness"] = str(args.niceness)
    root = Path(tempfile.mkdtemp(prefix="kairo-bench-memory-"))
    settings = Settings(data_dir=root, ray_namespace="kairo-bench-memory", api_port=8797, log_level="WARNING")
    own_local_ray(settings)
    info = await start_runtime(settings)
    settings = info.settings
    result: dict[str, Any] = {"machine": machine(), "load_average_at_start": os.getloadavg(),
                              "ray_worker_niceness": args.niceness}  # fmt: skip
    embedder = Embedder(num_threads=settings.embedding_threads)
    embedder.load()
    raw_dir = root / "raw-chroma"
    raw_client = chromadb.PersistentClient(path=str(raw_dir), settings=chromadb.config.Settings(anonymized_telemetry=False))
    handle = await open_database(settings, pool_max=2)
    db = handle.db
    try:
        base = f"http://127.0.0.1:{settings.api_port}"
        auth = {"Authorization": f"Bearer {info.admin_key}"}
        async with aiohttp.ClientSession(headers=auth) as session:
            async with session.post(f"{base}/v1/brands", json={
                "name": "Bench Brand", "slug": "bench-memory", "primary_channels": ["linkedin"],
                "positioning": "Benchmarks, honestly.",
                "personas": [{"name": "Ops", "description": "Runs ops.", "pain_points": ["Noise"], "goals": ["Calm"]}],
                "pillars": [{"name": "Craft", "description": "How we work."}],
            }) as response:  # fmt: skip
                assert response.status == 201, await response.text()
                brand = (await response.json())["brand"]
            brand_id = brand["id"]
            api = Api(session, base)
            groups = kairo_processes(root)
            result["processes"] = {k: len(v) for k, v in groups.items()}
            texts = corpus(args.fragments + 20_000, seed=1)
            queries = corpus(args.queries + 5, seed=2)
            queries = [q for q in queries if q not in set(texts)][: args.queries + 5]

            # -- 1,000 fragments in one brand
            raw_small = raw_collection(raw_client, "raw_small", embedder)
            small = await compare(api, brand_id, raw_small, embedder, texts[: args.fragments], queries, groups)
            small.pop("raw_ids")
            result["one_brand_1k"] = small
            [memory_pid] = groups["memory_service"] or [0]
            if memory_pid:
                result["one_brand_1k"]["memory_service_rss_mib"] = rss_mib(memory_pid)

            # -- ~100,000 fragments in one brand
            if args.big:
                bulk_n = args.big - args.fragments
                ids = [uuid.uuid4() for _ in range(bulk_n)]
                bulk_texts = [f"bulk fragment {i}: {texts[i % len(texts)]}" for i in range(bulk_n)]
                vectors = random_unit(bulk_n, embedder.dim, seed=3)
                await restart_memory_service(settings)
                started = time.perf_counter()
                await bulk_rows(db, uuid.UUID(brand_id), ids, bulk_texts, embedder)
                rows_s = round(time.perf_counter() - started, 1)
                vectors_s = bulk_vectors(settings.chroma_dir, embedder, {uuid.UUID(brand_id): (ids, vectors, bulk_texts)})
                raw_big = raw_collection(raw_client, "raw_big", embedder)
                started = time.perf_counter()
                for start in range(0, bulk_n, 5000):
                    raw_big.add(ids=[str(i) for i in ids[start:start + 5000]], embeddings=vectors[start:start + 5000])
                raw_build_s = round(time.perf_counter() - started, 1)
                groups = kairo_processes(root)
                extra = texts[args.fragments: args.fragments + args.big_remember]
                big = await compare(api, brand_id, raw_big, embedder, extra, queries, groups)
                big.pop("raw_ids")
                big["build"] = {"fragments": args.big, "rows_s": rows_s, "chroma_vectors_s": vectors_s, "raw_copy_s": raw_build_s}
                [memory_pid] = groups["memory_service"] or [0]
                if memory_pid:
                    big["memory_service_rss_mib"] = rss_mib(memory_pid)
                result["one_brand_100k"] = big

            # -- many brands of 100 fragments
            if args.brands:
                result["many_brands"] = await many_brands(api, db, settings, embedder, brand, args.brands, queries, root)
    finally:
        await handle.close()
        raw_client.close()
        result["load_average_at_end"] = os.getloadavg()
        await stop_runtime(settings)
        ray.shutdown()
        shutil.rmtree(root, ignore_errors=True)
    return result


async def many_brands(api: Api, db: Any, settings: Settings, embedder: Embedder, brand: dict[str, Any],
                      count: int, queries: list[str], root: Path) -> dict[str, Any]:  # fmt: skip
    per_brand = 100
    async with db.connection() as conn:
        template = await repo.brands.get(conn, uuid.UUID(brand["id"]))
    brands = [template.model_copy(update={"id": uuid.uuid4(), "slug": f"bench-{i}", "name": f"Bench {i}"}) for i in range(count)]
    async with db.transaction() as conn:
        for b in brands:
            await repo.brands.insert(conn, b)
    texts = corpus(per_brand * 2, seed=4)
    plan = {}
    for n, b in enumerate(brands):
        ids = [uuid.uuid4() for _ in range(per_brand)]
        plan[b.id] = (ids, random_unit(per_brand, embedder.dim, seed=100 + n), texts[:per_brand])
    await restart_memory_service(settings)
    started = time.perf_counter()
    for b in brands:
        ids, _, bt = plan[b.id]
        await bulk_rows(db, b.id, ids, bt, embedder)
    rows_s = round(time.perf_counter() - started, 1)
    vectors_s = bulk_vectors(settings.chroma_dir, embedder, plan)
    groups = kairo_processes(root)
    [memory_pid] = groups["memory_service"]
    out: dict[str, Any] = {"brands": count, "fragments_per_brand": per_brand, "rows_s": rows_s,
                           "chroma_build_s": vectors_s, "chroma_dir_mib": round(_du(settings.chroma_dir) / 2**20, 1),
                           "steps": []}  # fmt: skip
    await api.search(brand["id"], queries[:3])  # open the store (model, pool) before timing brands
    out["rss_mib_store_open"] = rss_mib(memory_pid)
    touched = 0
    for milestone in (10, 100, 300, 1000, 3000):
        if milestone > count:
            break
        first = []
        for b in brands[touched:milestone]:
            first += await api.search(str(b.id), [queries[touched % len(queries)]])
            touched += 1
        sample = random.Random(milestone).sample(brands[:milestone], min(50, milestone))
        warm = []
        for i, b in enumerate(sample):
            warm += await api.search(str(b.id), [queries[(i + 7) % len(queries)]])
        out["steps"].append({"collections_open": milestone, "first_touch": summary(first), "warm": summary(warm),
                             "memory_service_rss_mib": rss_mib(memory_pid)})  # fmt: skip
    return out


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--fragments", type=int, default=1000, help="fragments remembered both ways in one brand")
    parser.add_argument("--queries", type=int, default=200, help="distinct search texts")
    parser.add_argument("--big", type=int, default=100_000, help="size of the one-brand collection for the big part (0: skip)")
    parser.add_argument("--big-remember", type=int, default=640, help="fragments remembered into the big collection")
    parser.add_argument("--brands", type=int, default=1000, help="brands of 100 fragments (0: skip)")
    parser.add_argument("--niceness", type=int, default=0, help="Ray worker niceness (Ray's default is 15)")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args)), indent=2))
