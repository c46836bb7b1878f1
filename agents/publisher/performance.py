"""Performance ingestion: the metrics of published posts, pulled on a decaying schedule.

A published job gets a schedule (1 h, 24 h and 7 d after it went out, configurable); each due
pull asks the job's platform for the post's metrics through its adapter, stores them as a
``performance_snapshot`` FeedbackEvent and hands them to ``outcome`` (the miner's
``record_variant_outcome``: the variant's PatternUsage rows take them and their templates are
reviewed). A failed read is tried again a little later, a few times; a post the platform no
longer has, or a delivery without metrics (the outbox, webhooks), ends its schedule.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import aiohttp
import structlog

from storage.objects.base import utcnow
from storage.postgres import Database
from storage.postgres import publishing as store
from storage.postgres import publishing_metrics as metrics_store

from .adapters import ADAPTERS, Adapter, Credentials

log = structlog.get_logger(__name__)

OutcomeSink = Callable[[UUID, dict[str, float]], Awaitable[Any]]
"""Where a pull's metrics go next (the miner's ``record_variant_outcome`` in the runtime)."""


@dataclass(frozen=True)
class PullSchedule:
    """When a published post's metrics are read: ``offsets`` after publishing; a failed read is
    retried ``retry`` later, at most ``max_failures`` times in a row."""

    offsets: tuple[timedelta, ...] = (timedelta(hours=1), timedelta(hours=24), timedelta(days=7))
    retry: timedelta = timedelta(minutes=15)
    max_failures: int = 5

    def next_after(self, published_at: datetime, pulls_done: int) -> datetime | None:
        """The time of pull number ``pulls_done + 1``; None when the schedule is over."""
        return published_at + self.offsets[pulls_done] if pulls_done < len(self.offsets) else None


@dataclass
class PerformanceIngest:
    """Pulls due metrics. ``run_once()`` is one batch; plain fields, like every engine."""

    db: Database
    sealer: Any
    session: aiohttp.ClientSession
    outcome: OutcomeSink | None = None
    schedule: PullSchedule = field(default_factory=PullSchedule)
    batch: int = 50
    lease_seconds: float = 120.0
    http_timeout: float = 10.0
    clock: Callable[[], datetime] = utcnow

    async def run_once(self) -> int:
        """Schedule newly published jobs, then pull the due ones; how many pulls were made."""
        await metrics_store.seed_schedules(self.db, self.schedule.offsets[0])
        pulls = await metrics_store.claim_pulls(self.db, self.batch, self.lease_seconds)
        await asyncio.gather(*(self._pull(p) for p in pulls))
        return len(pulls)

    async def _pull(self, pull: metrics_store.DuePull) -> None:
        try:
            await self._pull_one(pull)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the lease runs out and the pull is claimed again
            log.warning("publisher.metrics_error", job_id=str(pull.schedule.publishing_job_id),
                        error=f"{type(exc).__name__}: {exc}"[:300])  # fmt: skip

    async def _pull_one(self, pull: metrics_store.DuePull) -> None:
        adapter, creds = await self._connection(pull)
        reading = await adapter.metrics(creds, pull.external_post_id) if adapter and pull.external_post_id else None
        schedule, now = pull.schedule, self.clock()
        async with self.db.transaction() as conn:
            if reading is None:  # nothing to read there: the schedule ends
                await metrics_store.record_pull_failed(conn, pull, "no metrics for this delivery", None)
                return
            if reading.metrics is None:
                failures = schedule.failures + 1
                retry = None if reading.gone or failures >= self.schedule.max_failures else now + self.schedule.retry
                await metrics_store.record_pull_failed(conn, pull, reading.error or "no metrics", retry)
                return
            due = self.schedule.next_after(schedule.published_at, schedule.pulls + 1)
            await metrics_store.record_pull(conn, pull, reading.metrics, max(due, now) if due else None)
        if self.outcome is not None:
            await self.outcome(pull.content_variant_id, _outcome_metrics(reading.metrics))
        log.info("publisher.metrics", job_id=str(schedule.publishing_job_id), pull=schedule.pulls + 1, **reading.metrics)

    async def _connection(self, pull: metrics_store.DuePull) -> tuple[Adapter | None, Credentials | None]:
        async with self.db.connection() as conn:
            config = await store.connection_for(conn, pull.schedule.brand_id, pull.channel.value)
            if config is None or not config.endpoint:
                return None, None
            secrets = await store.open_secrets(conn, self.sealer, config.id)
        adapter = ADAPTERS[config.adapter.value](self.session, timeout=self.http_timeout)
        creds = Credentials(endpoint=config.endpoint, account_id=config.account_ref, access_token=secrets.access_token)
        return adapter, creds


def _outcome_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """What a PatternUsage outcome holds: the counts as read (engagements never above
    impressions, which a platform's own lag between counters can produce)."""
    outcome = dict(metrics)
    if "impressions" in outcome and outcome.get("engagements", 0) > outcome["impressions"]:
        outcome["impressions"] = outcome["engagements"]
    return outcome


__all__ = ["OutcomeSink", "PerformanceIngest", "PullSchedule"]
