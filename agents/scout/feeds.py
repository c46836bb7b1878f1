"""Feed subscriptions polled into the ingest pipeline: claim the due feeds, fetch each with a
conditional GET, ingest the new items as the brand's org's documents, save the feed's health.

Each poll is one feed's business: a timeout, a 500, a malformed feed or an ingest that fails
is recorded on that feed (its error, failures in a row and a backed-off next poll) and the
others go on. A 304 costs no parsing and no embedding. An ingest failure keeps the feed's old
validators, so its items are fetched again next time instead of being skipped by a 304.

``engine`` is anything with the scout engine's call shape (``await engine.ingest(payload)``):
the engine itself in tests, or the scout pool seen through a proxy from the scheduler.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog

from agents.ingest.fetch import Fetcher
from agents.ingest.health import BackoffPolicy, record_failure
from agents.ingest.poll import poll_feed
from storage.errors import KairoError
from storage.objects import FeedSubscription
from storage.objects.base import utcnow
from storage.postgres import Database
from storage.postgres import sources as store

from .service import ingest

log = structlog.get_logger(__name__)

ITEMS_PER_POLL = 200
"""A feed's newest items ingested per poll (feeds carry tens; a runaway one is cut here)."""


@dataclass(frozen=True)
class FeedPolling:
    """How due feeds are polled: how many per pass, how many at once, the claim's lease and
    the backoff after a failure."""

    batch: int = 50
    concurrency: int = 4
    lease_seconds: float = 300.0
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)


@dataclass
class PollReport:
    polled: int = 0
    not_modified: int = 0
    failed: int = 0
    stored: int = 0
    merged: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"feeds_polled": self.polled, "feeds_not_modified": self.not_modified, "feeds_failed": self.failed,
                "docs_stored": self.stored, "docs_merged": self.merged}  # fmt: skip


async def poll_due_feeds(db: Database, engine: Any, fetcher: Fetcher, *, now: datetime | None = None,
                         polling: FeedPolling | None = None) -> PollReport:  # fmt: skip
    """One pass over the feeds due at ``now``; what it did."""
    now = now or utcnow()
    polling = polling or FeedPolling()
    async with db.transaction() as conn:
        claimed = await store.claim_due_feeds(conn, now, limit=polling.batch, lease_seconds=polling.lease_seconds)
    report = PollReport()
    semaphore = asyncio.Semaphore(polling.concurrency)

    async def one(sub: FeedSubscription, org_id: UUID) -> None:
        async with semaphore:
            await _poll_one(db, engine, fetcher, sub, org_id, now, polling.backoff, report)

    await asyncio.gather(*(one(sub, org_id) for sub, org_id in claimed))
    return report


async def _poll_one(db: Database, engine: Any, fetcher: Fetcher, sub: FeedSubscription, org_id: UUID,
                    now: datetime, backoff: BackoffPolicy, report: PollReport) -> None:  # fmt: skip
    bound = log.bind(feed_id=str(sub.id), brand_id=str(sub.brand_id))
    outcome = await poll_feed(fetcher, sub, now, backoff)
    updated = outcome.subscription
    report.polled += 1
    if outcome.error:
        report.failed += 1
        report.errors[str(sub.id)] = outcome.error
    elif outcome.not_modified:
        report.not_modified += 1
    elif outcome.items:
        try:
            ingested = await ingest(db, engine, outcome.items[:ITEMS_PER_POLL], org_id=org_id, now=now)
            report.stored += len(ingested.stored)
            report.merged += len(ingested.merged)
        except Exception as exc:  # the pool or the database: the feed records it, the pass goes on
            reason = f"ingest: {exc.message if isinstance(exc, KairoError) else f'{type(exc).__name__}: {exc}'}"
            updated = record_failure(sub, now, reason[:500], backoff)
            report.failed += 1
            report.errors[str(sub.id)] = reason
    try:
        async with db.transaction() as conn:
            await store.feed_subscriptions.save(conn, updated, expected_version=sub.version)
    except KairoError as exc:  # removed or changed while it was polled: nothing to record
        bound.info("feeds.poll_not_saved", reason=exc.message)
        return
    if outcome.error:
        bound.warning("feeds.poll_failed", error=outcome.error, failures=updated.consecutive_failures)


__all__ = ["ITEMS_PER_POLL", "FeedPolling", "PollReport", "poll_due_feeds"]
