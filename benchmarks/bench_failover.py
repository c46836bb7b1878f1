"""Node loss on a local multi-node Ray cluster: how long until every brand answers again, and
what the API's clients see during the loss with 1 vs 2 replicas.

    .venv/bin/python benchmarks/bench_failover.py --kills 5 --brands 12

A head and two worker nodes (1 CPU each, 127.0.0.1, ``ray.cluster_utils.Cluster``), an embedded
PostgreSQL, ``brand_hosts = 3`` pinned one per node. Each round removes the worker node of a
brand host (SIGKILL, no graceful stop) and times, from the kill, until every brand of that host
answered ``GetStatus`` from a new activation; then a fresh worker node is added for the next
round. The API part deploys the Serve app with 1 and then 2 replicas (at most one per node),
sends ``GET /healthz`` from two clients, kills the node of a replica and counts the answers:
200, Kairo's JSON error envelope, or anything else (connection errors, Serve's plain-text 500).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.loopback import prepare_local_ray  # noqa: E402

prepare_local_ray()
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from common import machine, percentile  # noqa: E402

NAMESPACE = "kairo-bench-failover"


async def onboard_many(db, count):
    from agents.brand_brain import OnboardingRequest, PersonaDraft, PillarDraft, onboard_brand
    from storage.objects import Org, User
    from storage.postgres import repositories as repo

    tag = uuid.uuid4().hex[:8]
    org = Org(name=f"Org {tag}", slug=f"org-{tag}")
    user = User(org_id=org.id, email=f"owner-{tag}@example.com", role="admin")
    async with db.transaction() as conn:
        await repo.orgs.insert(conn, org)
        await repo.users.insert(conn, user)
    return [(await onboard_brand(db, OnboardingRequest(
        org_id=org.id, owner_user_ids=[user.id], name=f"Brand {i}", slug=f"brand-{tag}-{i}",
        primary_channels=["linkedin"], positioning="We make payroll boring for small shops.",
        personas=[PersonaDraft(name="Owner", description="Runs a shop.", pain_points=["Paperwork"], goals=["Time"])],
        pillars=[PillarDraft(name="Payroll", description="Paying people right.")],
    ))).brand for i in range(count)]  # fmt: skip


async def host_node(gateway, name: str) -> str:
    """The node of a brand host, re-creating it as the gateway does when it is pinned to a node
    that is gone (or dead for good)."""
    from ray.exceptions import ActorDiedError, ActorUnschedulableError

    for _ in range(100):
        try:
            return (await gateway.host(name).stats.remote())["node_id"]
        except (ActorDiedError, ActorUnschedulableError):
            gateway._handles.pop(name, None)  # noqa: SLF001
            await asyncio.sleep(0.5)
    raise RuntimeError(f"host {name} does not come back")


async def recovery_round(cluster, gateway, settings, brands) -> tuple[float, int]:
    """Kill the worker node of one brand host; seconds until its brands all answer again."""
    from runtime.commands import GetStatus
    from runtime.placement import host_names

    import ray

    workers = {w.node_id: w for w in cluster.worker_nodes}
    nodes = {name: await host_node(gateway, name) for name in host_names(settings.brand_hosts)}
    if not set(nodes.values()) & set(workers):  # re-created hosts all went to the head: deal again
        for name in nodes:
            await gateway.host(name).shutdown.remote()
            ray.kill(gateway.host(name), no_restart=True)
            gateway._handles.pop(name, None)  # noqa: SLF001
        await asyncio.sleep(2)
        nodes = {name: await host_node(gateway, name) for name in host_names(settings.brand_hosts)}
    views = {b.id: await gateway.send(b.id, GetStatus()) for b in brands}
    name, node = next((n, nd) for n, nd in nodes.items() if nd in workers)
    lost = [b for b in brands if views[b.id].host == name]
    started = time.monotonic()
    await asyncio.to_thread(cluster.remove_node, workers[node], False)
    pending = set(b.id for b in lost)
    while pending:
        for brand_id in list(pending):
            try:
                view = await gateway.send(brand_id, GetStatus())
                stats = await gateway.host(view.host).stats.remote()
            except Exception:
                continue
            if view.activated_at != views[brand_id].activated_at and stats["node_id"] != node:
                pending.discard(brand_id)
        await asyncio.sleep(0.2)
    elapsed = time.monotonic() - started
    cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")  # main thread: it installs signal handlers
    return elapsed, len(lost)


async def api_round(cluster, settings, replicas: int, port: int) -> dict[str, int]:
    import aiohttp
    import ray
    from ray import serve

    from runtime import names
    from runtime.api.app import api_application
    from runtime.stack import replicated

    app = replicated(api_application(settings), settings.model_copy(update={"api_replicas": replicas}))
    serve.run(app, name=names.API_APP, route_prefix="/")
    actors = [ray.get_actor(a["name"], namespace=a["namespace"])
              for a in ray.util.list_named_actors(all_namespaces=True) if "KairoApi" in a["name"]]  # fmt: skip
    nodes = ray.get([a.__ray_call__.remote(lambda self: ray.get_runtime_context().get_node_id()) for a in actors])
    workers = {w.node_id: w for w in cluster.worker_nodes}
    victim = next((workers[n] for n in nodes if n in workers), None)
    counts = {"ok": 0, "envelope": 0, "outside": 0}
    if victim is None:  # the only replica is on the head: nothing to measure this round
        serve.delete(names.API_APP)
        return {**counts, "skipped": 1}
    stop = asyncio.Event()
    gaps: list[float] = []  # between two answers (of either client): how long the API was silent
    last_ok = [time.monotonic()]

    async def client():
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            while not stop.is_set():
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        body = await response.json(content_type=None)
                        if response.status == 200:
                            counts["ok"] += 1
                            now = time.monotonic()
                            gaps.append(now - last_ok[0])
                            last_ok[0] = now
                        elif isinstance(body, dict) and "error" in body:
                            counts["envelope"] += 1
                        else:
                            counts["outside"] += 1
                except Exception:
                    counts["outside"] += 1
                await asyncio.sleep(0.02)

    clients = [asyncio.ensure_future(client()) for _ in range(2)]
    await asyncio.sleep(3)
    killed = time.monotonic()
    await asyncio.to_thread(cluster.remove_node, victim, False)
    ok_at_kill = counts["ok"]
    while counts["ok"] < ok_at_kill + 50 and time.monotonic() - killed < 120:
        await asyncio.sleep(0.5)
    stop.set()
    await asyncio.gather(*clients)
    serve.delete(names.API_APP)
    cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")  # main thread: it installs signal handlers
    return {**counts, "longest_silence_s": round(max(gaps), 1), "seconds_to_50_ok_after_kill": round(
        time.monotonic() - killed, 1)}


async def main(args) -> None:
    import ray
    from ray import serve
    from ray.cluster_utils import Cluster

    from runtime.hosts import RayAgentGateway
    from runtime.placement import host_names
    from runtime.settings import Settings
    from storage.bootstrap import open_postgres
    from storage.postgres import EmbeddedPostgres

    root = Path(tempfile.mkdtemp(prefix="kairo-bench-failover-"))
    server = EmbeddedPostgres(root / "postgres")
    server.start()
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False,
        "_system_config": {"health_check_period_ms": 1000, "health_check_failure_threshold": 5},
    })  # fmt: skip
    try:
        for _ in range(2):
            cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, namespace=NAMESPACE, log_to_driver=False)
        handle = await open_postgres(database_url=server.dsn, data_dir=root, schema="bench", pool_max=2, migrate=True)
        settings = Settings(database_url=server.dsn, database_schema="bench", data_dir=root, ray_namespace=NAMESPACE,
                            brand_hosts=3, agent_idle_seconds=3600, db_pool_max=2, log_level="WARNING")  # fmt: skip
        brands = await onboard_many(handle.db, args.brands)
        gateway = RayAgentGateway(settings)
        await asyncio.gather(*(gateway.host(n).ready.remote() for n in host_names(3)))
        times = []
        for i in range(args.kills):
            elapsed, count = await recovery_round(cluster, gateway, settings, brands)
            times.append(elapsed)
            print(f"kill {i + 1}: {count} brands answered again after {elapsed:.1f} s", flush=True)
        print(f"recovery over {len(times)} kills: p50 {percentile(times, 0.5):.1f} s, max {max(times):.1f} s")
        port = args.port
        serve.start(proxy_location="HeadOnly", http_options={"host": "127.0.0.1", "port": port})
        for replicas in (1, 2):
            print(f"API with {replicas} replica(s) through a node loss: {await api_round(cluster, settings, replicas, port)}",
                  flush=True)  # fmt: skip
        await handle.close()
    finally:
        try:
            serve.shutdown()
        except Exception:
            pass
        ray.shutdown()
        cluster.shutdown()
        server.stop()
    print(machine())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--brands", type=int, default=12)
    parser.add_argument("--port", type=int, default=18431)
    asyncio.run(main(parser.parse_args()))
