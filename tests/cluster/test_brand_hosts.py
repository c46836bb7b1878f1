"""Brand agents as virtual actors in BrandHost actors, on a real local Ray and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import ray

from runtime import names
from runtime.commands import ChannelOverridePatch, GetStatus, Noop, RunCycle, UpdateRuntimeContext
from runtime.hosts import AgentElsewhere, BrandHost, RayAgentGateway
from storage.errors import Conflict, NotFound
from storage.objects import AgentState, RunResult

from cluster_support import hashing_engines, make_org, onboard

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
async def gateway(cluster_settings):
    gw = RayAgentGateway(cluster_settings, engines_factory=hashing_engines)
    yield gw
    for name, handle in list(gw._handles.items()):  # noqa: SLF001 - test cleanup
        ray.kill(handle, no_restart=True)


@pytest.fixture(scope="module")
async def tenant(cluster_db):
    return await make_org(cluster_db)


async def count_events(db, brand_id, event_type) -> int:
    async with db.connection() as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM event_log WHERE brand_id = $1 AND event_type = $2", brand_id, event_type
        )


async def test_first_message_activates_the_agent_on_its_hashed_host(cluster_db, gateway, tenant):
    brand = (await onboard(cluster_db, *tenant)).brand
    view = await gateway.send(brand.id, GetStatus())
    assert view.host == gateway.host_name(brand.id)
    assert view.status.state is AgentState.IDLE and view.snapshot_version == 1
    async with cluster_db.connection() as conn:
        row = await conn.fetchrow("SELECT host FROM agent_activations WHERE brand_id = $1", brand.id)
    assert row["host"] == view.host
    assert await count_events(cluster_db, brand.id, "agent_activated") == 1


async def test_concurrent_first_messages_activate_once(cluster_db, gateway, tenant):
    brand = (await onboard(cluster_db, *tenant)).brand
    views = await asyncio.gather(*(gateway.send(brand.id, GetStatus()) for _ in range(25)))
    assert {v.activated_at for v in views} == {views[0].activated_at}
    assert await count_events(cluster_db, brand.id, "agent_activated") == 1


async def test_commands_to_one_brand_are_serialized(cluster_db, gateway, tenant):
    brand = (await onboard(cluster_db, *tenant)).brand
    results = await asyncio.gather(*(gateway.send(brand.id, RunCycle()) for _ in range(4)))
    runs = sorted((r.run for r in results), key=lambda run: run.started_at)
    assert all(run.result is RunResult.SUCCESS for run in runs)
    for earlier, later in zip(runs, runs[1:]):
        assert later.started_at >= earlier.finished_at  # no two cycles interleaved
    async with cluster_db.connection() as conn:
        moves = [r["meta"]["to"] for r in await conn.fetch(
            "SELECT meta FROM event_log WHERE brand_id = $1 AND event_type = 'agent_state_changed' ORDER BY created_at",
            brand.id)]  # fmt: skip
    assert moves == ["planning", "creating", "idle"] * 4


async def test_same_expected_version_from_two_writers_one_wins(cluster_db, gateway, tenant):
    brand = (await onboard(cluster_db, *tenant)).brand
    patches = [
        UpdateRuntimeContext(expected_version=1, channel_overrides={"x": ChannelOverridePatch(risk_mode=mode)})
        for mode in ("safe", "spicy", "balanced")
    ]
    outcomes = await asyncio.gather(*(gateway.send(brand.id, p) for p in patches), return_exceptions=True)
    winners = [o for o in outcomes if not isinstance(o, Exception)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(winners) == 1 and len(losers) == 2
    assert winners[0].version == 2
    assert losers[0].details == {"field": "expected_version", "expected_version": 1, "current_version": 2}


async def test_a_write_made_around_the_agent_is_read_before_the_version_is_judged(cluster_db, gateway, tenant):
    """A runtime context saved behind the active agent's back (a shell tool writing PostgreSQL
    directly) makes the agent's cache stale: a caller who read the stored version is served,
    while a caller with an older version is still refused."""
    from storage.postgres import repositories as repo

    brand = (await onboard(cluster_db, *tenant)).brand
    assert (await gateway.send(brand.id, GetStatus())).runtime_context_version == 1  # active, cached v1
    async with cluster_db.transaction() as conn:
        context = await repo.runtime_contexts.for_brand(conn, brand.id)
        await repo.runtime_contexts.save(conn, context, expected_version=1)  # v2, written around the agent
    patch = {"x": ChannelOverridePatch(risk_mode="safe")}
    updated = await gateway.send(brand.id, UpdateRuntimeContext(expected_version=2, channel_overrides=patch))
    assert updated.version == 3 and updated.channel_overrides["x"].risk_mode == "safe"
    with pytest.raises(Conflict) as stale:
        await gateway.send(brand.id, UpdateRuntimeContext(expected_version=2, channel_overrides=patch))
    assert stale.value.details == {"field": "expected_version", "expected_version": 2, "current_version": 3}


async def test_unknown_brand_is_not_found(gateway):
    import uuid

    with pytest.raises(NotFound):
        await gateway.send(uuid.uuid4(), GetStatus())


async def test_idle_agent_is_passivated_and_reactivated_on_next_message(cluster_db, gateway, tenant):
    brand = (await onboard(cluster_db, *tenant)).brand
    await gateway.send(brand.id, Noop())
    host = gateway.host(gateway.host_name(brand.id))
    assert await host.passivate.remote(brand.id, "test") is True
    assert brand.id not in await host.active_brands.remote()
    async with cluster_db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM agent_activations WHERE brand_id = $1", brand.id) == 0
    view = await gateway.send(brand.id, GetStatus())
    assert view.snapshot_version == 1
    assert await count_events(cluster_db, brand.id, "agent_passivated") == 1
    assert await count_events(cluster_db, brand.id, "agent_activated") == 2


async def test_killed_host_reactivates_its_agents_with_state_intact(cluster_db, gateway, tenant):
    brand = (await onboard(cluster_db, *tenant)).brand
    patched = await gateway.send(brand.id, UpdateRuntimeContext(
        expected_version=1, channel_overrides={"linkedin": ChannelOverridePatch(length_mode="long")}))  # fmt: skip
    name = gateway.host_name(brand.id)
    before = await gateway.host(name).stats.remote()
    ray.kill(gateway.host(name), no_restart=False)
    # Many messages while the host restarts: exactly one new activation comes out of it.
    # (ray.kill is asynchronous: the first of them may still reach the old process.)
    views = await asyncio.gather(*(gateway.send(brand.id, GetStatus()) for _ in range(10)))
    views.append(await gateway.send(brand.id, GetStatus()))
    after = await gateway.host(name).stats.remote()
    assert after["incarnation"] != before["incarnation"] and after["pid"] != before["pid"]
    assert {v.runtime_context_version for v in views} == {patched.version}
    assert len({v.activated_at for v in views}) <= 2
    assert await count_events(cluster_db, brand.id, "agent_activated") == 2
    async with cluster_db.connection() as conn:
        row = await conn.fetchrow("SELECT host, incarnation FROM agent_activations WHERE brand_id = $1", brand.id)
    assert (row["host"], str(row["incarnation"])) == (name, after["incarnation"])


async def test_restarted_host_brings_its_agents_back_without_a_message(cluster_db, gateway, tenant):
    brand = (await onboard(cluster_db, *tenant)).brand
    await gateway.send(brand.id, Noop())
    name = gateway.host_name(brand.id)
    before = await gateway.host(name).stats.remote()
    ray.kill(gateway.host(name), no_restart=False)
    for _ in range(100):  # only stats calls, which never activate anything themselves
        try:
            after = await gateway.host(name).stats.remote()
        except ray.exceptions.RayError:
            after = None
        if after and after["incarnation"] != before["incarnation"] and brand.id in await gateway.host(
                name).active_brands.remote():  # fmt: skip
            break
        await asyncio.sleep(0.2)
    assert brand.id in await gateway.host(name).active_brands.remote()
    assert await count_events(cluster_db, brand.id, "agent_activated") == 2


async def test_a_brand_active_elsewhere_is_forwarded_not_activated_twice(cluster_db, gateway, tenant, cluster_settings):
    brand = (await onboard(cluster_db, *tenant)).brand
    home = gateway.host_name(brand.id)
    await gateway.send(brand.id, Noop())
    stray = BrandHost.options(name="kairo-host-stray", namespace="kairo-test", lifetime="detached").remote(
        "kairo-host-stray", cluster_settings, hashing_engines)
    try:
        with pytest.raises(AgentElsewhere) as caught:
            await stray.handle.remote(brand.id, GetStatus())
        assert caught.value.details["host"] == home

        class Misplaced(RayAgentGateway):  # e.g. a caller configured with another host count
            def host_name(self, brand_id):
                return "kairo-host-stray"

        misplaced = Misplaced(cluster_settings, engines_factory=hashing_engines)
        misplaced._handles["kairo-host-stray"] = stray  # noqa: SLF001
        view = await misplaced.send(brand.id, GetStatus())
        assert view.host == home
        assert await count_events(cluster_db, brand.id, "agent_activated") == 1
    finally:
        ray.kill(stray, no_restart=True)


async def test_one_host_per_brand_when_configured(cluster_db, tenant, cluster_settings):
    settings = cluster_settings.model_copy(update={"host_per_brand": True})
    gw = RayAgentGateway(settings, engines_factory=hashing_engines)
    brands = [(await onboard(cluster_db, *tenant)).brand for _ in range(3)]
    try:
        views = await asyncio.gather(*(gw.send(b.id, GetStatus()) for b in brands))
        assert [v.host for v in views] == [names.dedicated_host(b.id) for b in brands]
        pids = {(await gw.host(v.host).stats.remote())["pid"] for v in views}
        assert len(pids) == 3  # three processes: one per brand
    finally:
        for handle in gw._handles.values():  # noqa: SLF001
            ray.kill(handle, no_restart=True)


async def test_idle_agents_are_passivated_by_the_host_on_its_own(cluster_db, tenant, cluster_settings):
    settings = cluster_settings.model_copy(update={"ray_namespace": "kairo-test-idle", "agent_idle_seconds": 1.0})
    gw = RayAgentGateway(settings, engines_factory=hashing_engines)
    brand = (await onboard(cluster_db, *tenant)).brand
    try:
        await gw.send(brand.id, Noop())
        host = gw.host(gw.host_name(brand.id))
        assert brand.id in await host.active_brands.remote()
        for _ in range(50):  # the host's housekeeping runs every idle/4 seconds
            if brand.id not in await host.active_brands.remote():
                break
            await asyncio.sleep(0.2)
        assert brand.id not in await host.active_brands.remote()
        assert await count_events(cluster_db, brand.id, "agent_passivated") == 1
    finally:
        for handle in gw._handles.values():  # noqa: SLF001
            ray.kill(handle, no_restart=True)


async def test_a_stale_incarnation_refuses_get_status_and_drops_the_agent(cluster_db, tenant, cluster_settings):
    """A zombie of a restarted host (its heartbeats blocked, so only the fence can tell it) is
    asked for the status of a brand its restarted self took over: it does not answer from its
    memory as if it owned the brand, it drops the agent, and the holder answers."""
    from runtime.fencing import ActivationLost

    settings = cluster_settings.model_copy(update={"activation_lease_seconds": 600})
    brand = (await onboard(cluster_db, *tenant)).brand
    name = f"kairo-host-z{uuid.uuid4().hex[:6]}"
    zombie = BrandHost.options(name=f"{name}-zombie", namespace="kairo-test", lifetime="detached").remote(
        name, settings, hashing_engines)  # fmt: skip
    restarted = None
    try:
        first = await zombie.handle.remote(brand.id, GetStatus())
        assert first.host == name
        await zombie.pause_heartbeats.remote(3600)
        restarted = BrandHost.options(name=name, namespace="kairo-test", lifetime="detached").remote(
            name, settings, hashing_engines)  # fmt: skip
        incarnation = (await restarted.ready.remote())["incarnation"]
        for _ in range(300):  # the restarted host takes its name's brands over in the background
            async with cluster_db.connection() as conn:
                holder = await conn.fetchval("SELECT incarnation FROM agent_activations WHERE brand_id = $1", brand.id)
            if str(holder) == incarnation:
                break
            await asyncio.sleep(0.1)
        assert str(holder) == incarnation
        assert brand.id in await zombie.active_brands.remote()  # its memory still has the agent

        with pytest.raises(ActivationLost) as refused:
            await zombie.handle.remote(brand.id, GetStatus())
        assert refused.value.details["applied"] is False  # nothing of it ran: a caller may ask the holder
        assert brand.id not in await zombie.active_brands.remote()
        with pytest.raises(AgentElsewhere) as elsewhere:  # asked again, it no longer claims the brand
            await zombie.handle.remote(brand.id, GetStatus())
        assert elsewhere.value.details["host"] == name
        view = await restarted.handle.remote(brand.id, GetStatus())
        assert view.activated_at > first.activated_at
        assert await count_events(cluster_db, brand.id, "agent_activated") == 2
    finally:
        for handle in (zombie, restarted):
            if handle is not None:
                ray.kill(handle, no_restart=True)
