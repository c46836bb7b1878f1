"""Where publishing lives in PostgreSQL: connections with sealed credentials, jobs under
leases, and their attempts.

Three rules make publishing exactly-once across any number of publishers:

* an attempt row (``in_flight``) is committed *before* its create is sent, only by the holder
  of the job's live lease, and at most one attempt of a job is in flight (a unique index);
* a finished attempt changes only once more, when the reconciliation of an ``unconfirmed`` one
  resolves it;
* a token refresh runs under the credentials row's lock (``SELECT … FOR UPDATE``), so one
  refresh at a time per connection across processes; the new pair is committed before it is
  used, and a refresh that brought no refresh token keeps the stored one.

Secrets are sealed with :class:`agents.publisher.tokens.TokenCipher`-like objects passed in
(anything with ``encrypt(plaintext, aad)`` / ``decrypt(envelope, aad)``), bound to their row
and field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID, uuid4

import asyncpg

from storage.errors import Conflict, NotFound
from storage.objects.base import utcnow
from storage.objects.enums import ChannelStatus, PublishStatus
from storage.objects.publishing import AuthStatus, ChannelConfig, PublishAttempt, PublishingJob

from . import repositories as repo
from .database import Database, translate_errors

SECRET_FIELDS = ("access_token", "refresh_token", "client_secret", "signing_secret")
ATTEMPT_INDEX_CEILING = 20


class Sealer(Protocol):
    def encrypt(self, plaintext: str, aad: str) -> str: ...
    def decrypt(self, envelope: str, aad: str) -> str: ...


@dataclass(frozen=True)
class Secrets:
    """A connection's secrets in plaintext: only in memory, between the API and the sealer."""

    access_token: str | None = None
    refresh_token: str | None = None
    client_secret: str | None = None
    signing_secret: str | None = None
    client_id: str | None = None

    def __repr__(self) -> str:  # never print a secret
        return "Secrets(***)"


@dataclass(frozen=True)
class Grant:
    """A refresh's result (what the adapter's ``TokenGrant`` carries)."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime | None


def _aad(config_id: UUID, field: str) -> str:
    return f"channel_credentials/{config_id}/{field}"


# -- connections ------------------------------------------------------------------------------


async def save_connection(conn: asyncpg.Connection, sealer: Sealer, config: ChannelConfig, secrets: Secrets) -> ChannelConfig:
    """Connect (or reconnect) a brand's channel: the config upserted on (brand, channel), the
    secrets sealed beside it. A reconnect without a refresh token keeps the stored one."""
    row = repo.channel_configs.table.to_row(config)
    cols = list(row)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c not in ("id", "brand_id", "channel", "created_at"))
    with translate_errors():
        config_id = await conn.fetchval(
            f"INSERT INTO channel_configs ({', '.join(cols)}) VALUES ({', '.join(f'${i}' for i in range(1, len(cols) + 1))}) "
            f"ON CONFLICT ON CONSTRAINT channel_configs_one_per_channel DO UPDATE SET {updates} RETURNING id",
            *[row[c] for c in cols],
        )
        sealed = {f: sealer.encrypt(getattr(secrets, f), _aad(config_id, f)) if getattr(secrets, f) else None
                  for f in SECRET_FIELDS}
        await conn.execute(
            "INSERT INTO channel_credentials (channel_config_id, access_token, refresh_token, client_secret, signing_secret, client_id)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel_config_id) DO UPDATE SET"
            " access_token = coalesce(EXCLUDED.access_token, channel_credentials.access_token),"
            " refresh_token = coalesce(EXCLUDED.refresh_token, channel_credentials.refresh_token),"
            " client_secret = coalesce(EXCLUDED.client_secret, channel_credentials.client_secret),"
            " signing_secret = coalesce(EXCLUDED.signing_secret, channel_credentials.signing_secret),"
            " client_id = coalesce(EXCLUDED.client_id, channel_credentials.client_id), updated_at = now()",
            config_id, sealed["access_token"], sealed["refresh_token"], sealed["client_secret"], sealed["signing_secret"],
            secrets.client_id,
        )  # fmt: skip
    return await repo.channel_configs.get(conn, config_id)


async def disconnect(conn: asyncpg.Connection, config_id: UUID) -> ChannelConfig:
    """Disconnect: status ``disconnected`` and the secrets deleted."""
    with translate_errors():
        found = await conn.execute(
            "UPDATE channel_configs SET status = 'disconnected', auth_status = 'ok', updated_at = now() WHERE id = $1", config_id
        )
        await conn.execute("DELETE FROM channel_credentials WHERE channel_config_id = $1", config_id)
    if found.endswith(" 0"):
        raise NotFound(f"ChannelConfig {config_id} not found", details={"id": str(config_id)})
    return await repo.channel_configs.get(conn, config_id)


async def connection_for(conn: asyncpg.Connection, brand_id: UUID, channel: str) -> ChannelConfig | None:
    found = await repo.channel_configs.list(conn, "brand_id = $1 AND channel = $2", brand_id, channel, limit=1)
    return found[0] if found else None


async def open_secrets(conn: asyncpg.Connection, sealer: Sealer, config_id: UUID, *, lock: bool = False) -> Secrets:
    """The decrypted secrets of a connection (``lock``: hold its row lock in this transaction)."""
    with translate_errors():
        row = await conn.fetchrow(
            "SELECT * FROM channel_credentials WHERE channel_config_id = $1" + (" FOR UPDATE" if lock else ""), config_id
        )
    if row is None:
        return Secrets()
    return Secrets(**{f: sealer.decrypt(row[f], _aad(config_id, f)) if row[f] else None for f in SECRET_FIELDS},
                   client_id=row["client_id"])  # fmt: skip


async def refresh_tokens(
    db: Database,
    sealer: Sealer,
    config_id: UUID,
    refresher: Callable[[Secrets], Awaitable[Grant]],
    *,
    still_needed: Callable[[ChannelConfig, Secrets], bool],
) -> tuple[ChannelConfig, Secrets]:
    """Refresh a connection's tokens, one refresher at a time per connection.

    Under the credentials row lock the state is read again: when ``still_needed`` says another
    publisher already refreshed, its tokens are returned and no refresh is made (a second use of
    a single-use refresh token would be refused). Otherwise ``refresher`` runs (HTTP, under the
    lock) and the new pair is committed before it is returned. An exception from ``refresher``
    rolls back and propagates; the caller marks the connection (see :func:`mark_connection`).
    """
    async with db.transaction() as conn:
        secrets = await open_secrets(conn, sealer, config_id, lock=True)
        config = await repo.channel_configs.get(conn, config_id)
        if not still_needed(config, secrets):
            return config, secrets
        grant = await refresher(secrets)
        with translate_errors():
            await conn.execute(
                "UPDATE channel_credentials SET access_token = $2, refresh_token = coalesce($3, refresh_token),"
                " refreshes = refreshes + 1, refreshed_at = now(), updated_at = now() WHERE channel_config_id = $1",
                config_id, sealer.encrypt(grant.access_token, _aad(config_id, "access_token")),
                sealer.encrypt(grant.refresh_token, _aad(config_id, "refresh_token")) if grant.refresh_token else None,
            )  # fmt: skip
            await conn.execute(
                "UPDATE channel_configs SET token_expires_at = $2, updated_at = now() WHERE id = $1", config_id, grant.expires_at
            )
        fresh = await open_secrets(conn, sealer, config_id)
        return await repo.channel_configs.get(conn, config_id), fresh


async def mark_connection(
    conn: asyncpg.Connection, config_id: UUID, *, auth_status: AuthStatus | None, error: str | None
) -> None:
    """Record a problem on a connection: an auth problem turns it to ``error`` (nothing more is
    published until someone reconnects); any other error is only noted."""
    with translate_errors():
        if auth_status is not None and auth_status is not AuthStatus.OK:
            await conn.execute(
                "UPDATE channel_configs SET status = 'error', auth_status = $2, last_error = $3, updated_at = now() WHERE id = $1",
                config_id, auth_status.value, (error or auth_status.value)[:500],
            )  # fmt: skip
        elif error:
            await conn.execute(
                "UPDATE channel_configs SET last_error = $2, updated_at = now() WHERE id = $1", config_id, error[:500]
            )


async def block_connection(conn: asyncpg.Connection, config_id: UUID, until: datetime) -> None:
    """A cap or 429: no publisher sends to this connection before ``until``."""
    with translate_errors():
        await conn.execute(
            "UPDATE channel_configs SET blocked_until = greatest(coalesce(blocked_until, $2), $2), updated_at = now()"
            " WHERE id = $1", config_id, until,
        )  # fmt: skip


async def rotate_keys(db: Database, sealer: Any) -> int:
    """Re-encrypt every sealed secret under the sealer's current key; how many were rewritten.
    Rows are locked one at a time, so publishers keep running."""
    async with db.connection() as conn:
        ids = [r["channel_config_id"] for r in await conn.fetch("SELECT channel_config_id FROM channel_credentials")]
    rewritten = 0
    for config_id in ids:
        async with db.transaction() as conn:
            row = await conn.fetchrow("SELECT * FROM channel_credentials WHERE channel_config_id = $1 FOR UPDATE", config_id)
            if row is None:
                continue
            new = {f: sealer.rotate(row[f], _aad(config_id, f)) if row[f] else None for f in SECRET_FIELDS}
            changed = {f: v for f, v in new.items() if v is not None}
            if changed:
                sets = ", ".join(f"{f} = ${i}" for i, f in enumerate(changed, start=2))
                await conn.execute(f"UPDATE channel_credentials SET {sets} WHERE channel_config_id = $1", config_id, *changed.values())
                rewritten += len(changed)
    return rewritten


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


async def finish_attempt(conn: asyncpg.Connection, attempt_id: UUID, outcome: AttemptOutcome) -> bool:
    """Write an attempt's outcome, once: False when it was already final (another publisher
    resolved it first)."""
    checked = PublishAttempt.model_validate({
        "publishing_job_id": attempt_id, "attempt_index": 1, "status": outcome.status, "started_at": utcnow(),
        "finished_at": utcnow(), "external_post_id": outcome.external_post_id, "external_url": outcome.external_url,
        "error_code": outcome.error_code, "error_message": outcome.error_message, "raw_response": outcome.raw_response,
    })  # the object's invariants, checked before the database's  # fmt: skip
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
    SELECT pattern_template_id, $1, brand_id, channel FROM v RETURNING id)
INSERT INTO event_log (brand_id, event_type, subject_type, subject_id, message, meta)
SELECT brand_id, 'publish_succeeded', 'publishing_job', $2, $3, $4 FROM v
"""


async def record_published(conn: asyncpg.Connection, job: PublishingJob) -> None:
    """What a success changes beyond the job: the variant ``published``, its package
    ``published`` and the package's opportunity ``used``, one PatternUsage row, an event (one
    statement)."""
    with translate_errors():
        await conn.execute(_PUBLISHED_SQL, job.content_variant_id, str(job.id), f"published on {job.channel}",
                           {"content_variant_id": str(job.content_variant_id)})


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


__all__ = [
    "AttemptOutcome", "Grant", "JobUpdate", "Secrets", "attempts_of", "begin_attempt", "block_connection", "claim_jobs",
    "connection_for", "disconnect", "finish_attempt", "mark_connection", "open_secrets", "record_failed",
    "record_published", "refresh_tokens", "release", "rotate_keys", "save_connection", "update_job",
]  # fmt: skip


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
    return ScheduleFacts(
        variant_status=variant["status"] if variant else None, variant_channel=variant["channel"] if variant else None,
        variant_body=variant["body"] if variant else None, package_id=variant["content_package_id"] if variant else None,
        connection=config, variant_open_jobs=open_jobs, same_day=[r["scheduled_at"] for r in day],
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
