"""Fenced brand activations against a real PostgreSQL, without Ray: the host logic
(``BrandHostCore``) and its agents are driven directly in this process.

A second activation takes the brand's row; every write of the old one is then refused with
nothing written, the old agent drops itself on the first refusal, events and runs record the
incarnation that wrote them, and a host whose heartbeats fail for longer than the lease stops
its agents on its own.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from agents.brand_brain import OnboardingRequest, PersonaDraft, PillarDraft, onboard_brand
from runtime.brand_agent import BrandAgent
from runtime.commands import ChannelOverridePatch, CreateSnapshot, GetStatus, Noop, RunCycle, SetSchedule, UpdateRuntimeContext
from runtime.fencing import ActivationLost, Fence
from runtime.hosts import AgentElsewhere, BrandHostCore
from runtime.settings import Settings
from storage.errors import KairoError
from storage.objects import Org, User
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration


def local_engines(settings):
    from runtime.local import LocalEngines
    from storage.memory import HashingEmbedder

    return LocalEngines(HashingEmbedder())


@pytest.fixture(scope="module")
async def schema_db(embedded_postgres_dsn, data_root, fresh_schema):
    async with fresh_schema(embedded_postgres_dsn, data_root, prefix="fence", pool_max=4) as handle:
        yield handle.db


@pytest.fixture(scope="module")
def settings(schema_db, embedded_postgres_dsn, data_root) -> Settings:
    return Settings(
        database_url=embedded_postgres_dsn, database_schema=schema_db.schema, data_dir=data_root,
        agent_idle_seconds=3600, activation_lease_seconds=30, db_pool_max=2,
    )  # fmt: skip


@pytest.fixture
async def hosts(settings):
    """Start hosts by name (names are made unique to the test, so a host of one test never
    takes over another test's brands as its restarted self); all are shut down afterwards."""
    started: list[BrandHostCore] = []
    tag = uuid.uuid4().hex[:6]

    async def start(name: str, **overrides) -> BrandHostCore:
        host = BrandHostCore(f"{name}-{tag}", settings.model_copy(update=overrides), local_engines)
        await host.ready()
        started.append(host)
        return host

    yield start
    for host in started:
        if host._housekeeping is not None:  # noqa: SLF001
            host._housekeeping.cancel()  # noqa: SLF001
        if host._pg is not None:  # noqa: SLF001
            await host._pg.close()  # noqa: SLF001


async def new_brand(db):
    tag = uuid.uuid4().hex[:8]
    org = Org(name=f"Org {tag}", slug=f"org-{tag}")
    user = User(org_id=org.id, email=f"owner-{tag}@example.com", role="admin")
    async with db.transaction() as conn:
        await repo.orgs.insert(conn, org)
        await repo.users.insert(conn, user)
    onboarded = await onboard_brand(db, OnboardingRequest(
        org_id=org.id, owner_user_ids=[user.id], name=f"Brand {tag}", slug=f"brand-{tag}",
        primary_channels=["linkedin", "x"], positioning="We help small clinics keep their calendars full.",
        personas=[PersonaDraft(name="Owner", description="Runs a clinic.", pain_points=["No-shows"], goals=["Full weeks"])],
        pillars=[PillarDraft(name="Operations", description="How a clinic runs day to day.")],
    ))  # fmt: skip
    return onboarded.brand


async def expire_lease(db, brand_id) -> None:
    """What the passing of the lease looks like to the database: an old heartbeat."""
    async with db.connection() as conn:
        await conn.execute(
            "UPDATE agent_activations SET heartbeat_at = now() - interval '1 hour' WHERE brand_id = $1", brand_id
        )


async def brand_state(db, brand_id) -> dict:
    """Everything an agent's writes touch, as counts and versions."""
    async with db.connection() as conn:
        return dict(await conn.fetchrow(
            """SELECT (SELECT version FROM agent_states WHERE brand_id = $1) AS status_version,
                      (SELECT max(version) FROM brand_brain_snapshots WHERE brand_id = $1) AS snapshot_version,
                      (SELECT version FROM brand_runtime_contexts WHERE brand_id = $1) AS context_version,
                      (SELECT count(*) FROM agent_runs WHERE brand_id = $1) AS runs,
                      (SELECT count(*) FROM event_log WHERE brand_id = $1) AS events""", brand_id))  # fmt: skip


async def holder(db, brand_id):
    async with db.connection() as conn:
        return await conn.fetchrow("SELECT host, incarnation FROM agent_activations WHERE brand_id = $1", brand_id)


def write_commands(state: dict) -> list:
    return [
        UpdateRuntimeContext(expected_version=state["context_version"],
                             channel_overrides={"x": ChannelOverridePatch(risk_mode="spicy")}),
        CreateSnapshot(expected_version=state["snapshot_version"], positioning="We fill clinic calendars."),
        SetSchedule(expected_version=state["status_version"], paused=True),
        RunCycle(),
    ]  # fmt: skip


async def test_a_second_activation_takes_the_brand_and_the_old_one_is_refused_and_drops_it(schema_db, hosts):
    brand = await new_brand(schema_db)
    old = await hosts("kairo-host-0")
    new = await hosts("kairo-host-1")
    await old.handle(brand.id, Noop())
    await expire_lease(schema_db, brand.id)
    view = await new.handle(brand.id, GetStatus())
    assert view.host == new.name
    assert (await holder(schema_db, brand.id))["incarnation"] == new.incarnation
    before = await brand_state(schema_db, brand.id)

    stale = old.agents[brand.id]
    first, *rest = write_commands(before)
    with pytest.raises(ActivationLost) as refused:
        await old.handle(brand.id, first)
    assert refused.value.details["applied"] is False
    assert brand.id not in old.agents and stale.lost  # dropped on the first refusal
    for command in rest:  # a command that had queued on the stale agent is refused too
        with pytest.raises(ActivationLost):
            await stale.handle(command)
    # The old host now asks the database before activating again, and finds the new holder.
    with pytest.raises(AgentElsewhere) as elsewhere:
        await old.handle(brand.id, rest[0])
    assert elsewhere.value.details["host"] == new.name
    assert await brand_state(schema_db, brand.id) == before
    assert (await holder(schema_db, brand.id))["incarnation"] == new.incarnation


@pytest.mark.parametrize("which", range(4), ids=["runtime_context", "snapshot", "schedule", "run_cycle"])
async def test_every_kind_of_write_of_a_stale_incarnation_is_refused_with_nothing_written(schema_db, hosts, which):
    brand = await new_brand(schema_db)
    current = await hosts("kairo-host-0")
    await current.handle(brand.id, Noop())
    before = await brand_state(schema_db, brand.id)
    stale = BrandAgent(brand.id, schema_db, local_engines(None), current.name,
                       fence=Fence(brand.id, current.name, uuid.uuid4()))  # fmt: skip
    await stale.load()
    with pytest.raises(ActivationLost):
        await stale.handle(write_commands(before)[which])
    assert stale.lost
    assert await brand_state(schema_db, brand.id) == before
    # The holder itself still writes.
    await current.handle(brand.id, write_commands(before)[which])
    assert await brand_state(schema_db, brand.id) != before


async def test_a_zombie_of_a_restarted_host_cannot_take_its_brands_back(schema_db, hosts):
    """Ray restarted the host (same name) elsewhere while the old process still reaches
    PostgreSQL: the new incarnation takes over at once, the old one is fenced out."""
    brand = await new_brand(schema_db)
    zombie = await hosts("kairo-host-0")
    await zombie.handle(brand.id, Noop())
    zombie.pause_heartbeats(3600)  # its Ray node is gone; it keeps running
    restarted = await hosts("kairo-host-0")  # born after the zombie's activation
    assert brand.id in restarted.agents  # brought back at start, without a message
    assert (await holder(schema_db, brand.id))["incarnation"] == restarted.incarnation
    before = await brand_state(schema_db, brand.id)

    assert await zombie.passivate(brand.id, "shutdown") is True  # drops its copy only
    with pytest.raises(AgentElsewhere):
        await zombie.handle(brand.id, RunCycle())
    assert await brand_state(schema_db, brand.id) == before  # no agent_passivated, no run
    result = await restarted.handle(brand.id, RunCycle())
    assert result.run is not None


async def test_events_and_runs_record_the_incarnation_that_wrote_them(schema_db, hosts):
    brand = await new_brand(schema_db)
    host = await hosts("kairo-host-0")
    cycle = await host.handle(brand.id, RunCycle())
    async with schema_db.connection() as conn:
        events = await conn.fetch("SELECT event_type, incarnation FROM event_log WHERE brand_id = $1", brand.id)
        run_incarnation = await conn.fetchval("SELECT incarnation FROM agent_runs WHERE id = $1", cycle.run.id)
    stamped = {e["event_type"] for e in events if e["incarnation"] == host.incarnation}
    assert {"agent_activated", "run_started", "agent_state_changed", "run_finished"} <= stamped
    assert [e["incarnation"] for e in events if e["event_type"] == "brand_created"] == [None]  # not an agent's
    assert run_incarnation == host.incarnation


async def test_the_database_refuses_an_event_stamped_by_an_incarnation_that_does_not_hold_the_brand(schema_db, hosts):
    brand = await new_brand(schema_db)
    host = await hosts("kairo-host-0")
    await host.handle(brand.id, Noop())
    with pytest.raises(KairoError) as refused:
        async with schema_db.transaction() as conn:
            await Fence(brand.id, host.name, uuid.uuid4()).stamp(conn)  # stamped, but not checked
            await conn.execute(
                "INSERT INTO event_log (org_id, brand_id, event_type, subject_type, message) "
                "VALUES ($1, $2, 'error', 'agent', 'zombie write')", brand.org_id, brand.id)  # fmt: skip
    assert refused.value.details.get("constraint") == "event_log_incarnation_holds_activation"


async def test_a_claim_waits_for_a_fenced_write_in_flight(schema_db, hosts):
    """The fence is a row lock: another host's takeover cannot slip in between the check and
    the commit of a write."""
    brand = await new_brand(schema_db)
    old = await hosts("kairo-host-0")
    new = await hosts("kairo-host-1")
    await old.handle(brand.id, Noop())
    await expire_lease(schema_db, brand.id)
    fence = old.agents[brand.id].fence
    async with fence.transaction(schema_db) as conn:
        claim = asyncio.ensure_future(new.handle(brand.id, Noop()))
        await asyncio.sleep(0.5)
        assert not claim.done()  # blocked on the row lock the write holds
        await conn.execute("UPDATE agent_states SET paused = true WHERE brand_id = $1", brand.id)
    await claim
    assert (await holder(schema_db, brand.id))["incarnation"] == new.incarnation


async def test_the_heartbeat_drops_agents_whose_brand_another_host_took(schema_db, hosts):
    brand = await new_brand(schema_db)
    old = await hosts("kairo-host-0")
    new = await hosts("kairo-host-1")
    await old.handle(brand.id, Noop())
    await expire_lease(schema_db, brand.id)
    await new.handle(brand.id, Noop())
    before = await brand_state(schema_db, brand.id)
    assert await old.heartbeat() == 0
    assert brand.id not in old.agents
    assert await brand_state(schema_db, brand.id) == before


async def test_a_host_whose_heartbeats_fail_longer_than_the_lease_stops_its_agents(schema_db, hosts):
    brands = [await new_brand(schema_db) for _ in range(2)]
    host = await hosts("kairo-host-0", activation_lease_seconds=1.5)
    for brand in brands:
        await host.handle(brand.id, Noop())
    queued = host.agents[brands[0].id]
    host.pause_heartbeats(3600)
    for _ in range(200):  # its own housekeeping runs every lease/3 seconds
        if not host.agents:
            break
        await asyncio.sleep(0.1)
    assert host.agents == {} and host.lease_lost == 1
    with pytest.raises(ActivationLost):
        await queued.handle(Noop())
    stats = await host.stats()
    assert stats["active_agents"] == 0 and stats["lease_lost"] == 1
