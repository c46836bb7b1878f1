"""BrandHost: a Ray actor hosting many brand agents (virtual actors), and the gateway to them.

A Ray actor process costs ~50 MiB and ~0.5 s to start, so brands are not one actor each:
``brand_id → host`` by rendezvous hashing over ``Settings.brand_hosts`` named hosts (or one
host per brand with ``host_per_brand``). An agent is activated on its first message (state
loaded from PostgreSQL), passivated after ``agent_idle_seconds`` without messages, and
re-activated as soon as its host restarts. At most one activation per brand: the host claims the
brand's row in ``agent_activations`` before activating; a restarted host (same name) takes
over its own rows, another host only rows whose heartbeat expired, and a host that finds the
brand active elsewhere answers with ``AgentElsewhere`` so the gateway forwards the command.

Fencing (``runtime/fencing.py``): an agent's every write checks that the activation row still
holds this host's incarnation. A same-name takeover counts only for an incarnation born after
the row's activation, so a zombie of a restarted host (its Ray node gone, its process still
reaching PostgreSQL) cannot take its brands back, and its writes are refused; so is its
``GetStatus`` (checked against the row before it answers). The heartbeat
says which brands the host still holds (the others are dropped from memory), and a host whose
heartbeats fail for longer than the lease stops all its agents on its own: a host that cannot
reach PostgreSQL must assume it lost its brands.

The logic is the plain class ``BrandHostCore`` (tests drive it without Ray); ``BrandHost`` is
the Ray actor made from it, placed by ``placement.spread_strategy`` so that the hosts land on
different nodes.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import ray
import structlog
from ray.exceptions import ActorDiedError, ActorUnavailableError, ActorUnschedulableError, RayTaskError

from storage.bootstrap import PostgresHandle
from storage.errors import Conflict, KairoError, NotFound, UpstreamFailure
from storage.objects import EventLog, EventType
from storage.postgres import repositories as repo

from .database import open_database
from .agent_pages import PAGE_FETCH_LIMITS
from .brand_agent import BrandAgent, EngineCaller
from .commands import GetStatus, Noop, Wake
from .fencing import ActivationLost, Fence
from .placement import host_for, spread_strategy
from .logs import configure_logging
from .settings import Settings

log = structlog.get_logger(__name__)

EnginesFactory = Callable[[Settings], EngineCaller]
# Commands that may be re-sent when a host restarted mid-call: they change nothing, or check
# for themselves whether they still have work to do.
IDEMPOTENT = (GetStatus, Noop, Wake)
# Reads answered from the agent's memory as the brand's owner: fenced before they answer.
OWNER_READS = (GetStatus,)
# How long a command waits for a restarting host (a restart takes ~1-3 s here; more under load).
RESTART_BUDGET_SECONDS = 30.0
RETRY_DELAY = 0.1


class AgentElsewhere(Conflict):
    """The brand's agent is active on another host; ``details['host']`` names it."""

    code = "agent_elsewhere"


def default_engines(settings: Settings) -> EngineCaller:
    from .engines import EngineRouter

    return EngineRouter(settings)


# A claim wins when the row is free, already this incarnation's, held by an earlier incarnation
# of this host name (activated before this one was born: Ray restarted the host), or expired.
CLAIM_SQL = """
INSERT INTO agent_activations (brand_id, host, incarnation) VALUES ($1, $2, $3)
ON CONFLICT (brand_id) DO UPDATE
    SET host = EXCLUDED.host, incarnation = EXCLUDED.incarnation, activated_at = now(), heartbeat_at = now()
    WHERE agent_activations.incarnation = EXCLUDED.incarnation
       OR (agent_activations.host = EXCLUDED.host AND agent_activations.activated_at < $5)
       OR agent_activations.heartbeat_at < now() - make_interval(secs => $4)
RETURNING host
"""
HEARTBEAT_SQL = """
UPDATE agent_activations SET heartbeat_at = now() WHERE host = $1 AND incarnation = $2 RETURNING brand_id
"""


class HeartbeatBlocked(UpstreamFailure):
    """Heartbeats are paused by ``pause_heartbeats`` (a drill of a host cut off from PostgreSQL)."""

    code = "heartbeat_blocked"


class BrandHostCore:
    """A host of brand agents; ``BrandHost`` is its Ray actor (see the module docstring)."""

    def __init__(self, name: str, settings: Settings, engines_factory: EnginesFactory | None = None) -> None:
        configure_logging(settings.log_level, settings.log_format)  # JSON lines in this actor too
        self.name = name
        self.settings = settings
        self._page_fetch = settings.fetch_config(**PAGE_FETCH_LIMITS)  # the agents' pages, with the address policy
        self.incarnation = uuid4()
        self.born_at: Any = None  # the database's clock when this incarnation started
        self.lease_lost = 0  # times the heartbeats failed for longer than the lease
        self._heartbeat_ok = time.monotonic()
        self._heartbeats_paused_until = 0.0
        self.engines_factory = engines_factory or default_engines
        self.agents: dict[UUID, BrandAgent] = {}
        self.activations = 0
        self._activating: dict[UUID, asyncio.Future[BrandAgent]] = {}
        self._pg: PostgresHandle | None = None
        self._engines: EngineCaller | None = None
        self._start_lock: asyncio.Lock | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        # An async actor's constructor runs on its event loop: start right away, so a host that
        # Ray restarted brings its agents back without waiting for a message.
        self._boot = asyncio.get_running_loop().create_task(self._start_quietly())

    async def _start_quietly(self) -> None:
        try:
            await self._started()
        except Exception as exc:  # e.g. the database is not reachable yet: the next message retries
            log.warning("host.start_failed", host=self.name, error=f"{type(exc).__name__}: {exc}")

    # -- start ----------------------------------------------------------------------------------

    async def _started(self) -> PostgresHandle:
        if self._pg is not None:
            return self._pg
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._pg is None:
                s = self.settings
                pg = await open_database(s, pool_max=s.db_pool_max)
                async with pg.db.connection() as conn:
                    self.born_at = await conn.fetchval("SELECT now()")
                self._engines = self.engines_factory(s)
                self._heartbeat_ok = time.monotonic()
                self._pg = pg
                self._housekeeping = asyncio.create_task(self._housekeep())
                await self._reactivate_previous()
        return self._pg

    async def _reactivate_previous(self) -> None:
        """After a restart, bring back the agents this host had active before it died."""
        async with self._pg.db.connection() as conn:  # type: ignore[union-attr]
            rows = await conn.fetch(
                "SELECT brand_id FROM agent_activations WHERE host = $1 AND incarnation <> $2",
                self.name, self.incarnation,
            )  # fmt: skip
        for row in rows:
            try:
                await self._agent(row["brand_id"])
            except KairoError as exc:
                log.warning("host.reactivation_failed", brand_id=str(row["brand_id"]), error=exc.message)

    async def ready(self) -> dict[str, Any]:
        """Start the host (database pool, engines) and report; the CLI calls it at ``kairo up``."""
        await self._started()
        return await self.stats()

    # -- messages -------------------------------------------------------------------------------

    async def handle(self, brand_id: UUID, command: Any) -> Any:
        await self._started()
        agent = await self._agent(brand_id)
        if isinstance(command, OWNER_READS):
            await self._confirm(agent)
        return await agent.handle(command)

    async def _confirm(self, agent: BrandAgent) -> None:
        """Before a read answers as the brand's owner: check that this incarnation still holds
        the brand. On loss the agent is dropped (passivated without a write) and the read is
        refused with ``ActivationLost`` (nothing applied), so the gateway asks the holder; a
        host that cannot reach PostgreSQL cannot confirm, and says so instead of answering."""
        if agent.fence is None:
            return
        try:
            async with self._pg.db.connection() as conn:  # type: ignore[union-attr]
                holds = await agent.fence.holds(conn)
        except KairoError:
            raise
        except Exception as exc:
            raise UpstreamFailure(
                f"host {self.name} cannot confirm it still holds brand {agent.brand_id}",
                details={"brand_id": str(agent.brand_id), "host": self.name},
            ) from exc
        if not holds:
            agent._mark_lost()  # noqa: SLF001 - the host owns its agents' lifecycle
            raise agent.fence.lost()

    async def _agent(self, brand_id: UUID) -> BrandAgent:
        agent = self.agents.get(brand_id)
        if agent is not None:
            return agent
        pending = self._activating.get(brand_id)
        if pending is None:  # the first message activates; concurrent ones wait for it
            pending = asyncio.ensure_future(self._activate(brand_id))
            self._activating[brand_id] = pending
            pending.add_done_callback(lambda _: self._activating.pop(brand_id, None))
        return await asyncio.shield(pending)

    async def _activate(self, brand_id: UUID) -> BrandAgent:
        """Claim the brand, load its state and record the activation: one transaction."""
        pg = self._pg
        assert pg is not None and self._engines is not None
        fence = Fence(brand_id, self.name, self.incarnation)
        agent = BrandAgent(brand_id, pg.db, self._engines, self.name, fence=fence, on_lost=self._forget,
                           fetch=self._page_fetch)  # fmt: skip
        async with pg.db.transaction() as conn:
            if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM brands WHERE id = $1)", brand_id):
                raise NotFound(f"Brand {brand_id} not found", details={"id": str(brand_id)})
            holder = await conn.fetchval(
                CLAIM_SQL, brand_id, self.name, self.incarnation, self.settings.activation_lease_seconds, self.born_at
            )
            if holder is None:
                active_on = await conn.fetchval("SELECT host FROM agent_activations WHERE brand_id = $1", brand_id)
                raise AgentElsewhere(
                    f"brand {brand_id} is active on {active_on}", details={"host": active_on, "brand_id": str(brand_id)}
                )
            await fence.stamp(conn)
            await agent.load(conn)
            await repo.event_log.insert(conn, EventLog(
                org_id=agent.brand.org_id, brand_id=brand_id, event_type=EventType.AGENT_ACTIVATED,
                subject_type="agent", subject_id=str(brand_id), message=f"activated on {self.name}",
                meta={"host": self.name, "incarnation": str(self.incarnation)},
            ))  # fmt: skip
        self.agents[brand_id] = agent
        self.activations += 1
        log.debug("agent.activated", brand_id=str(brand_id), host=self.name)
        return agent

    # -- passivation and heartbeats -------------------------------------------------------------

    async def passivate(self, brand_id: UUID, reason: str = "requested") -> bool:
        """Drop the agent from memory once its current command finished; its state is
        already in PostgreSQL. Returns False when the agent was not active here.

        The event and the release of the activation row are one fenced write: a host that lost
        the brand meanwhile only drops its copy and writes nothing."""
        agent = self.agents.get(brand_id)
        if agent is None:
            return False
        async with agent.lock:
            try:  # any other failure leaves the agent active: the next round tries again
                async with agent.write() as conn:
                    await repo.event_log.insert(conn, EventLog(
                        org_id=agent.brand.org_id, brand_id=brand_id, event_type=EventType.AGENT_PASSIVATED,
                        subject_type="agent", subject_id=str(brand_id), message=f"passivated ({reason})",
                        meta={"host": self.name, "reason": reason},
                    ))  # fmt: skip
                    await conn.execute(
                        "DELETE FROM agent_activations WHERE brand_id = $1 AND incarnation = $2", brand_id, self.incarnation
                    )  # fmt: skip
            except ActivationLost:  # the agent dropped itself (on_lost)
                return True
            if self.agents.get(brand_id) is agent:
                self.agents.pop(brand_id)
            agent.lost = True  # a command that queued behind the passivation is refused and re-sent
        log.info("agent.passivated", brand_id=str(brand_id), reason=reason)
        return True

    def _forget(self, agent: BrandAgent) -> None:
        """An agent's write was refused (another activation holds its brand): drop it."""
        if self.agents.get(agent.brand_id) is agent:
            self.agents.pop(agent.brand_id)
        log.warning("agent.dropped", brand_id=str(agent.brand_id), host=self.name, reason="activation_lost")

    def stop_agents_locally(self, reason: str) -> int:
        """Drop every agent without touching PostgreSQL (it may be unreachable): each is marked
        lost, so commands queued on it are refused; the brands re-activate wherever they are
        sent next, once their lease expired."""
        agents = list(self.agents.values())
        for agent in agents:
            agent._mark_lost()  # noqa: SLF001 - the host owns its agents' lifecycle
            self.agents.pop(agent.brand_id, None)
        log.warning("host.agents_stopped", host=self.name, reason=reason, count=len(agents))
        return len(agents)

    async def passivate_idle(self) -> int:
        idle = [b for b, a in self.agents.items() if a.idle_seconds >= self.settings.agent_idle_seconds and not a.lock.locked()]
        for brand_id in idle:
            await self.passivate(brand_id, "idle")
        return len(idle)

    async def heartbeat(self) -> int:
        """Renew the lease of every brand this incarnation holds; agents whose row another
        activation took are dropped. Returns how many brands are still held."""
        if time.monotonic() < self._heartbeats_paused_until:
            raise HeartbeatBlocked(f"heartbeats of {self.name} are paused", details={"host": self.name})
        checked = dict(self.agents)  # agents activated later may not be in the answer yet
        async with self._pg.db.connection() as conn:  # type: ignore[union-attr]
            held = {row["brand_id"] for row in await conn.fetch(HEARTBEAT_SQL, self.name, self.incarnation)}
        self._heartbeat_ok = time.monotonic()
        for brand_id, agent in checked.items():
            if brand_id not in held and self.agents.get(brand_id) is agent:
                agent._mark_lost()  # noqa: SLF001
        return len(held)

    async def housekeep_once(self) -> None:
        """One round: heartbeat (or, after failures longer than the lease, stop every agent),
        then passivate idle agents."""
        try:
            await self.heartbeat()
        except Exception as exc:
            silent = time.monotonic() - self._heartbeat_ok
            log.warning("host.heartbeat_failed", host=self.name, error=f"{type(exc).__name__}: {exc}",
                        silent_seconds=round(silent, 1))  # fmt: skip
            if silent > self.settings.activation_lease_seconds and self.agents:
                self.lease_lost += 1
                self.stop_agents_locally("lease_lost")
            return
        await self.passivate_idle()

    def pause_heartbeats(self, seconds: float) -> None:
        """A drill: behave for ``seconds`` as a host whose heartbeats cannot reach PostgreSQL
        (its other writes still do — what a zombie after a partition looks like)."""
        self._heartbeats_paused_until = time.monotonic() + seconds

    def heartbeat_period(self) -> float:
        s = self.settings
        return min(s.agent_idle_seconds / 4, s.activation_lease_seconds / 3, 30.0)

    async def _housekeep(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_period())
            try:
                await self.housekeep_once()
            except Exception:
                log.exception("host.housekeeping_failed", host=self.name)

    # -- introspection --------------------------------------------------------------------------

    async def stats(self) -> dict[str, Any]:
        return {
            "host": self.name,
            "incarnation": str(self.incarnation),
            "node_id": _node_id(),
            "pid": os.getpid(),
            "active_agents": len(self.agents),
            "activations": self.activations,
            "lease_lost": self.lease_lost,
            "rss_kib": _rss_kib(),
            "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }

    async def active_brands(self) -> list[UUID]:
        return list(self.agents)

    async def shutdown(self) -> None:
        """Passivate every agent and close the pool (before the actor is killed)."""
        for brand_id in list(self.agents):
            await self.passivate(brand_id, "shutdown")
        if self._housekeeping is not None:
            self._housekeeping.cancel()
        if self._pg is not None:
            await self._pg.close()
            self._pg = None


BrandHost = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0, max_concurrency=10_000)(BrandHostCore)


def _node_id() -> str | None:
    """The Ray node this process runs on (None outside Ray)."""
    try:
        return ray.get_runtime_context().get_node_id() if ray.is_initialized() else None
    except Exception:
        return None


def _rss_kib() -> int:
    """Resident memory of this process now (Linux), for capacity numbers."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class RayAgentGateway:
    """Sends commands to brand agents in their BrandHosts; implements ``AgentGateway``.

    Handles are resolved once per host name and re-resolved when the actor died. While a host
    restarts, read-only and self-checking commands are retried; a command that changes state is
    not re-sent blindly (it may have run): the caller gets an UpstreamFailure to retry itself.
    """

    def __init__(self, settings: Settings, engines_factory: EnginesFactory | None = None) -> None:
        self.settings = settings
        self.engines_factory = engines_factory
        self._handles: dict[str, Any] = {}

    def host_name(self, brand_id: UUID) -> str:
        return host_for(brand_id, count=self.settings.brand_hosts, per_brand=self.settings.host_per_brand)

    def host(self, name: str) -> Any:
        handle = self._handles.get(name)
        if handle is None:
            handle = BrandHost.options(
                name=name, namespace=self.settings.ray_namespace, lifetime="detached", get_if_exists=True,
                scheduling_strategy=spread_strategy(name),
            ).remote(name, self.settings, self.engines_factory)  # fmt: skip
            self._handles[name] = handle
        return handle

    async def send(self, brand_id: UUID, command: Any) -> Any:
        name = self.host_name(brand_id)
        deadline = time.monotonic() + RESTART_BUDGET_SECONDS
        attempt = 0
        while time.monotonic() < deadline:
            attempt += 1
            try:
                return await self.host(name).handle.remote(brand_id, command)
            except RayTaskError as exc:
                cause = exc.cause
                if isinstance(cause, AgentElsewhere):
                    name = cause.details["host"]
                    continue
                if isinstance(cause, ActivationLost) and (
                        not cause.details.get("applied") or isinstance(command, IDEMPOTENT)):  # fmt: skip
                    # The host dropped its stale copy and wrote nothing of this command: the
                    # next try finds the brand's current holder (or activates it afresh).
                    name = self.host_name(brand_id)
                    await asyncio.sleep(RETRY_DELAY)
                    continue
                if isinstance(cause, KairoError):
                    raise cause from None
                raise
            except (ActorDiedError, ActorUnschedulableError):  # dead, or pinned to a node that is gone
                self._handles.pop(name, None)
            except ActorUnavailableError:
                if not isinstance(command, IDEMPOTENT):
                    raise UpstreamFailure(
                        "the brand's host restarted while handling the command; it may or may not "
                        "have been applied — read the state and retry",
                        details={"brand_id": str(brand_id), "host": name},
                    ) from None
            await asyncio.sleep(RETRY_DELAY * min(attempt, 5))
        raise UpstreamFailure(f"brand host {name} is unavailable", details={"brand_id": str(brand_id), "host": name})
