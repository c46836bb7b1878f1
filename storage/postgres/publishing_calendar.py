"""Scheduling and the calendar in PostgreSQL: the facts the scheduling rules read (under locks),
a package marked scheduled, a job cancelled, and a brand's jobs over a window of time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import asyncpg

from storage.errors import Conflict, NotFound
from storage.objects.publishing import ChannelConfig, PublishAttempt, PublishingJob

from . import repositories as repo
from .database import translate_errors
from .publishing_connections import connection_for
from .publishing_jobs import thread_variants

# -- scheduling and the calendar ------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleFacts:
    """What the scheduling rules look at, read under locks (the variant row, the connection row)
    so two schedule requests for one variant or one connection are decided one after the other."""

    variant_status: str | None
    variant_channel: str | None
    variant_body: str | None
    package_id: UUID | None
    connection: ChannelConfig | None
    variant_open_jobs: int
    """Jobs of this variant that are pending, running or succeeded (on its one connection)."""
    same_day: list[datetime]
    """scheduled_at of the connection's other open or succeeded jobs on the same UTC day."""
    variant_thread: bool = False
    """The variant was written as a thread (posted as a reply chain where the delivery can)."""
    nearby: list[datetime] = field(default_factory=list)
    """scheduled_at of the connection's other open or succeeded jobs within a day either side
    (the minimum gap holds across midnight too)."""


async def schedule_facts(conn: asyncpg.Connection, brand_id: UUID, variant_id: UUID, at: datetime,
                         *, exclude_job: UUID | None = None) -> ScheduleFacts:
    with translate_errors():
        variant = await conn.fetchrow(
            "SELECT status, channel, body, content_package_id FROM content_variants WHERE id = $1 AND brand_id = $2 FOR UPDATE",
            variant_id, brand_id,
        )  # fmt: skip
        config = None
        if variant is not None:
            await conn.execute("SELECT 1 FROM channel_configs WHERE brand_id = $1 AND channel = $2 FOR UPDATE",
                               brand_id, variant["channel"])
            config = await connection_for(conn, brand_id, variant["channel"])
        open_jobs = await conn.fetchval(
            "SELECT count(*) FROM publishing_jobs WHERE content_variant_id = $1 AND status IN ('pending', 'running', 'success')"
            " AND id IS DISTINCT FROM $2", variant_id, exclude_job,
        )  # fmt: skip
        day = await conn.fetch(
            "SELECT scheduled_at FROM publishing_jobs WHERE brand_id = $1 AND channel = $2"
            " AND status IN ('pending', 'running', 'success') AND id IS DISTINCT FROM $4"
            " AND scheduled_at >= date_trunc('day', $3::timestamptz, 'UTC') AND scheduled_at < date_trunc('day', $3::timestamptz, 'UTC') + interval '1 day'",
            brand_id, variant["channel"] if variant else None, at, exclude_job,
        )  # fmt: skip
        near = await conn.fetch(
            "SELECT scheduled_at FROM publishing_jobs WHERE brand_id = $1 AND channel = $2"
            " AND status IN ('pending', 'running', 'success') AND id IS DISTINCT FROM $4"
            " AND scheduled_at > $3::timestamptz - interval '1 day' AND scheduled_at < $3::timestamptz + interval '1 day'",
            brand_id, variant["channel"] if variant else None, at, exclude_job,
        )  # fmt: skip
    return ScheduleFacts(
        variant_status=variant["status"] if variant else None, variant_channel=variant["channel"] if variant else None,
        variant_body=variant["body"] if variant else None, package_id=variant["content_package_id"] if variant else None,
        connection=config, variant_open_jobs=open_jobs, same_day=[r["scheduled_at"] for r in day],
        variant_thread=bool(variant is not None and await thread_variants(conn, [variant_id])),
        nearby=[r["scheduled_at"] for r in near],
    )  # fmt: skip


async def mark_package_scheduled(conn: asyncpg.Connection, package_id: UUID) -> None:
    with translate_errors():
        await conn.execute(
            "UPDATE content_packages SET status = 'scheduled', updated_at = now() WHERE id = $1 AND status IN ('approved', 'in_review', 'draft')",
            package_id,
        )  # fmt: skip


async def cancel_job(conn: asyncpg.Connection, job_id: UUID, brand_id: UUID) -> PublishingJob:
    """Cancel a pending job (a running one is being published: Conflict). When no job of its
    package is left open or published, the package returns to ``approved``."""
    with translate_errors():
        row = await conn.fetchrow("SELECT status, content_variant_id FROM publishing_jobs WHERE id = $1 AND brand_id = $2 FOR UPDATE",
                                  job_id, brand_id)
        if row is None:
            raise NotFound(f"PublishingJob {job_id} not found", details={"id": str(job_id)})
        if row["status"] != "pending":
            raise Conflict(f"a {row['status']} job cannot be cancelled", details={"field": "status", "rule": "cancel_pending_only"})
        await conn.execute("UPDATE publishing_jobs SET status = 'canceled', reconcile_pending = false, updated_at = now() WHERE id = $1",
                           job_id)
        package = await conn.fetchval("SELECT content_package_id FROM content_variants WHERE id = $1", row["content_variant_id"])
        still = await conn.fetchval(
            "SELECT count(*) FROM publishing_jobs j JOIN content_variants v ON v.id = j.content_variant_id"
            " WHERE v.content_package_id = $1 AND j.status IN ('pending', 'running', 'success')", package,
        )  # fmt: skip
        if not still:
            await conn.execute("UPDATE content_packages SET status = 'approved', updated_at = now() WHERE id = $1 AND status = 'scheduled'",
                               package)
    return await repo.publishing_jobs.get(conn, job_id)


@dataclass(frozen=True)
class CalendarEntry:
    job: PublishingJob
    attempts: list[PublishAttempt]
    body: str
    pillar_id: UUID
    content_package_id: UUID


async def calendar(conn: asyncpg.Connection, brand_id: UUID, start: datetime, end: datetime, *, channel: str | None = None,
                   status: str | None = None, pillar_id: UUID | None = None, limit: int = 500) -> list[CalendarEntry]:
    """A brand's jobs scheduled in ``[start, end)``, earliest first, each with its attempts;
    filtered by channel (= connection: one per channel), status and pillar."""
    with translate_errors():
        rows = await conn.fetch(
            "SELECT j.*, v.body AS variant_body, v.pillar_id AS variant_pillar, v.content_package_id AS variant_package"
            " FROM publishing_jobs j JOIN content_variants v ON v.id = j.content_variant_id"
            " WHERE j.brand_id = $1 AND j.scheduled_at >= $2 AND j.scheduled_at < $3"
            " AND ($4::text IS NULL OR j.channel = $4) AND ($5::text IS NULL OR j.status = $5)"
            " AND ($6::uuid IS NULL OR v.pillar_id = $6) ORDER BY j.scheduled_at, j.id LIMIT $7",
            brand_id, start, end, channel, status, pillar_id, limit,
        )  # fmt: skip
        ids = [r["id"] for r in rows]
        attempts = await repo.publish_attempts.list(conn, "publishing_job_id = ANY($1::uuid[])", ids,
                                                    order_by="publishing_job_id, attempt_index")
    by_job: dict[UUID, list[PublishAttempt]] = {}
    for attempt in attempts:
        by_job.setdefault(attempt.publishing_job_id, []).append(attempt)
    return [CalendarEntry(job=repo.publishing_jobs.table.from_row(r), attempts=by_job.get(r["id"], []), body=r["variant_body"],
                          pillar_id=r["variant_pillar"], content_package_id=r["variant_package"]) for r in rows]  # fmt: skip


__all__ = ["CalendarEntry", "ScheduleFacts", "calendar", "cancel_job", "mark_package_scheduled", "schedule_facts"]
