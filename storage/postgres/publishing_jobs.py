"""Publishing jobs under leases and their attempts.

Two rules make publishing exactly-once across any number of publishers:

* an attempt row (``in_flight``) is committed *before* its create is sent, only by the holder
  of the job's live lease, and at most one attempt of a job is in flight (a unique index);
* a finished attempt changes only once more, when the reconciliation of an ``unconfirmed`` one
  resolves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from storage.errors import Conflict
from storage.objects.base import utcnow
from storage.objects.enums import PublishStatus
from storage.objects.publishing import PublishAttempt, PublishingJob

from . import repositories as repo
from .database import Database, translate_errors

ATTEMPT_INDEX_CEILING = 20

# -- jobs and attempts ------------------------------------------------------------------------

_CLAIM_SQL = """
UPDATE publishing_jobs
   SET status = 'running', lease_owner = $2, lease_expires_at = now() + make_interval(secs => $3),
       attempts = attempts + CASE WHEN reconcile_pending THEN 0 ELSE 1 END, updated_at = now()
 WHERE id IN (
       SELECT id FROM publishing_jobs
        WHERE status = 'pending' AND scheduled_at <= now()
          AND (next_attempt_at IS NULL OR next_attempt_at <= now())
          AND (attempts < max_attempts OR reconcile_pending)
        ORDER BY scheduled_at
        FOR UPDATE SKIP LOCKED
        LIMIT $1)
RETURNING *
"""


async def claim_jobs(db: Database, owner: str, lease_seconds: float, limit: int) -> list[PublishingJob]:
    """Claim due jobs under a lease. A job waiting for reconciliation is claimed without
    counting an attempt (looking is not publishing), even when its attempts are used up."""
    async with db.connection() as conn:
        records = await conn.fetch(_CLAIM_SQL, limit, owner, float(lease_seconds))
    jobs = [repo.publishing_jobs.table.from_row(r) for r in records]
    return sorted(jobs, key=lambda j: (j.scheduled_at, j.id))


async def _locked_job(conn: asyncpg.Connection, job_id: UUID, owner: str) -> asyncpg.Record | None:
    """The job's row, locked, if ``owner`` still holds a live lease on it."""
    return await conn.fetchrow(
        "SELECT * FROM publishing_jobs WHERE id = $1 AND status = 'running' AND lease_owner = $2"
        " AND lease_expires_at > now() FOR UPDATE", job_id, owner,
    )  # fmt: skip


async def attempts_of(conn: asyncpg.Connection, job_id: UUID) -> list[PublishAttempt]:
    return await repo.publish_attempts.list(conn, "publishing_job_id = $1", job_id, order_by="attempt_index")


_BEGIN_ATTEMPT_SQL = f"""
WITH job AS (
    UPDATE publishing_jobs
       SET attempts = attempts + $3, lease_expires_at = now() + make_interval(secs => $4), updated_at = now()
     WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND lease_expires_at > now() AND attempts + $3 <= max_attempts
    RETURNING id),
next AS (SELECT coalesce(max(attempt_index), 0) + 1 AS i FROM publish_attempts WHERE publishing_job_id = $1)
INSERT INTO publish_attempts (id, publishing_job_id, attempt_index, status, started_at)
SELECT $5, job.id, next.i, 'in_flight', now() FROM job, next WHERE next.i <= {ATTEMPT_INDEX_CEILING}
RETURNING attempt_index, started_at
"""


async def begin_attempt(db: Database, job_id: UUID, owner: str, *, count: bool, lease_seconds: float) -> PublishAttempt | None:
    """Commit an ``in_flight`` attempt before its create is sent; None when the lease is gone
    (another publisher may own the job now), the attempts are used up, the index ceiling is
    reached, or another attempt is in flight: then nothing may be sent. ``count``: this attempt
    uses up one more of the job's attempts (the claim already counted the first). One
    statement, so the lease check, the count, the lease extension and the insert are atomic."""
    attempt_id = uuid4()
    try:
        async with db.connection() as conn:
            row = await conn.fetchrow(_BEGIN_ATTEMPT_SQL, job_id, owner, int(count), float(lease_seconds), attempt_id)
    except Conflict:
        return None  # publish_attempts_in_flight_one_per_job: another attempt of this job is in flight
    if row is None:
        return None
    return PublishAttempt(id=attempt_id, publishing_job_id=job_id, attempt_index=row["attempt_index"], started_at=row["started_at"])


@dataclass(frozen=True)
class AttemptOutcome:
    """How one attempt ended (what goes into its row)."""

    status: str
    external_post_id: str | None = None
    external_url: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    raw_response: dict[str, Any] | None = None


def _checked(attempt_id: UUID, outcome: AttemptOutcome) -> PublishAttempt:
    """The outcome as an attempt: the object's invariants, checked before the database's."""
    return PublishAttempt.model_validate({
        "publishing_job_id": attempt_id, "attempt_index": 1, "status": outcome.status, "started_at": utcnow(),
        "finished_at": utcnow(), "external_post_id": outcome.external_post_id, "external_url": outcome.external_url,
        "error_code": outcome.error_code, "error_message": outcome.error_message, "raw_response": outcome.raw_response,
    })  # fmt: skip


async def finish_attempt(conn: asyncpg.Connection, attempt_id: UUID, outcome: AttemptOutcome) -> bool:
    """Write an attempt's outcome, once: False when it was already final (another publisher
    resolved it first)."""
    checked = _checked(attempt_id, outcome)
    with translate_errors():
        status = await conn.execute(
            "UPDATE publish_attempts SET status = $2, finished_at = greatest(now(), started_at), external_post_id = $3,"
            " external_url = $4, error_code = $5, error_message = $6, raw_response = $7"
            " WHERE id = $1 AND status IN ('in_flight', 'unconfirmed')",
            attempt_id, checked.status.value, checked.external_post_id, checked.external_url, checked.error_code,
            checked.error_message, checked.raw_response,
        )  # fmt: skip
    return status.endswith(" 1")


@dataclass(frozen=True)
class JobUpdate:
    """A job's next state (from the state machine's decision)."""

    status: PublishStatus
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    reconcile_pending: bool = False
    reconcile_checks: int = 0
    refund_attempt: bool = False


async def update_job(conn: asyncpg.Connection, job_id: UUID, owner: str, update: JobUpdate) -> bool:
    """Move a leased job on; False when ``owner`` lost the lease (the new holder decides)."""
    if update.status is PublishStatus.RUNNING:
        raise ValueError("a job leaves the publish step pending, succeeded or failed, never running")
    with translate_errors():
        status = await conn.execute(
            "UPDATE publishing_jobs SET status = $3, next_attempt_at = $4, last_error = $5, reconcile_pending = $6,"
            " reconcile_checks = $7, attempts = greatest(attempts - $8::int, 0), lease_owner = NULL, lease_expires_at = NULL,"
            " updated_at = now() WHERE id = $1 AND status = 'running' AND lease_owner = $2",
            job_id, owner, update.status.value, update.next_attempt_at, update.last_error, update.reconcile_pending,
            update.reconcile_checks, int(update.refund_attempt),
        )  # fmt: skip
    return status.endswith(" 1")


_PUBLISHED_SQL = """
WITH v AS (
    UPDATE content_variants SET status = 'published', updated_at = now() WHERE id = $1
    RETURNING content_package_id, pattern_template_id, brand_id, channel),
p AS (
    UPDATE content_packages SET status = 'published', updated_at = now()
     WHERE id IN (SELECT content_package_id FROM v) AND status IN ('approved', 'scheduled', 'in_review', 'draft')
    RETURNING id),
o AS (
    UPDATE opportunity_cards SET lifecycle_state = 'used', snoozed_until = NULL, updated_at = now()
     WHERE id IN (SELECT opportunity_id FROM content_packages WHERE id IN (SELECT content_package_id FROM v))
       AND lifecycle_state <> 'used'
    RETURNING id),
u AS (
    INSERT INTO pattern_usages (pattern_template_id, content_variant_id, brand_id, channel)
    SELECT pattern_template_id, $1, brand_id, channel FROM v
     WHERE NOT EXISTS (SELECT 1 FROM pattern_usages WHERE content_variant_id = $1) RETURNING id)
INSERT INTO event_log (brand_id, event_type, subject_type, subject_id, message, meta)
SELECT brand_id, 'publish_succeeded', 'publishing_job', $2, $3, $4 FROM v
"""


async def record_published(conn: asyncpg.Connection, job: PublishingJob) -> None:
    """What a success changes beyond the job: the variant ``published``, its package
    ``published`` and the package's opportunity ``used``, its PatternUsage row unless the writer
    recorded it already, an event (one statement)."""
    with translate_errors():
        await conn.execute(_PUBLISHED_SQL, job.content_variant_id, str(job.id), f"published on {job.channel}",
                           {"content_variant_id": str(job.content_variant_id)})


_SETTLE_SUCCESS_SQL = """
WITH a AS (
    UPDATE publish_attempts SET status = 'success', finished_at = greatest(now(), started_at), external_post_id = $3,
           external_url = $4, raw_response = $5
     WHERE id = $1 AND status IN ('in_flight', 'unconfirmed')
    RETURNING id),
j AS (
    UPDATE publishing_jobs SET status = 'success', next_attempt_at = NULL, last_error = NULL, reconcile_pending = false,
           reconcile_checks = $7, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
     WHERE id = $2 AND status = 'running' AND lease_owner = $6 AND EXISTS (SELECT 1 FROM a)
    RETURNING id),
v AS (
    UPDATE content_variants SET status = 'published', updated_at = now() WHERE id = $8 AND EXISTS (SELECT 1 FROM j)
    RETURNING content_package_id, pattern_template_id, brand_id, channel),
p AS (
    UPDATE content_packages SET status = 'published', updated_at = now()
     WHERE id IN (SELECT content_package_id FROM v) AND status IN ('approved', 'scheduled', 'in_review', 'draft')
    RETURNING id),
o AS (
    UPDATE opportunity_cards SET lifecycle_state = 'used', snoozed_until = NULL, updated_at = now()
     WHERE id IN (SELECT opportunity_id FROM content_packages WHERE id IN (SELECT content_package_id FROM v))
       AND lifecycle_state <> 'used'
    RETURNING id),
u AS (
    INSERT INTO pattern_usages (pattern_template_id, content_variant_id, brand_id, channel)
    SELECT pattern_template_id, $8, brand_id, channel FROM v
     WHERE NOT EXISTS (SELECT 1 FROM pattern_usages WHERE content_variant_id = $8) RETURNING id),
e AS (
    INSERT INTO event_log (brand_id, event_type, subject_type, subject_id, message, meta)
    SELECT brand_id, 'publish_succeeded', 'publishing_job', $2::text, $9, $10 FROM v RETURNING id)
SELECT (SELECT count(*) FROM a) AS attempts, (SELECT count(*) FROM j) AS jobs
"""


async def settle_success(db: Database, job: PublishingJob, owner: str, attempt_id: UUID, outcome: AttemptOutcome,
                         *, reconcile_checks: int = 0) -> tuple[bool, bool]:
    """A success in one statement (one round trip instead of a transaction of five): the
    attempt's outcome, the job ``success`` and everything :func:`record_published` changes.
    Returns (attempt written, job written): the attempt only when it was still open, the job
    only when ``owner`` still held its lease (else the job's next holder finds the successful
    attempt and settles it: nothing is sent twice)."""
    checked = _checked(attempt_id, outcome)
    async with db.connection() as conn:
        with translate_errors():
            row = await conn.fetchrow(
                _SETTLE_SUCCESS_SQL, attempt_id, job.id, checked.external_post_id, checked.external_url,
                checked.raw_response, owner, reconcile_checks, job.content_variant_id, f"published on {job.channel}",
                {"content_variant_id": str(job.content_variant_id)},
            )  # fmt: skip
    return bool(row["attempts"]), bool(row["jobs"])


async def record_failed(conn: asyncpg.Connection, job: PublishingJob, reason: str) -> None:
    with translate_errors():
        await conn.execute(
            "INSERT INTO event_log (brand_id, event_type, subject_type, subject_id, message, meta)"
            " VALUES ($1, 'publish_failed', 'publishing_job', $2, $3, $4)",
            job.brand_id, str(job.id), reason[:500], {},
        )  # fmt: skip


async def release(db: Database, job_id: UUID, owner: str, *, retry_at: datetime, reason: str, refund: bool = False) -> bool:
    """Give a leased job back as ``pending`` (the publish step failed on our side, or the
    connection is blocked until ``retry_at``). An in-flight attempt keeps the job waiting for
    reconciliation: it may have been sent."""
    async with db.transaction() as conn:
        job = await _locked_job(conn, job_id, owner)
        if job is None:
            return False
        in_flight = await conn.fetchval(
            "SELECT count(*) FROM publish_attempts WHERE publishing_job_id = $1 AND status = 'in_flight'", job_id)
        return await update_job(conn, job_id, owner, JobUpdate(
            status=PublishStatus.PENDING, next_attempt_at=retry_at, last_error=reason[:480],
            reconcile_pending=bool(in_flight) or bool(job["reconcile_pending"]), reconcile_checks=job["reconcile_checks"],
            refund_attempt=refund and not job["reconcile_pending"],
        ))  # fmt: skip


_THREADS_SQL = """
SELECT v.id FROM content_variants v
 WHERE v.id = ANY($1::uuid[]) AND (
       SELECT (gs.plan_settings -> (v.channel_plan_id::text) ->> 'thread')::boolean
         FROM generation_sessions gs
        WHERE gs.content_package_id = v.content_package_id AND gs.plan_settings ? (v.channel_plan_id::text)
        ORDER BY gs.created_at DESC LIMIT 1) IS TRUE
"""


async def thread_variants(conn: asyncpg.Connection, variant_ids: list[UUID]) -> set[UUID]:
    """The variants written as threads: the latest writing round of their channel plan said so
    (``generation_sessions.plan_settings``, migration 0012)."""
    with translate_errors():
        return {r["id"] for r in await conn.fetch(_THREADS_SQL, variant_ids)}


__all__ = [
    "ATTEMPT_INDEX_CEILING", "thread_variants", "AttemptOutcome", "JobUpdate", "attempts_of", "begin_attempt", "claim_jobs", "finish_attempt",
    "record_failed", "record_published", "release", "settle_success", "update_job",
]  # fmt: skip
