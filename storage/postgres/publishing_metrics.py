"""Where performance ingestion lives in PostgreSQL (``publish_metrics``, migration 0013): one row
per published job with its pull schedule, claimed under a short lease; each pull that brought
metrics is a ``performance_snapshot`` FeedbackEvent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg
from pydantic import AwareDatetime, Field

from storage.objects import FeedbackEvent
from storage.objects.base import KairoObject, ShortText, utcnow
from storage.objects.enums import Channel, FeedbackType
from storage.objects.learning import PerformanceSnapshot

from . import repositories as repo
from .database import Database, translate_errors

PULLS_MAX = 50


class MetricsSchedule(KairoObject):
    """A published job's pull schedule (the row of ``publish_metrics``)."""

    publishing_job_id: UUID
    brand_id: UUID
    published_at: AwareDatetime
    pulls: int = Field(default=0, ge=0, le=PULLS_MAX)
    failures: int = Field(default=0, ge=0, le=PULLS_MAX)
    next_pull_at: AwareDatetime | None = None
    """None: the schedule is over."""
    last_pulled_at: AwareDatetime | None = None
    last_metrics: dict[str, float] | None = None
    last_error: ShortText | None = None


@dataclass(frozen=True)
class DuePull:
    """A claimed pull: the job, where its post is, and the schedule so far."""

    schedule: MetricsSchedule
    channel: Channel
    content_variant_id: UUID
    external_post_id: str | None


_SEED_SQL = """
INSERT INTO publish_metrics (publishing_job_id, brand_id, published_at, next_pull_at)
SELECT j.id, j.brand_id, a.finished_at, a.finished_at + make_interval(secs => $1)
  FROM publishing_jobs j
  JOIN LATERAL (SELECT finished_at FROM publish_attempts
                 WHERE publishing_job_id = j.id AND status = 'success' ORDER BY attempt_index DESC LIMIT 1) a ON true
 WHERE j.status = 'success' AND NOT EXISTS (SELECT 1 FROM publish_metrics m WHERE m.publishing_job_id = j.id)
 LIMIT $2
ON CONFLICT (publishing_job_id) DO NOTHING
"""

_CLAIM_SQL = """
UPDATE publish_metrics m SET leased_until = now() + make_interval(secs => $2)
 WHERE m.publishing_job_id IN (
       SELECT publishing_job_id FROM publish_metrics
        WHERE next_pull_at <= now() AND (leased_until IS NULL OR leased_until < now())
        ORDER BY next_pull_at FOR UPDATE SKIP LOCKED LIMIT $1)
RETURNING m.*
"""


async def seed_schedules(db: Database, first_pull: timedelta, *, limit: int = 500) -> int:
    """A schedule for every published job that has none yet, its first pull ``first_pull``
    after the post went out; how many were made."""
    async with db.connection() as conn:
        with translate_errors():
            status = await conn.execute(_SEED_SQL, first_pull.total_seconds(), limit)
    return int(status.rsplit(" ", 1)[-1])


async def claim_pulls(db: Database, limit: int, lease_seconds: float) -> list[DuePull]:
    """Claim up to ``limit`` due pulls for ``lease_seconds``, earliest due first."""
    async with db.connection() as conn:
        with translate_errors():
            rows = await conn.fetch(_CLAIM_SQL, limit, float(lease_seconds))
            if not rows:
                return []
            jobs = {r["id"]: r for r in await conn.fetch(
                "SELECT j.id, j.channel, j.content_variant_id, (SELECT external_post_id FROM publish_attempts a"
                " WHERE a.publishing_job_id = j.id AND a.status = 'success' ORDER BY attempt_index DESC LIMIT 1)"
                " AS external_post_id FROM publishing_jobs j WHERE j.id = ANY($1::uuid[])",
                [r["publishing_job_id"] for r in rows])}  # fmt: skip
    pulls = []
    for row in sorted(rows, key=lambda r: r["next_pull_at"]):
        job = jobs[row["publishing_job_id"]]
        schedule = MetricsSchedule.model_validate({k: row[k] for k in MetricsSchedule.model_fields})
        pulls.append(DuePull(schedule, Channel(job["channel"]), job["content_variant_id"], job["external_post_id"]))
    return pulls


async def record_pull(conn: asyncpg.Connection, pull: DuePull, metrics: dict[str, float], next_pull_at: datetime | None) -> FeedbackEvent:
    """A pull that brought metrics: the schedule moves on, the snapshot is a FeedbackEvent."""
    now = utcnow()
    event = FeedbackEvent(brand_id=pull.schedule.brand_id, content_variant_id=pull.content_variant_id,
                          feedback_type=FeedbackType.PERFORMANCE_SNAPSHOT,
                          payload=PerformanceSnapshot(captured_at=now, metrics=metrics))  # fmt: skip
    with translate_errors():
        await repo.feedback_events.insert(conn, event)
        await conn.execute(
            "UPDATE publish_metrics SET pulls = least(pulls + 1, $4), failures = 0, last_metrics = $2, last_pulled_at = now(),"
            " next_pull_at = $3, leased_until = NULL, last_error = NULL WHERE publishing_job_id = $1",
            pull.schedule.publishing_job_id, metrics, next_pull_at, PULLS_MAX,
        )  # fmt: skip
    return event


async def record_pull_failed(conn: asyncpg.Connection, pull: DuePull, error: str, next_pull_at: datetime | None) -> None:
    """A pull that brought nothing: counted, tried again at ``next_pull_at`` (None: given up)."""
    with translate_errors():
        await conn.execute(
            "UPDATE publish_metrics SET failures = least(failures + 1, $4), last_error = $2, next_pull_at = $3,"
            " leased_until = NULL WHERE publishing_job_id = $1",
            pull.schedule.publishing_job_id, error[:500], next_pull_at, PULLS_MAX,
        )  # fmt: skip


async def schedule_of(conn: asyncpg.Connection, job_id: UUID) -> MetricsSchedule | None:
    row = await conn.fetchrow("SELECT * FROM publish_metrics WHERE publishing_job_id = $1", job_id)
    return MetricsSchedule.model_validate({k: row[k] for k in MetricsSchedule.model_fields}) if row else None


__all__ = ["DuePull", "MetricsSchedule", "claim_pulls", "record_pull", "record_pull_failed", "schedule_of", "seed_schedules"]
