"""Engine pools on a real local Ray: every pool answers through the router, and the router
survives a pool member that was killed for good or restarted."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from agents.engines import (
    EditInput,
    LengthInput,
    SegmentInput,
    ZeroEditInput,
)
from agents.ingest.models import IngestInput, RawItem
from agents.scout.models import BrandProfile, PersonaProfile, PillarProfile, ScoutDoc, ScreenInput
from runtime import names
from runtime.engines import EngineRouter, pool_sizes, start_engine_pools, stop_engine_pools
from runtime.settings import Settings
from storage.errors import Invalid
from storage.objects import Channel

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def settings(ray_cluster, data_root) -> Settings:
    """Engines need no database: only pool sizes, threads and the namespace matter."""
    return Settings(
        data_dir=data_root / "engines-cluster",
        ray_namespace="kairo-test",
        scout_pool=1,
        miner_pool=2,
        writer_pool=1,
        embedding_threads=1,
    )


@pytest.fixture(scope="module")
def pools(settings):
    stop_engine_pools(settings)  # leftovers of an earlier module would be reused otherwise
    handles = start_engine_pools(settings)
    yield handles
    stop_engine_pools(settings)


@pytest.fixture(scope="module")
def router(settings, pools) -> EngineRouter:
    return EngineRouter(settings)


def describe(handle) -> dict:
    import ray

    return ray.get(handle.describe.remote(), timeout=60)


async def wait_for_new_process(handle, old_pid: int, timeout: float = 60.0) -> int:
    """ray.kill returns before the actor is dead, and calls made meanwhile may still reach the
    old process: wait until the actor answers from a new one, and return its pid."""
    import ray

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            pid = (await handle.describe.remote())["pid"]
        except ray.exceptions.RayActorError:  # between the old process and the new one
            pid = old_pid
        if pid != old_pid:
            return pid
        await asyncio.sleep(0.05)
    raise AssertionError(f"the actor still answers from pid {old_pid} after {timeout}s")


async def wait_until_gone(ray_module, name: str, timeout: float = 30.0) -> None:
    """ray.kill returns before the actor is dead; wait until its name is released."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            ray_module.get_actor(name, namespace="kairo-test")
        except ValueError:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{name} still alive after {timeout}s")


async def test_every_pool_exists_under_its_name(ray_cluster, settings, pools):
    assert {k: len(v) for k, v in pools.items()} == {"scout": 1, "miner": 2, "writer": 1, "learner": 1}
    assert pool_sizes(settings) == {"scout": 1, "miner": 2, "writer": 1, "learner": 1}
    for kind, handles in pools.items():
        for i, handle in enumerate(handles):
            named = ray_cluster.get_actor(names.engine(kind, i), namespace="kairo-test")
            assert named._actor_id == handle._actor_id
            info = describe(handle)
            assert info["kind"] == kind
            assert info["loaded"] is False  # engines are built on their first call


async def test_each_pool_answers_its_op_through_the_router(router, pools):
    ingested = await router.call("scout", "ingest", IngestInput(items=[
        RawItem(text="How revenue teams should read their attribution dashboards before the budget review: "
                     "multi-touch attribution credits every marketing channel that touched the deal."),
        RawItem(text="A recipe for rye bread: mix the flour with water and a spoon of starter, rest it overnight."),
    ]))  # fmt: skip
    docs = [ScoutDoc(id=p.doc.id, text=p.doc.text, language=p.doc.language, ingested_at=p.doc.ingested_at,
                     passages=p.passages, passage_vectors=p.passage_vectors, vector=p.vector) for p in ingested.docs]
    brand = BrandProfile(
        brand_id=uuid4(), name="Ledgerline", positioning="Marketing analytics for B2B revenue teams.",
        pillars=[PillarProfile(id=uuid4(), name="Attribution", description="Which marketing channel earned the sale.")],
        personas=[PersonaProfile(id=uuid4(), name="CMO", description="Defends the marketing budget.")],
    )  # fmt: skip
    screened = await router.call("scout", "screen", ScreenInput(brands=[brand], docs=docs))
    assert screened.hits[0].doc_ids == [docs[0].id]  # the attribution article, not the bread

    segmented = await router.call("miner", "segment", SegmentInput(text="Big claim.\n\nSome detail.\n\nFollow for more."))
    assert [b.name for b in segmented.beats] == ["hook", "context", "cta"]

    length = await router.call("writer", "check_length", LengthInput(channel=Channel.X, text="Hi http://test.co"))
    assert (length.length, length.ok) == (26, True)

    edit = await router.call("learner", "edit_distance", EditInput(original="kitten", edited="sitting"))
    assert edit.distance == pytest.approx(3 / 7)
    rate = await router.call("learner", "zero_edit_rate", ZeroEditInput(total=4, zero_edit=1))
    assert rate.rate == 0.25

    scout = describe(pools["scout"][0])
    assert scout["loaded"] and scout["model_loaded"]  # the scout loaded MiniLM once
    writer = describe(pools["writer"][0])
    assert writer["loaded"] and not writer["model_loaded"]  # nothing of the writer embeds yet


async def test_router_spreads_calls_round_robin(router, pools):
    before = [describe(h)["calls"] for h in pools["miner"]]
    await asyncio.gather(*(router.call("miner", "segment", SegmentInput(text=f"Post {i}.")) for i in range(6)))
    after = [describe(h)["calls"] for h in pools["miner"]]
    assert [a - b for a, b in zip(after, before, strict=True)] == [3, 3]


async def test_unknown_op_is_invalid(router):
    with pytest.raises(Invalid) as excinfo:
        await router.call("learner", "segment", SegmentInput(text="x"))
    assert excinfo.value.details == {"field": "op"}
    with pytest.raises(Invalid):
        await router.call("nope", "segment", SegmentInput(text="x"))


async def test_router_re_resolves_a_member_killed_for_good(ray_cluster, router, pools):
    old = pools["learner"][0]
    old_pid = describe(old)["pid"]
    await router.call("learner", "edit_distance", EditInput(original="a", edited="a"))  # handle cached
    ray_cluster.kill(old, no_restart=True)
    await wait_until_gone(ray_cluster, names.engine("learner", 0))  # the router's handle is now dead
    re_resolved = router.stats["re_resolved"]
    result = await router.call("learner", "edit_distance", EditInput(original="abc", edited="abd"))
    assert result.distance == pytest.approx(1 / 3)
    assert router.stats["re_resolved"] == re_resolved + 1
    replacement = ray_cluster.get_actor(names.engine("learner", 0), namespace="kairo-test")
    assert replacement._actor_id != old._actor_id
    assert describe(replacement)["pid"] != old_pid


async def test_router_rides_out_a_restart(ray_cluster, router):
    handle = ray_cluster.get_actor(names.engine("writer", 0), namespace="kairo-test")
    old_pid = describe(handle)["pid"]
    ray_cluster.kill(handle, no_restart=False)  # the actor restarts (max_restarts=-1)
    results = await asyncio.gather(
        *(router.call("writer", "check_length", LengthInput(channel=Channel.BLUESKY, text="e\u0301" * 3)) for _ in range(3))
    )
    assert [r.length for r in results] == [3, 3, 3]
    same_name = ray_cluster.get_actor(names.engine("writer", 0), namespace="kairo-test")
    assert same_name._actor_id == handle._actor_id  # restarted in place, not replaced
    await wait_for_new_process(same_name, old_pid)
    after = await router.call("writer", "check_length", LengthInput(channel=Channel.BLUESKY, text="e\u0301" * 3))
    assert after.length == 3  # and the restarted process answers


async def test_a_call_on_a_member_killed_for_good_is_answered_by_the_next_member(ray_cluster, settings, pools):
    """The router's cached handle of miner-0 is dead: the call looks the pool up again and is
    answered by miner-1 (the dead member is re-created by name on its next turn)."""
    router = EngineRouter(settings)
    victim, survivor = (ray_cluster.get_actor(names.engine("miner", i), namespace="kairo-test") for i in range(2))
    for _ in range(2):  # both members' handles cached, the next turn is miner-0's
        await router.call("miner", "segment", SegmentInput(text="Warm up."))
    before = describe(survivor)["calls"]
    ray_cluster.kill(victim, no_restart=True)
    await wait_until_gone(ray_cluster, names.engine("miner", 0))
    segmented = await router.call("miner", "segment", SegmentInput(text="Big claim.\n\nSome detail.\n\nFollow for more."))
    assert [b.name for b in segmented.beats] == ["hook", "context", "cta"]
    assert describe(survivor)["calls"] == before + 1 and router.stats["re_resolved"] == 1
    await router.call("miner", "segment", SegmentInput(text="Next turn."))  # miner-1 again (it is cached)
    await router.call("miner", "segment", SegmentInput(text="Next turn."))  # miner-0, re-created by name
    replacement = ray_cluster.get_actor(names.engine("miner", 0), namespace="kairo-test")
    assert replacement._actor_id != victim._actor_id and describe(replacement)["calls"] == 1
