"""The publisher: a thin Ray actor around :class:`agents.publisher.loop.PublishLoop`.

The loop claims due publishing jobs from PostgreSQL under leases (``FOR UPDATE SKIP LOCKED``),
so several publishers can run, and publishes each exactly once (see the loop's module). A
publisher that dies mid-job leaves an expired lease, which the scheduler sweeps back (to
reconciliation when an attempt was in flight). ``start()`` runs the loop (also from the
constructor with ``publisher_autostart``, so a restarted actor resumes); ``claim_due`` remains
for tools and tests that claim without publishing.
"""

from __future__ import annotations

import asyncio
import os
import time
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import aiohttp
import ray
import structlog
from ray.actor import ActorHandle

from agents.addresses import AddressGuard
from agents.publisher.loop import PublisherConfig, PublishLoop
from agents.publisher.performance import OutcomeSink, PullSchedule
from agents.publisher.policy import RetryPolicy
from agents.publisher.tokens import TokenCipher, new_key, parse_keys
from storage.errors import Invalid
from storage.objects import PublishingJob
from storage.postgres import Database
from storage.postgres import publishing as store

from . import names
from .database import open_database
from .logs import configure_logging
from .settings import Settings

log = structlog.get_logger(__name__)

CLAIM_LIMIT_MAX = 500
KEY_FILE = "token-keys"


async def claim_due(db: Database, limit: int, owner: str, lease_seconds: float) -> list[PublishingJob]:
    """Claim up to ``limit`` due jobs for ``owner`` for ``lease_seconds``; the claimed jobs,
    earliest scheduled first, now ``running`` with one more attempt counted (a job waiting for
    reconciliation is claimed without counting one: looking a post up is not an attempt)."""
    if not 1 <= limit <= CLAIM_LIMIT_MAX:
        raise Invalid(f"limit must be between 1 and {CLAIM_LIMIT_MAX}", details={"field": "limit"})
    if not owner.strip():
        raise Invalid("owner must not be blank", details={"field": "owner"})
    if lease_seconds <= 0:
        raise Invalid("lease_seconds must be positive", details={"field": "lease_seconds"})
    return await store.claim_jobs(db, owner, lease_seconds, limit)


async def count_due(db: Database) -> int:
    """Pending jobs whose time has come (what a publish loop would claim next)."""
    async with db.connection() as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM publishing_jobs WHERE status = 'pending' AND scheduled_at <= now()"
        )


def tenant_session(settings: Settings) -> aiohttp.ClientSession:
    """The publisher's HTTP session. A connection's endpoint is its tenant's (a Mastodon instance,
    a webhook, any platform's base URL), so it reaches what tenants' URLs reach: public addresses
    and ``KAIRO_FETCH_ALLOWED_NETWORKS`` (a blocked create fails for good as ``blocked_address``)."""
    if not settings.fetch_public_only:
        return aiohttp.ClientSession()
    return aiohttp.ClientSession(connector=AddressGuard(tuple(settings.fetch_allowed_networks)).connector())


def token_cipher(settings: Settings) -> TokenCipher:
    """The cipher sealing channel tokens: the configured keys, or the data dir's key file
    (created once, mode 0600, for the embedded default)."""
    if settings.token_keys is not None:
        spec = settings.token_keys.get_secret_value()
    else:
        path = Path(settings.data_dir) / KEY_FILE
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(f"k{int(time.time())}:{new_key()}\n")
        spec = ",".join(line.strip() for line in path.read_text().splitlines() if line.strip())
    keys = parse_keys(spec)
    if not keys:
        raise Invalid("token_keys holds no key", details={"field": "token_keys"})
    return TokenCipher(keys, settings.token_key_id or list(keys)[-1])


def publisher_config(settings: Settings, owner: str) -> PublisherConfig:
    return PublisherConfig(
        owner=owner, lease_seconds=settings.publisher_lease_seconds, batch=settings.publisher_batch,
        poll_seconds=settings.publisher_poll_seconds, http_timeout=settings.publisher_http_timeout_seconds,
        platform_caps=dict(settings.publisher_platform_caps), outbox_dir=Path(settings.data_dir) / "outbox",
        policy=RetryPolicy(reconcile_delay_seconds=settings.publish_reconcile_delay_seconds),
        metrics_every_seconds=settings.publish_metrics_every_seconds,
        pull_schedule=PullSchedule(offsets=tuple(timedelta(hours=h) for h in sorted(settings.publish_metrics_pull_hours))),
    )  # fmt: skip


def pattern_outcomes(settings: Settings, db: Database) -> OutcomeSink:
    """Where pulled metrics go: the variant's PatternUsage rows (the miner reviews their templates)."""
    from agents.miner.service import record_variant_outcome

    from .engines import pattern_miner

    miner = pattern_miner(settings)

    async def outcome(content_variant_id: UUID, metrics: dict[str, float]) -> Any:
        return await record_variant_outcome(db, miner, content_variant_id, metrics)

    return outcome


async def rotate_token_keys(settings: Settings) -> int:
    """``kairo keys rotate``: re-seal every channel secret under the current token key (the old
    keys must still be listed in ``KAIRO_TOKEN_KEYS`` to open the old envelopes)."""
    handle = await open_database(settings, pool_max=2)
    try:
        return await store.rotate_keys(handle.db, token_cipher(settings))
    finally:
        await handle.close()


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0)
class Publisher:
    """A publisher actor (one per node on a cluster, all claiming through the same leases):
    holds a pool, an HTTP session and one :class:`PublishLoop`."""

    def __init__(self, settings: Settings) -> None:
        configure_logging(settings.log_level, settings.log_format)  # JSON lines in this actor too
        self.settings = settings
        self.owner = f"publisher-{os.getpid()}-{int(time.time())}"
        self._postgres: Any = None
        self._session: aiohttp.ClientSession | None = None
        self._loop: PublishLoop | None = None
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._started_at = time.time()
        if settings.publisher_autostart:  # an async actor's constructor runs on its event loop
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _db(self) -> Database:
        if self._postgres is None:
            async with self._lock:
                if self._postgres is None:
                    self._postgres = await open_database(self.settings, pool_max=4)
        return self._postgres.db

    async def _publish_loop(self) -> PublishLoop:
        db = await self._db()
        async with self._lock:
            if self._loop is None:
                self._session = tenant_session(self.settings)
                self._loop = PublishLoop(db, token_cipher(self.settings), self._session,
                                         publisher_config(self.settings, self.owner),
                                         outcome=pattern_outcomes(self.settings, db))  # fmt: skip
        return self._loop

    async def _run(self) -> None:
        loop = await self._publish_loop()
        self._stop.clear()
        log.info("publisher.started", owner=self.owner)
        await loop.run(self._stop)

    async def start(self) -> bool:
        """Run the publish loop; False when it was already running."""
        if self._task is not None and not self._task.done():
            return False
        self._task = asyncio.get_running_loop().create_task(self._run())
        return True

    async def stop(self) -> bool:
        """Stop the loop after the current round; False when it was not running."""
        task, self._task = self._task, None
        if task is None or task.done():
            return False
        self._stop.set()
        with suppress(asyncio.CancelledError):
            await task
        log.info("publisher.stopped", owner=self.owner)
        return True

    async def run_once(self) -> int:
        """One round now (claim a batch and publish it); how many jobs were claimed."""
        return await (await self._publish_loop()).run_once()

    async def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "owner": self.owner,
            "started_at": self._started_at,
            "jobs_due": await count_due(await self._db()),
            "publishing": self._task is not None and not self._task.done(),
            "counts": dict(self._loop.counts) if self._loop else {},
        }

    async def claim_due(self, limit: int, owner: str, lease_seconds: float) -> list[PublishingJob]:
        jobs = await claim_due(await self._db(), limit, owner, lease_seconds)
        if jobs:
            log.info("publisher.claimed", owner=owner, jobs=len(jobs))
        return jobs


def start_publisher(settings: Settings, *, run_loop: bool | None = None, name: str = names.PUBLISHER,
                    placement: dict[str, Any] | None = None) -> ActorHandle:
    """A publisher actor ``name``, created if absent (named, detached, restarts forever, placed
    by the actor options in ``placement``: on a cluster one per node, see
    ``stack.start_publishers``); its loop started when ``run_loop`` (default:
    ``settings.publisher_autostart``)."""
    handle = Publisher.options(
        name=name, namespace=settings.ray_namespace, lifetime="detached", get_if_exists=True, **(placement or {})
    ).remote(settings)
    if run_loop if run_loop is not None else settings.publisher_autostart:
        handle.start.remote()
    return handle


__all__ = ["Publisher", "claim_due", "count_due", "pattern_outcomes", "publisher_config", "rotate_token_keys", "start_publisher",
           "token_cipher"]
