"""The scheduler: polls due feeds, wakes brand agents when they are due and sweeps expired
publishing leases.

One named, detached actor (``names.SCHEDULER``) runs a loop: every ``scheduler_tick_seconds``
it reads which brands are due from ``agent_states`` and sends each agent a ``Wake`` through the
:class:`runtime.gateway.AgentGateway`, at most :data:`WAKE_CONCURRENCY` at a time. A failed wake
is logged and left for the next tick (the brand stays due until its agent runs); nothing one
brand does can stop the loop. It also returns publishing jobs whose lease expired (their
publisher died mid-job) to ``pending``. Before waking anyone it polls the feed subscriptions
that are due (conditional GET, backoff on failure: :mod:`agents.scout.feeds`) into the ingest
pipeline in the scout pool, so an agent woken in the same tick plans with the new documents.

The database work is plain async functions over a :class:`storage.postgres.Database`, so it is
testable without Ray; the actor only adds the loop and the gateway.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any
from uuid import UUID

import ray
import structlog
from ray.actor import ActorHandle

from agents.ingest.fetch import Fetcher
from agents.ingest.health import BackoffPolicy
from agents.scout.feeds import FeedPolling, PollReport, poll_due_feeds
from storage.postgres import Database

from . import names
from .database import open_database
from .commands import Wake
from .gateway import AgentGateway
from .logs import configure_logging
from .settings import Settings

log = structlog.get_logger(__name__)

DUE_LIMIT = 200
WAKE_CONCURRENCY = 16

GatewayFactory = Callable[[], AgentGateway]
"""Builds the gateway inside the scheduler's process, on its first tick; must be picklable (it
is sent to the actor). A picklable gateway object (one with ``send``) may be passed instead."""


async def due_brands(db: Database, limit: int = DUE_LIMIT) -> list[UUID]:
    """Brands whose agent is not paused and whose next wake time has come, earliest first."""
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT brand_id FROM agent_states WHERE NOT paused AND next_wake_at <= now() "
            "ORDER BY next_wake_at LIMIT $1",
            limit,
        )
    return [r["brand_id"] for r in rows]


_SWEEP_SQL = """
WITH expired AS (
    SELECT j.id, j.attempts >= j.max_attempts AND NOT j.reconcile_pending AND NOT EXISTS (
               SELECT 1 FROM publish_attempts a WHERE a.publishing_job_id = j.id AND a.status = 'in_flight') AS exhausted,
           EXISTS (SELECT 1 FROM publish_attempts a WHERE a.publishing_job_id = j.id AND a.status = 'in_flight') AS in_flight
      FROM publishing_jobs j
     WHERE j.status = 'running' AND j.lease_expires_at < now()
       FOR UPDATE OF j SKIP LOCKED)
UPDATE publishing_jobs j
   SET status = CASE WHEN e.exhausted THEN 'failed' ELSE 'pending' END,
       last_error = CASE WHEN e.exhausted THEN 'out of attempts: the publisher stopped during the last one'
                         ELSE j.last_error END,
       reconcile_pending = j.reconcile_pending OR e.in_flight,
       lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
  FROM expired e
 WHERE j.id = e.id
"""


async def sweep_expired_leases(db: Database) -> int:
    """Hand back running publishing jobs whose lease expired (their publisher died); how many.

    A job with an attempt still ``in_flight`` may have been sent: it goes back ``pending`` and
    waiting for reconciliation (looked up before any new create). A job whose last attempt was
    used up, with nothing in flight, is ``failed`` with the reason: never left running.
    """
    async with db.connection() as conn:
        status = await conn.execute(_SWEEP_SQL)
    return int(status.split()[-1])


async def wake_brands(
    gateway: AgentGateway, brand_ids: list[UUID], *, concurrency: int = WAKE_CONCURRENCY
) -> tuple[int, int]:
    """Send ``Wake`` to each brand, ``concurrency`` at a time; (woken, failed)."""
    semaphore = asyncio.Semaphore(concurrency)

    async def wake(brand_id: UUID) -> bool:
        async with semaphore:
            try:
                await gateway.send(brand_id, Wake())
                return True
            except Exception as exc:  # one brand's failure never stops the others
                log.bind(brand_id=str(brand_id)).warning(
                    "scheduler.wake_failed", error=f"{type(exc).__name__}: {exc}"
                )
                return False

    results = await asyncio.gather(*(wake(b) for b in brand_ids))
    woken = sum(results)
    return woken, len(results) - woken


FeedPass = Callable[[Database], Awaitable[PollReport]]
"""One pass over the due feeds (``FeedPoller.poll``)."""


async def tick_once(db: Database, gateway: AgentGateway, *, concurrency: int = WAKE_CONCURRENCY,
                    feeds: FeedPass | None = None) -> dict[str, int]:  # fmt: skip
    """One scheduler pass: sweep expired leases, poll the due feeds (when ``feeds``), then wake
    the due brands."""
    leases_reset = await sweep_expired_leases(db)
    polled: dict[str, int] = {}
    if feeds is not None:
        try:
            polled = (await feeds(db)).as_dict()
        except Exception as exc:  # feeds never stop the wakes (each feed records its own faults)
            log.error("scheduler.feeds_failed", error=f"{type(exc).__name__}: {exc}")
    due = await due_brands(db)
    woken, failed = await wake_brands(gateway, due, concurrency=concurrency)
    return {"due": len(due), "woken": woken, "failed": failed, "leases_reset": leases_reset, **polled}


class _ScoutPool:
    """The scout pool with the engine's call shape (``await pool.ingest(payload)``)."""

    def __init__(self, engines: Any) -> None:
        self._engines = engines

    async def ingest(self, payload: Any) -> Any:
        return await self._engines.call("scout", "ingest", payload)


class FeedPoller:
    """The scheduler's feed polling: one fetcher (one HTTP session) and the scout pool, built
    in the process that polls; ``poll(db)`` is one pass (:func:`agents.scout.feeds.poll_due_feeds`)."""

    def __init__(self, settings: Settings, engines: Any) -> None:
        self.fetcher = Fetcher(settings.fetch_config(timeout_seconds=settings.feed_fetch_timeout_seconds,
                                                     max_bytes=settings.feed_max_bytes))  # fmt: skip
        self.engine = _ScoutPool(engines)
        self.polling = FeedPolling(
            batch=settings.feed_poll_batch, concurrency=settings.feed_poll_concurrency,
            lease_seconds=max(300.0, 4 * settings.feed_fetch_timeout_seconds),
            backoff=BackoffPolicy(base_seconds=settings.feed_backoff_base_seconds,
                                  max_seconds=settings.feed_backoff_max_seconds),
        )  # fmt: skip

    async def poll(self, db: Database) -> PollReport:
        return await poll_due_feeds(db, self.engine, self.fetcher, polling=self.polling)

    async def close(self) -> None:
        await self.fetcher.close()


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0)
class Scheduler:
    """The singleton scheduler actor. ``start()`` runs the loop; ``tick()`` runs one pass now.

    With ``autostart`` the loop starts in the constructor, so a restarted actor (Ray re-runs the
    constructor with the same arguments) resumes ticking on its own.
    """

    def __init__(self, settings: Settings, gateway_factory: GatewayFactory, autostart: bool = False) -> None:
        configure_logging(settings.log_level, settings.log_format)  # JSON lines in this actor too
        self.settings = settings
        self._gateway_factory = gateway_factory
        self._gateway: AgentGateway | None = None
        self._feeds: FeedPoller | None = None
        self._postgres: Any = None
        self._open_lock = asyncio.Lock()
        self._tick_lock = asyncio.Lock()  # the loop and a manual tick never overlap
        self._loop_task: asyncio.Task[None] | None = None
        self._started_at = time.time()
        self._ticks = 0
        self._last: dict[str, Any] = {}
        self._totals = {"woken": 0, "failed": 0, "leases_reset": 0, "tick_errors": 0}
        if autostart:  # an async actor's constructor runs on the actor's event loop
            self._loop_task = asyncio.get_running_loop().create_task(self._run())

    async def _open(self) -> tuple[Database, AgentGateway]:
        async with self._open_lock:
            if self._postgres is None:
                s = self.settings
                self._postgres = await open_database(s, pool_max=2)
            if self._gateway is None:
                factory = self._gateway_factory
                # A gateway object itself is accepted too (anything with ``send``).
                self._gateway = factory if hasattr(factory, "send") else factory()
            if self._feeds is None and self.settings.feeds_poll:
                from .engines import EngineRouter

                self._feeds = FeedPoller(self.settings, EngineRouter(self.settings))
        return self._postgres.db, self._gateway

    async def tick(self) -> dict[str, Any]:
        """One pass now; counts of due, woken, failed brands and leases reset."""
        db, gateway = await self._open()
        async with self._tick_lock:
            started = time.monotonic()
            result: dict[str, Any] = await tick_once(db, gateway, feeds=self._feeds.poll if self._feeds else None)
            result["seconds"] = round(time.monotonic() - started, 4)
        self._ticks += 1
        self._last = result
        for key in ("woken", "failed", "leases_reset"):
            self._totals[key] += result[key]
        if result["due"] or result["leases_reset"] or result.get("feeds_polled"):
            log.info("scheduler.tick", **result)
        return result

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a database hiccup: log it and try again next tick
                self._totals["tick_errors"] += 1
                log.error("scheduler.tick_failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(self.settings.scheduler_tick_seconds)

    async def start(self) -> bool:
        """Start the loop; False when it was already running (idempotent)."""
        if self._loop_task is not None and not self._loop_task.done():
            return False
        self._loop_task = asyncio.get_running_loop().create_task(self._run())
        log.info("scheduler.started", tick_seconds=self.settings.scheduler_tick_seconds)
        return True

    async def stop(self) -> bool:
        """Stop the loop (the actor stays); False when it was not running."""
        task, self._loop_task = self._loop_task, None
        if task is None or task.done():
            return False
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        log.info("scheduler.stopped")
        return True

    async def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "started_at": self._started_at,
            "running": self._loop_task is not None and not self._loop_task.done(),
            "tick_seconds": self.settings.scheduler_tick_seconds,
            "ticks": self._ticks,
            "last": dict(self._last),
            "totals": dict(self._totals),
        }


def start_scheduler(settings: Settings, gateway_factory: GatewayFactory, *, run_loop: bool = True) -> ActorHandle:
    """The scheduler actor, created if absent; its loop running when ``run_loop`` (also after
    the actor restarts). An existing actor keeps its arguments; ``start()`` is then called so
    the loop runs either way."""
    handle = Scheduler.options(
        name=names.SCHEDULER, namespace=settings.ray_namespace, lifetime="detached", get_if_exists=True
    ).remote(settings, gateway_factory, autostart=run_loop)
    if run_loop:
        handle.start.remote()
    return handle


__all__ = [
    "FeedPoller",
    "Scheduler",
    "due_brands",
    "start_scheduler",
    "sweep_expired_leases",
    "tick_once",
    "wake_brands",
]
