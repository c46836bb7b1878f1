"""Publishing jobs under leases and their attempts.

Two rules make publishing exactly-once across any number of publishers:

* an attempt row (``in_flight``) is committed *before* its create is sent, only by the holder
  of the job's live lease, and at most one attempt of a job is in flight (a unique index);
* a finished attempt changes only once more, when the reconciliation of an ``unconfirmed`` one
  resolves it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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

_THREADED_SQL = """(
    SELECT (gs.plan_settings -> (v.channel_plan_id::text) ->> 'thread')::boolean
      FROM generation_sessions gs
     WHERE gs.content_package_id = v.content_package_id AND gs.plan_settings ? (v.channel_plan_id::text)
     ORDER BY gs.created_at DESC LIMIT 1) IS TRUE"""
"""A variant was written as a thread: the latest writing round of its channel plan said so
(``generation_sessions.plan_settings``, migration 0012). ``v`` is the variant's row."""

_CLAIM_SQL = f"""
WITH claimed AS (
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
    RETURNING *),
fresh AS (
    SELECT c.id, row_number() OVER (PARTITION BY cc.id ORDER BY c.scheduled_at, c.id) AS n,
           coalesce(($4::jsonb ->> cc.id::text)::int, 0) AS budget
      FROM claimed c JOIN channel_configs cc ON cc.brand_id = c.brand_id AND cc.channel = c.channel
     WHERE NOT c.reconcile_pending AND cc.status = 'connected' AND (cc.blocked_until IS NULL OR cc.blocked_until <= now())
       AND NOT EXISTS (SELECT 1 FROM publish_attempts a WHERE a.publishing_job_id = c.id)),
made AS (
    INSERT INTO publish_attempts (publishing_job_id, attempt_index, status, started_at)
    SELECT id, 1, 'in_flight', now() FROM fresh WHERE n <= budget
    RETURNING id, publishing_job_id, attempt_index, started_at)
SELECT c.*, v.body AS variant_body, {_THREADED_SQL} AS variant_threaded,
       EXISTS (SELECT 1 FROM publish_attempts a WHERE a.publishing_job_id = c.id) AS had_attempts,
       m.id AS made_id, m.attempt_index AS made_index, m.started_at AS made_started_at,
       cc.xmin::text || '/' || coalesce(cr.xmin::text, '-') AS connection_version
  FROM claimed c
  JOIN content_variants v ON v.id = c.content_variant_id
  LEFT JOIN made m ON m.publishing_job_id = c.id
  LEFT JOIN channel_configs cc ON cc.brand_id = c.brand_id AND cc.channel = c.channel
  LEFT JOIN channel_credentials cr ON cr.channel_config_id = cc.id
"""


@dataclass(frozen=True)
class Claimed:
    """One claimed job with what its publishing needs from the claim itself."""

    job: PublishingJob
    body: str
    threaded: bool
    """Its variant was written as a thread (posted as a reply chain where the delivery can)."""
    had_attempts: bool
    """It had attempts before this claim (their rows decide the path: reconcile, resume, retry)."""
    first_attempt: PublishAttempt | None
    """The ``in_flight`` row of its first create, committed by the claim itself (None: made later
    by :func:`begin_attempt`, or never)."""
    connection_version: str | None = None
    """The row versions of its connection and sealed credentials as the claim saw them (None:
    no connection): a publisher that read them earlier at this version need not read again."""


async def claim_batch(db: Database, owner: str, lease_seconds: float, limit: int,
                      first_attempts: Mapping[UUID, int] | None = None) -> list[Claimed]:
    """Claim due jobs under a lease, in one statement. A job waiting for reconciliation is
    claimed without counting an attempt (looking is not publishing), even when its attempts are
    used up.

    ``first_attempts`` (connection id → how many creates the caller will send on it right now)
    lets the claim also commit the ``in_flight`` attempt row of each fresh job's first create
    (no attempts yet, connection connected and not blocked), up to that many per connection:
    one round trip instead of one per job. The row is committed before anything is sent, as
    :func:`begin_attempt`'s is; a caller that then does not send must :func:`cancel_attempt` it."""
    budgets = {str(k): int(n) for k, n in (first_attempts or {}).items() if n > 0}
    async with db.connection() as conn:
        with translate_errors():
            records = await conn.fetch(_CLAIM_SQL, limit, owner, float(lease_seconds), budgets)
    claimed = []
    for r in records:
        job = repo.publishing_jobs.table.from_row(r)
        first = None if r["made_id"] is None else PublishAttempt(
            id=r["made_id"], publishing_job_id=job.id, attempt_index=r["made_index"], started_at=r["made_started_at"])
        claimed.append(Claimed(job, r["variant_body"], bool(r["variant_threaded"]), bool(r["had_attempts"]), first,
                               r["connection_version"]))
    return sorted(claimed, key=lambda c: (c.job.scheduled_at, c.job.id))


async def claim_jobs(db: Database, owner: str, lease_seconds: float, limit: int) -> list[PublishingJob]:
    """Claim due jobs under a lease (no attempt rows made: see :func:`claim_batch`)."""
    return [c.job for c in await claim_batch(db, owner, lease_seconds, limit)]


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


_CONTENT_PUBLISHED_CTES = """
v AS (
    UPDATE content_variants SET status = 'published', updated_at = now()
     WHERE id IN (SELECT variant_id FROM published)
    RETURNING id, content_package_id, pattern_template_id, brand_id, channel),
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
    SELECT v.pattern_template_id, v.id, v.brand_id, v.channel FROM v
     WHERE NOT EXISTS (SELECT 1 FROM pattern_usages pu WHERE pu.content_variant_id = v.id) RETURNING id),
e AS (
    INSERT INTO event_log (brand_id, event_type, subject_type, subject_id, message, meta)
    SELECT v.brand_id, 'publish_succeeded', 'publishing_job', published.job_id::text, published.message,
           published.meta::jsonb
      FROM v JOIN published ON published.variant_id = v.id RETURNING id)"""
"""What a success changes beyond the job, over a CTE ``published(variant_id, job_id, message,
meta)``: the variant ``published``, its package ``published`` and the package's opportunity
``used``, its PatternUsage row unless the writer recorded it already, an event."""

_PUBLISHED_SQL = f"""
WITH published AS (SELECT $1::uuid AS variant_id, $2::uuid AS job_id, $3::text AS message, $4::text AS meta),
{_CONTENT_PUBLISHED_CTES}
SELECT count(*) FROM e
"""


def _published_meta(job: PublishingJob) -> str:
    return json.dumps({"content_variant_id": str(job.content_variant_id)})


async def record_published(conn: asyncpg.Connection, job: PublishingJob) -> None:
    """What a success changes beyond the job (see ``_CONTENT_PUBLISHED_CTES``), in the caller's
    transaction: for a success settled together with other changes (a connection marked, a
    thread whose last part was confirmed earlier)."""
    with translate_errors():
        await conn.execute(_PUBLISHED_SQL, job.content_variant_id, job.id, f"published on {job.channel}", _published_meta(job))


_SETTLE_SUCCESSES_SQL = f"""
WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[])
        AS t(attempt_id, job_id, variant_id, post_id, url, raw, checks, message)),
a AS (
    UPDATE publish_attempts pa SET status = 'success', finished_at = greatest(now(), pa.started_at),
           external_post_id = input.post_id, external_url = input.url, raw_response = input.raw::jsonb
      FROM input
     WHERE pa.id = input.attempt_id AND pa.publishing_job_id = input.job_id AND pa.status IN ('in_flight', 'unconfirmed')
    RETURNING pa.publishing_job_id),
j AS (
    UPDATE publishing_jobs pj SET status = 'success', next_attempt_at = NULL, last_error = NULL, reconcile_pending = false,
           reconcile_checks = input.checks, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
      FROM input
     WHERE pj.id = input.job_id AND pj.status = 'running' AND pj.lease_owner = $9
       AND pj.id IN (SELECT publishing_job_id FROM a)
    RETURNING pj.id),
published AS (
    SELECT input.variant_id, input.job_id, input.message,
           json_build_object('content_variant_id', input.variant_id)::text AS meta
      FROM input WHERE input.job_id IN (SELECT id FROM j)),
{_CONTENT_PUBLISHED_CTES}
SELECT (SELECT coalesce(array_agg(publishing_job_id), '{{}}') FROM a) AS attempts,
       (SELECT coalesce(array_agg(id), '{{}}') FROM j) AS jobs
"""


@dataclass(frozen=True)
class Success:
    """One confirmed create to settle: its job, attempt and what the platform answered."""

    job: PublishingJob
    attempt_id: UUID
    outcome: AttemptOutcome
    reconcile_checks: int = 0


async def settle_successes(db: Database, owner: str, successes: Sequence[Success]) -> list[tuple[bool, bool]]:
    """Successes in one statement (one round trip for a whole batch): each attempt's outcome,
    its job ``success``, and what ``_CONTENT_PUBLISHED_CTES`` changes. Per success, (attempt
    written, job written): the attempt only when it was still open, the job only when ``owner``
    still held its lease (else the job's next holder finds the successful attempt and settles
    it: nothing is sent twice). All or nothing: a refused statement writes none of them."""
    checked = [(s, _checked(s.attempt_id, s.outcome)) for s in successes]
    columns = (
        [s.attempt_id for s, _ in checked], [s.job.id for s, _ in checked], [s.job.content_variant_id for s, _ in checked],
        [c.external_post_id for _, c in checked], [c.external_url for _, c in checked],
        [None if c.raw_response is None else json.dumps(c.raw_response) for _, c in checked],
        [s.reconcile_checks for s, _ in checked], [f"published on {s.job.channel}" for s, _ in checked],
    )  # fmt: skip
    async with db.connection() as conn:
        with translate_errors():
            row = await conn.fetchrow(_SETTLE_SUCCESSES_SQL, *columns, owner)
    attempts, jobs = set(row["attempts"]), set(row["jobs"])
    return [(s.job.id in attempts, s.job.id in jobs) for s in successes]


async def cancel_attempt(db: Database, attempt: PublishAttempt, reason: str) -> bool:
    """Close an ``in_flight`` attempt that was never sent (made by the claim, then the create
    was put off): ``cancelled``, so nothing looks it up as possibly published."""
    async with db.connection() as conn:
        return await finish_attempt(conn, attempt.id, _not_sent(reason))


def _not_sent(reason: str) -> AttemptOutcome:
    return AttemptOutcome(status="cancelled", error_code="not_sent", error_message=reason[:500])


async def record_failed(conn: asyncpg.Connection, job: PublishingJob, reason: str) -> None:
    with translate_errors():
        await conn.execute(
            "INSERT INTO event_log (brand_id, event_type, subject_type, subject_id, message, meta)"
            " VALUES ($1, 'publish_failed', 'publishing_job', $2, $3, $4)",
            job.brand_id, str(job.id), reason[:500], {},
        )  # fmt: skip


async def release(db: Database, job_id: UUID, owner: str, *, retry_at: datetime, reason: str, refund: bool = False,
                  unsent: PublishAttempt | None = None) -> bool:  # fmt: skip
    """Give a leased job back as ``pending`` (the publish step failed on our side, or the
    connection is blocked until ``retry_at``). An in-flight attempt keeps the job waiting for
    reconciliation: it may have been sent. ``unsent``: the claim's attempt row of a create that
    was never sent, cancelled in the same transaction (as :func:`cancel_attempt`)."""
    async with db.transaction() as conn:
        job = await _locked_job(conn, job_id, owner)
        if job is None:
            return False
        if unsent is not None:
            await finish_attempt(conn, unsent.id, _not_sent(reason))
        in_flight = await conn.fetchval(
            "SELECT count(*) FROM publish_attempts WHERE publishing_job_id = $1 AND status = 'in_flight'", job_id)
        return await update_job(conn, job_id, owner, JobUpdate(
            status=PublishStatus.PENDING, next_attempt_at=retry_at, last_error=reason[:480],
            reconcile_pending=bool(in_flight) or bool(job["reconcile_pending"]), reconcile_checks=job["reconcile_checks"],
            refund_attempt=refund and not job["reconcile_pending"],
        ))  # fmt: skip


_THREADS_SQL = f"SELECT v.id FROM content_variants v WHERE v.id = ANY($1::uuid[]) AND {_THREADED_SQL}"


async def thread_variants(conn: asyncpg.Connection, variant_ids: list[UUID]) -> set[UUID]:
    """The variants written as threads: the latest writing round of their channel plan said so
    (``generation_sessions.plan_settings``, migration 0012)."""
    with translate_errors():
        return {r["id"] for r in await conn.fetch(_THREADS_SQL, variant_ids)}


__all__ = [
    "ATTEMPT_INDEX_CEILING", "AttemptOutcome", "Claimed", "JobUpdate", "Success", "attempts_of", "begin_attempt",
    "cancel_attempt", "claim_batch", "claim_jobs", "finish_attempt", "record_failed", "record_published", "release",
    "settle_successes", "thread_variants", "update_job",
]  # fmt: skip
