"""The publisher: claims due publishing jobs from PostgreSQL under leases.

A claim is one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)`` statement: each
due job goes to exactly one claimer, however many publishers (or coroutines of one) claim at the
same time, and it carries a lease (owner, expiry). A publisher that dies mid-job leaves an
expired lease, which the scheduler sweeps back to ``pending``.

Today the actor does not run a publish loop and claims nothing on its own: channel adapters (and
the attempt bookkeeping around them, see DESIGN §7) arrive with the publishing work. Until then
``claim_due`` is there for that work and for tests, and ``status`` reports the backlog.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import ray
import structlog
from ray.actor import ActorHandle

from storage.errors import Invalid
from storage.objects import PublishingJob
from storage.postgres import Database
from storage.postgres import repositories as repo

from . import names
from .database import open_database
from .logs import configure_logging
from .settings import Settings

log = structlog.get_logger(__name__)

CLAIM_LIMIT_MAX = 500

_CLAIM_SQL = """
UPDATE publishing_jobs
   SET status = 'running', lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3),
       attempts = attempts + 1, updated_at = now()
 WHERE id IN (
       SELECT id FROM publishing_jobs
        WHERE status = 'pending' AND scheduled_at <= now()
          AND (next_attempt_at IS NULL OR next_attempt_at <= now())
          AND attempts < max_attempts
        ORDER BY scheduled_at
        FOR UPDATE SKIP LOCKED
        LIMIT $1)
RETURNING *
"""


async def claim_due(db: Database, limit: int, owner: str, lease_seconds: float) -> list[PublishingJob]:
    """Claim up to ``limit`` due jobs for ``owner`` for ``lease_seconds``; the claimed jobs,
    earliest scheduled first, now ``running`` with one more attempt counted.

    A job whose attempts are used up is never claimed (it would break ``attempts <= max_attempts``;
    marking it failed belongs to the publishing work).
    """
    if not 1 <= limit <= CLAIM_LIMIT_MAX:
        raise Invalid(f"limit must be between 1 and {CLAIM_LIMIT_MAX}", details={"field": "limit"})
    if not owner.strip():
        raise Invalid("owner must not be blank", details={"field": "owner"})
    if lease_seconds <= 0:
        raise Invalid("lease_seconds must be positive", details={"field": "lease_seconds"})
    async with db.connection() as conn:
        records = await conn.fetch(_CLAIM_SQL, limit, owner, float(lease_seconds))
    jobs = [repo.publishing_jobs.table.from_row(r) for r in records]
    jobs.sort(key=lambda j: (j.scheduled_at, j.id))
    return jobs


async def count_due(db: Database) -> int:
    """Pending jobs whose time has come (what a publish loop would claim next)."""
    async with db.connection() as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM publishing_jobs WHERE status = 'pending' AND scheduled_at <= now()"
        )


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0)
class Publisher:
    """The singleton publisher actor (``names.PUBLISHER``). No publish loop yet: see the module."""

    def __init__(self, settings: Settings) -> None:
        configure_logging(settings.log_level, settings.log_format)  # JSON lines in this actor too
        self.settings = settings
        self._postgres: Any = None
        self._lock = asyncio.Lock()
        self._started_at = time.time()

    async def _db(self) -> Database:
        if self._postgres is None:
            async with self._lock:
                if self._postgres is None:
                    s = self.settings
                    self._postgres = await open_database(s, pool_max=2)
        return self._postgres.db

    async def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "started_at": self._started_at,
            "jobs_due": await count_due(await self._db()),
            "publishing": False,  # no adapters yet: nothing is claimed on the actor's own
        }

    async def claim_due(self, limit: int, owner: str, lease_seconds: float) -> list[PublishingJob]:
        jobs = await claim_due(await self._db(), limit, owner, lease_seconds)
        if jobs:
            log.info("publisher.claimed", owner=owner, jobs=len(jobs))
        return jobs


def start_publisher(settings: Settings) -> ActorHandle:
    """The publisher actor, created if absent (named, detached, restarts forever)."""
    return Publisher.options(
        name=names.PUBLISHER, namespace=settings.ray_namespace, lifetime="detached", get_if_exists=True
    ).remote(settings)


__all__ = ["Publisher", "claim_due", "count_due", "start_publisher"]
