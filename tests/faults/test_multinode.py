"""Kairo on a local multi-node Ray cluster: placement, one publisher per node sharing the job
leases, a partitioned host, node loss (brands, engine calls, a publisher's leased jobs), the API.

One ``ray.cluster_utils.Cluster`` for the module — a head and two worker nodes of 1 CPU each,
all on 127.0.0.1 — started once and always shut down. A Ray the session already started in
this process (the ``ray_cluster`` fixture of tests/api and tests/cluster, which run earlier) is
shut down first and started again afterwards: one process can be connected to one Ray only.

No assertion is about time: waits poll with generous deadlines (the machine is shared), and the
measured times go to benchmarks/bench_failover.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from datetime import timedelta

import aiohttp
import pytest

from agents.brand_brain import (
    OnboardingRequest,
    PersonaDraft,
    PillarDraft,
    onboard_brand,
)
from agents.engines import SegmentInput
from agents.publisher.tokens import new_key
from runtime.commands import ChannelOverridePatch, GetStatus, Noop, UpdateRuntimeContext
from runtime.engines import EngineActor, EngineRouter
from runtime.fakes.world import add_variants, make_world
from runtime.fencing import ActivationLost
from runtime.hosts import AgentElsewhere, BrandHost, RayAgentGateway
from runtime.placement import host_names, spread_engine_pools
from runtime.publisher import token_cipher
from runtime.scheduler import sweep_expired_leases
from runtime.settings import Settings
from runtime.stack import start_publishers
from storage.errors import UpstreamFailure
from storage.objects import Org, User
from storage.objects.base import utcnow
from storage.objects.enums import Channel, ChannelStatus
from storage.objects.publishing import AdapterName, ChannelConfig, PublishingJob
from storage.postgres import publishing as store
from storage.postgres import repositories as repo

pytestmark = pytest.mark.faults

# Ray workers cannot import this test module: ship its functions by value.
import sys  # noqa: E402

from ray import cloudpickle  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])

NAMESPACE = "kairo-multinode"
NODES = 3
WAIT = 180.0  # seconds any one wait may take on a loaded machine before the test gives up
# Node death is noticed after failure_threshold missed health checks (Ray's default: 5 × 3 s).
SYSTEM_CONFIG = {"health_check_period_ms": 1000, "health_check_failure_threshold": 5}


def _start_cluster():
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False, "_system_config": SYSTEM_CONFIG,
    })  # fmt: skip
    workers = [cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1") for _ in range(NODES - 1)]
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, namespace=NAMESPACE, log_to_driver=False)
    return cluster, workers


@pytest.fixture(scope="module")
def cluster():
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    resumed = ray.is_initialized()
    if resumed:  # the session's single-node Ray (see the module docstring)
        from ray import serve

        serve.shutdown()
        ray.shutdown()
    built, workers = _start_cluster()
    try:
        yield built, workers
    finally:
        from ray import serve

        try:
            serve.shutdown()
        finally:
            ray.shutdown()
            built.shutdown()
            if resumed:
                ray.init(include_dashboard=False, namespace="kairo-test", num_cpus=2, log_to_driver=False,
                         _node_ip_address="127.0.0.1")  # fmt: skip


@pytest.fixture(scope="module")
async def mn_db(embedded_postgres_dsn, data_root, fresh_schema):
    async with fresh_schema(embedded_postgres_dsn, data_root, prefix="mn", pool_max=4) as handle:
        yield handle.db


@pytest.fixture(scope="module")
def settings(mn_db, embedded_postgres_dsn, data_root, cluster) -> Settings:
    return Settings(
        database_url=embedded_postgres_dsn, database_schema=mn_db.schema, data_dir=data_root,
        ray_namespace=NAMESPACE, brand_hosts=NODES, agent_idle_seconds=3600, activation_lease_seconds=60,
        db_pool_max=2, scout_pool=2, miner_pool=1, writer_pool=1, api_replicas=2, log_level="WARNING",
        token_keys=f"k1:{new_key()}", publisher_batch=2,
    )  # fmt: skip


@pytest.fixture(scope="module")
def gateway(settings) -> RayAgentGateway:
    return RayAgentGateway(settings)


@pytest.fixture(scope="module")
async def brands(mn_db):
    """Nine onboarded brands (three per host on average)."""
    tag = uuid.uuid4().hex[:8]
    org = Org(name=f"Org {tag}", slug=f"org-{tag}")
    user = User(org_id=org.id, email=f"owner-{tag}@example.com", role="admin")
    async with mn_db.transaction() as conn:
        await repo.orgs.insert(conn, org)
        await repo.users.insert(conn, user)
    made = []
    for i in range(9):
        made.append((await onboard_brand(mn_db, OnboardingRequest(
            org_id=org.id, owner_user_ids=[user.id], name=f"Brand {tag} {i}", slug=f"brand-{tag}-{i}",
            primary_channels=["linkedin"], positioning="We make payroll boring for small shops.",
            personas=[PersonaDraft(name="Owner", description="Runs a shop.", pain_points=["Paperwork"], goals=["Time"])],
            pillars=[PillarDraft(name="Payroll", description="Paying people right.")],
        ))).brand)  # fmt: skip
    return made


@pytest.fixture(scope="module")
async def outbox(mn_db, settings, tmp_path_factory):
    """A brand publishing to an outbox file every node reaches, and a maker of due jobs."""
    path = tmp_path_factory.mktemp("multinode-outbox") / "posts.jsonl"
    async with mn_db.transaction() as conn:
        world = await make_world(conn)
        await store.save_connection(conn, token_cipher(settings), ChannelConfig(
            brand_id=world.brand_id, channel=Channel.YOUTUBE_SCRIPT, status=ChannelStatus.CONNECTED,
            adapter=AdapterName.OUTBOX, endpoint=str(path)), store.Secrets())  # fmt: skip

    async def due(tag: str, count: int) -> list[PublishingJob]:
        async with mn_db.transaction() as conn:
            variants = await add_variants(conn, world, "youtube_script", [f"{tag} script #{i}" for i in range(count)])
            jobs = [PublishingJob(brand_id=world.brand_id, content_variant_id=v.id, channel=Channel.YOUTUBE_SCRIPT,
                                  scheduled_at=utcnow() - timedelta(seconds=1)) for v in variants]  # fmt: skip
            await repo.publishing_jobs.insert_many(conn, jobs)
        return jobs

    return due, path


async def published_once(db, path, jobs) -> None:
    """Every job ``success`` with exactly one attempt row (nothing sent twice, nothing begun and
    abandoned), and its text once in the outbox."""
    ids = [j.id for j in jobs]
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT j.status, v.body, count(a.id) AS attempts, count(a.id) FILTER (WHERE a.status = 'success') AS ok"
            "  FROM publishing_jobs j JOIN content_variants v ON v.id = j.content_variant_id"
            "  LEFT JOIN publish_attempts a ON a.publishing_job_id = j.id WHERE j.id = ANY($1) GROUP BY j.id, v.body",
            ids)  # fmt: skip
    assert len(rows) == len(jobs)
    assert {(r["status"], r["attempts"], r["ok"]) for r in rows} == {("success", 1, 1)}
    texts = [json.loads(line)["text"] for line in path.read_text().splitlines()]
    assert all(texts.count(r["body"]) == 1 for r in rows)


def node_of(handle) -> str:
    import ray

    return ray.get(handle.stats.remote(), timeout=WAIT)["node_id"]


async def poll(check, what: str):
    """Await ``check()`` until it returns a truthy value (or WAIT passed); that value."""
    deadline = time.monotonic() + WAIT
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            assert value, f"gave up waiting: {what}"
            return value
        await asyncio.sleep(0.5)


async def activations(db, brand_id):
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT host, incarnation FROM agent_activations WHERE brand_id = $1", brand_id)
        events = await conn.fetchval(
            "SELECT count(*) FROM event_log WHERE brand_id = $1 AND event_type = 'agent_activated'", brand_id
        )
    return rows, events


# -- placement ---------------------------------------------------------------------------------


async def test_brand_hosts_and_engine_pools_spread_over_the_nodes(cluster, gateway, settings):
    import ray

    hosts = [gateway.host(name) for name in host_names(settings.brand_hosts)]
    await asyncio.gather(*(h.ready.remote() for h in hosts))
    assert len({node_of(h) for h in hosts}) == NODES  # one host per node, not left to chance

    spread_engine_pools(settings)
    from runtime.engines import pool_sizes

    members = [ray.get_actor(f"kairo-engine-{kind}-{i}", namespace=NAMESPACE)
               for kind, size in pool_sizes(settings).items() for i in range(size)]  # fmt: skip
    nodes = set(ray.get([m.__ray_call__.remote(_node_id_of_actor) for m in members], timeout=WAIT))
    assert len(nodes) >= 2  # SPREAD: not all on one node (best effort, see runtime/placement.py)


def _node_id_of_actor(actor) -> str:
    import ray

    return ray.get_runtime_context().get_node_id()


async def test_one_publisher_per_node_all_claiming_through_the_same_leases(cluster, mn_db, settings, outbox):
    import ray

    due, path = outbox
    publishers = start_publishers(settings)
    nodes = ray.get([p.__ray_call__.remote(_node_id_of_actor) for p in publishers.values()], timeout=WAIT)
    assert len(publishers) == NODES and len(set(nodes)) == NODES  # one per node, each on its own

    jobs = await due("shared", 4 * NODES)
    claimed = dict.fromkeys(publishers, 0)
    while True:  # rounds in which every publisher claims a batch (2) at the same time
        counts = await asyncio.gather(*(p.run_once.remote() for p in publishers.values()))
        for name, count in zip(publishers, counts, strict=True):
            claimed[name] += count
        if not any(counts):
            break
    assert all(claimed.values()), claimed  # every publisher published some
    assert sum(claimed.values()) == len(jobs)  # and no job was claimed twice
    await published_once(mn_db, path, jobs)


# -- a partitioned host ------------------------------------------------------------------------


async def test_a_partitioned_host_has_every_write_refused_and_stops_its_agents(cluster, mn_db, settings, brands):
    """The zombie's process lives and reaches PostgreSQL, but its heartbeats do not get through
    and Ray has started its name again elsewhere (as after a lost node)."""
    name = f"kairo-host-p{uuid.uuid4().hex[:6]}"
    short = settings.model_copy(update={"activation_lease_seconds": 20})
    taken, kept = brands[0], brands[1]
    zombie = BrandHost.options(name=f"{name}-zombie", namespace=NAMESPACE, lifetime="detached").remote(name, short)
    restarted = None
    try:
        for brand in (taken, kept):
            await zombie.handle.remote(brand.id, Noop())
        await zombie.pause_heartbeats.remote(3600)
        restarted = BrandHost.options(name=name, namespace=NAMESPACE, lifetime="detached").remote(name, short)
        await restarted.ready.remote()  # takes over its name's brands at start, in the background
        incarnation = uuid.UUID((await restarted.stats.remote())["incarnation"])

        async def taken_over():
            rows, _ = await activations(mn_db, taken.id)
            return rows if [r["incarnation"] for r in rows] == [incarnation] else None

        before = await poll(taken_over, "the restarted host holds the zombie's brand")
        # The zombie does not answer for the brand it lost (fenced, or already stopped), and
        # drops it from its memory.
        with pytest.raises((ActivationLost, AgentElsewhere)):
            await zombie.handle.remote(taken.id, GetStatus())
        assert taken.id not in await zombie.active_brands.remote()

        async with mn_db.connection() as conn:
            version = await conn.fetchval("SELECT version FROM brand_runtime_contexts WHERE brand_id = $1", taken.id)
        patch = UpdateRuntimeContext(expected_version=version, channel_overrides={"linkedin": ChannelOverridePatch(
            length_mode="long")})  # fmt: skip
        with pytest.raises((ActivationLost, AgentElsewhere)):  # fenced, or already stopped and refused the claim
            await zombie.handle.remote(taken.id, patch)
        with pytest.raises((ActivationLost, AgentElsewhere)):
            await zombie.handle.remote(taken.id, patch)
        async with mn_db.connection() as conn:
            assert await conn.fetchval(
                "SELECT version FROM brand_runtime_contexts WHERE brand_id = $1", taken.id) == version  # fmt: skip
            zombie_incarnation = uuid.UUID((await zombie.stats.remote())["incarnation"])
            assert await conn.fetchval(
                "SELECT count(*) FROM event_log WHERE incarnation = $1 AND event_type NOT IN ('agent_activated')",
                zombie_incarnation) == 0  # fmt: skip
        # Its heartbeats keep failing: past the lease it stops every agent on its own.
        stats = await poll(lambda: _stopped(zombie), "the partitioned host stops its agents")
        assert stats["lease_lost"] >= 1
        assert (await restarted.handle.remote(taken.id, patch)).version == version + 1  # the holder writes
    finally:
        import ray

        for handle in (zombie, restarted):
            if handle is not None:
                ray.kill(handle, no_restart=True)


async def _stopped(host):
    stats = await host.stats.remote()
    return stats if stats["active_agents"] == 0 else None


# -- node loss ---------------------------------------------------------------------------------


async def test_a_lost_node_s_brands_answer_again_from_a_surviving_node_activated_once(
        cluster, mn_db, gateway, settings, brands, outbox):  # fmt: skip
    """A worker node is removed (SIGKILL) while it hosts brands, an engine pool member and a
    publisher holding leased jobs: its brands answer again from a live node with one new
    activation each, the router's next call on the lost member is answered by another member,
    and the jobs are published by another node's publisher once their lease expired, once."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    built, workers = cluster
    views = {b.id: await gateway.send(b.id, GetStatus()) for b in brands[2:]}
    by_node: dict[str, list] = {}
    for name in host_names(settings.brand_hosts):
        by_node.setdefault(node_of(gateway.host(name)), []).append(name)
    # A worker node (the head cannot be removed) whose hosts hold some of these brands.
    used = {node_of(gateway.host(v.host)) for v in views.values()}
    victim = next(w for w in workers if w.node_id in by_node and w.node_id in used)
    lost_hosts = by_node[victim.node_id]
    lost = [b for b in brands[2:] if views[b.id].host in lost_hosts]
    before = {b.id: (await activations(mn_db, b.id))[1] for b in lost}

    # A pool of two miners, the first on the victim node, the second on the head (pinned so).
    pool = settings.model_copy(update={"ray_namespace": f"{NAMESPACE}-pool", "miner_pool": 2})
    head = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and n["NodeID"] not in {w.node_id for w in workers})
    for index, node in enumerate((victim.node_id, head)):
        EngineActor.options(name=f"kairo-engine-miner-{index}", namespace=pool.ray_namespace, lifetime="detached",
                            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=node, soft=False),
                            ).remote("miner", pool)  # fmt: skip
    router = EngineRouter(pool)
    for _ in range(2):  # both members' handles cached; the next call goes to the victim's member
        await router.call("miner", "segment", SegmentInput(text="Warm up."))

    # The victim node's publisher claims jobs (the state a publisher killed mid-batch leaves).
    due, path = outbox
    publishers = start_publishers(settings)
    where = dict(zip(publishers, ray.get([p.__ray_call__.remote(_node_id_of_actor) for p in publishers.values()],
                                         timeout=WAIT), strict=True))  # fmt: skip
    doomed = next(name for name, node in where.items() if node == victim.node_id)
    stranded = await due("stranded", 3)
    owner = (await publishers[doomed].status.remote())["owner"]
    leased = await publishers[doomed].claim_due.remote(10, owner, 5.0)
    assert {j.id for j in leased} == {j.id for j in stranded}

    await asyncio.to_thread(built.remove_node, victim, False)
    workers.remove(victim)

    async def answers(brand):
        """The brand's answer once it comes from a new activation (the old process may linger
        and answer for a moment after its raylet died), with its host's stats."""
        import ray

        try:
            view = await gateway.send(brand.id, GetStatus())
            stats = await gateway.host(view.host).stats.remote()
        except (UpstreamFailure, ray.exceptions.RayError):  # still being restarted: ask again
            return None
        return (view, stats) if view.activated_at != views[brand.id].activated_at else None

    for brand in lost:
        view, stats = await poll(lambda brand=brand: answers(brand), f"brand {brand.id} answers again")
        assert stats["node_id"] != victim.node_id and view.host == views[brand.id].host
        rows, events = await activations(mn_db, brand.id)
        assert len(rows) == 1 and str(rows[0]["incarnation"]) == stats["incarnation"]
        assert events == before[brand.id] + 1  # exactly one new activation
    assert lost  # the node held brands

    # Ray knows the node is gone: the call on its member fails, and the next member answers.
    segmented = await asyncio.wait_for(router.call(
        "miner", "segment", SegmentInput(text="Big claim.\n\nSome detail.\n\nFollow for more.")), WAIT)  # fmt: skip
    assert [b.name for b in segmented.beats] == ["hook", "context", "cta"]
    assert router.stats["re_resolved"] == 1

    # The lost node's publisher is restarted on a live node; the others stay where they were.
    async def restarted_elsewhere():
        try:
            return await publishers[doomed].__ray_call__.remote(_node_id_of_actor) != victim.node_id
        except ray.exceptions.RayError:
            return False

    await poll(restarted_elsewhere, "the lost node's publisher restarts on a live node")
    survivors = [p for name, p in publishers.items() if name != doomed]
    assert [await p.__ray_call__.remote(_node_id_of_actor) for p in survivors] == [
        where[name] for name in publishers if name != doomed]  # fmt: skip
    # While the lease holds, nobody takes the stranded jobs; after it, the sweep hands them back
    # and a surviving publisher publishes each once.
    assert sum(await asyncio.gather(*(p.run_once.remote() for p in survivors))) == 0
    swept = 0

    async def handed_back():
        nonlocal swept
        swept += await sweep_expired_leases(mn_db)
        return swept >= len(stranded)

    await poll(handed_back, "the stranded jobs' leases expire and are swept")
    published = 0
    while count := await survivors[0].run_once.remote():
        published += count
    assert swept == published == len(stranded)
    await published_once(mn_db, path, stranded)
    for index in range(2):
        try:
            ray.kill(ray.get_actor(f"kairo-engine-miner-{index}", namespace=pool.ray_namespace), no_restart=True)
        except ValueError:  # the victim's member is gone with its node
            pass


# -- the API through a node loss ---------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_with_two_replicas_the_api_answers_throughout_a_node_loss(cluster, settings):
    import ray
    from ray import serve

    from runtime import names
    from runtime.api.app import api_application
    from runtime.stack import replicated

    built, workers = cluster
    port = _free_port()
    serve.start(proxy_location="HeadOnly", http_options={"host": "127.0.0.1", "port": port})
    serve.run(replicated(api_application(settings), settings), name=names.API_APP, route_prefix="/")
    replicas = [ray.get_actor(a["name"], namespace=a["namespace"])
                for a in ray.util.list_named_actors(all_namespaces=True) if "KairoApi" in a["name"]]  # fmt: skip
    replica_nodes = ray.get([r.__ray_call__.remote(_node_id_of_actor) for r in replicas], timeout=WAIT)
    assert len(replicas) == 2 and len(set(replica_nodes)) == 2  # at most one per node
    victim = next(w for w in workers if w.node_id in replica_nodes)

    outcomes = {"ok": 0, "envelope": 0, "outside": 0}
    stop = asyncio.Event()

    async def client():
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            while not stop.is_set():
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        body = await response.json(content_type=None)
                        if response.status == 200 and body.get("status") == "ok":
                            outcomes["ok"] += 1
                        elif "error" in body and {"code", "message"} <= set(body["error"]):
                            outcomes["envelope"] += 1
                        else:
                            outcomes["outside"] += 1
                except (aiohttp.ClientError, ValueError, asyncio.TimeoutError):
                    outcomes["outside"] += 1
                await asyncio.sleep(0.02)

    clients = [asyncio.ensure_future(client()) for _ in range(2)]
    try:
        await poll(lambda: _at_least(outcomes, 20), "the API answers before the loss")
        await asyncio.to_thread(built.remove_node, victim, False)
        workers.remove(victim)
        served = outcomes["ok"]
        await poll(lambda: _at_least(outcomes, served + 50), "the API answers after the loss")
    finally:
        stop.set()
        await asyncio.gather(*clients)
    assert outcomes["outside"] == 0, outcomes
    assert outcomes["ok"] > served  # answered after the loss, by the surviving replica


async def _at_least(outcomes, count):
    return outcomes["ok"] >= count
