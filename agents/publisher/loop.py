"""The publish loop: claim due jobs, publish each exactly once, record every attempt.

Plain async code over a :class:`storage.postgres.Database` and an aiohttp session, so it runs
in a test, a benchmark or the runtime's publisher actor alike; any number of loops may run at
once against one database (leases and row locks keep them apart). For each claimed job:

1. the latest attempt decides the path: ``success`` → finish the job; ``in_flight`` (its
   publisher died mid-send) or ``unconfirmed`` → reconcile first (look the post up);
2. a blocked connection (cap, 429) or an empty token bucket gives the job back for later
   without using an attempt; a token about to expire is refreshed under the row lock;
3. an ``in_flight`` attempt row is committed, *then* the one create is sent;
4. the state machine's decision is written in one transaction (attempt, job, connection,
   variant/package/opportunity/pattern usage on success).

Round trips per batch, not per job: the claim itself commits the first attempt row of each fresh
job on a connection this loop knows it will send on now (step 3 for most jobs; a row whose
create is then put off is cancelled, never left in flight), the claim returns the variants'
bodies and the connections' row versions (a connection is read again only when its version
changed), and the successes that finish together are settled in one statement
(:mod:`.settling`). None of it moves a send before its attempt row is committed.

Whatever goes wrong on our side (database down, a bug), the job is handed back ``pending`` or,
if even that fails, its lease runs out and the scheduler's sweep hands it back: never left
``running``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import aiohttp
import structlog

from storage.objects.base import utcnow
from storage.objects.enums import AttemptStatus, ChannelStatus, PublishStatus
from storage.objects.publishing import AuthStatus, ChannelConfig, PublishAttempt, PublishingJob
from storage.postgres import Database
from storage.postgres import publishing as store
from storage.postgres import repositories as repo

from .adapters import ADAPTERS, Adapter, Credentials, PostRequest
from .config import PublisherConfig
from .machine import ConnectionMark, Decision, JobState, after_create, after_reconcile
from .outcomes import Outcome, PublishResult, RefreshFailed, RefreshUnavailable
from .performance import OutcomeSink, PerformanceIngest
from .ratelimit import Buckets
from .settling import SuccessGroup
from .threads import Thread, thread_parts

log = structlog.get_logger(__name__)

RECONCILE_MARGIN = timedelta(minutes=2)  # clock skew between us and the platform
FORGET_AFTER_LEASES = 10  # a connection idle this many lease periods is dropped from memory
@dataclass
class _BatchContext:
    bodies: dict[UUID, str]
    attempts: dict[UUID, list[PublishAttempt]]
    connections: dict[tuple[UUID, str], tuple[ChannelConfig | None, store.Secrets]]
    threads: set[UUID] = field(default_factory=set)
    """Variants written as threads (posted as reply chains where the delivery can)."""
    first_attempts: dict[UUID, PublishAttempt] = field(default_factory=dict)
    """The in-flight first attempts the claim committed, by job: used by the job's first create,
    or cancelled if that create is put off."""


def _blocked(config: ChannelConfig, now: datetime) -> bool:
    """The platform asked us to wait (a 429's reset, a block) and the time is not up."""
    return config.blocked_until is not None and config.blocked_until > now


class Lost(Exception):
    """The lease on the job is gone: another publisher owns it now; stop touching it."""


class PublishLoop:
    """Claims and publishes jobs. ``run_once()`` is one batch; ``run(stop)`` loops."""

    def __init__(self, db: Database, sealer: Any, session: aiohttp.ClientSession, config: PublisherConfig,
                 *, clock: Callable[[], datetime] = utcnow, outcome: OutcomeSink | None = None) -> None:
        self.db, self.sealer, self.session, self.config, self.clock = db, sealer, session, config, clock
        self.performance = PerformanceIngest(db, sealer, session, outcome=outcome, schedule=config.pull_schedule,
                                             http_timeout=config.http_timeout, clock=clock)  # fmt: skip
        self._metrics_pulled_at = float("-inf")
        self.buckets = Buckets()
        self.successes = SuccessGroup(db, config.owner)
        self.known: dict[tuple[UUID, str], tuple[str, ChannelConfig, store.Secrets]] = {}
        """The connections of earlier batches with the row version they were read at: where the
        claim may commit first attempts, and what a batch need not read again while the claim
        reports the same version (a reconnect, refresh, block or mark changes it). A connection
        none of whose jobs was claimed for ``FORGET_AFTER_LEASES`` lease periods is dropped, with
        its decrypted tokens: it no longer takes part in the claim's budget either."""
        self.claimed_at: dict[tuple[UUID, str], datetime] = {}
        self.caps = {name: asyncio.Semaphore(n) for name, n in config.platform_caps.items()}
        self.unsent: dict[UUID, PublishAttempt] = {}
        """Attempt rows the claim committed for jobs in progress whose create is not sent yet:
        if the job fails on our side before sending, its row is cancelled, not left in flight
        (which would send the job to reconciliation for a post that was never sent)."""
        self.counts: dict[str, int] = {}
        self.log = log.bind(owner=config.owner)

    # -- driving ----------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch and publish it; how many jobs were claimed."""
        claimed = await store.claim_batch(self.db, self.config.owner, self.config.lease_seconds, self.config.batch,
                                          first_attempts=self._sendable())
        if claimed:
            context = await self._batch_context(claimed)
            await asyncio.gather(*(self._guarded(c.job, context) for c in claimed))
        return len(claimed)

    def _sendable(self) -> dict[UUID, int]:
        """How many creates each known connection would send right now (connected, not blocked,
        no refresh due, tokens in its bucket): the claim commits that many first attempts on it.
        A connection not seen yet gets none (its jobs make their attempt rows one by one)."""
        now, budgets = self.clock(), {}
        for _, config, _ in self.known.values():
            adapter = ADAPTERS[config.adapter.value]
            if config.status is not ChannelStatus.CONNECTED or _blocked(config, now) or self._refresh_due(config, adapter, now):
                continue
            budgets[config.id] = self._bucket(config, adapter).available(now) if adapter.default_rate else self.config.batch
        return budgets

    def _refresh_due(self, config: ChannelConfig, adapter: Adapter | type[Adapter], now: datetime) -> bool:
        return adapter.refreshes and self.config.policy.needs_refresh(config.token_expires_at, now)

    async def _batch_context(self, claimed: list[store.Claimed]) -> _BatchContext:
        """What the batch's jobs need beyond the claim's rows: earlier attempts (only of jobs
        that had any), and each connection with its secrets, read again only when the claim saw
        a row version this publisher has not read (a refresh later in the batch is picked up: a
        stale token's 401 finds the new one)."""
        versions = {(c.job.brand_id, c.job.channel.value): c.connection_version for c in claimed}
        self._forget_idle(versions)
        stale = [key for key, version in versions.items() if version is None or self.known.get(key, ("",))[0] != version]
        earlier = [c.job.id for c in claimed if c.had_attempts]
        attempts: dict[UUID, list[PublishAttempt]] = {}
        read: dict[tuple[UUID, str], tuple[ChannelConfig | None, store.Secrets]] = {}
        if earlier or stale:
            async with self.db.connection() as conn:
                if earlier:
                    for attempt in await repo.publish_attempts.list(conn, "publishing_job_id = ANY($1::uuid[])", earlier,
                                                                    order_by="publishing_job_id, attempt_index"):
                        attempts.setdefault(attempt.publishing_job_id, []).append(attempt)
                if stale:
                    read = await store.connections_with_secrets(conn, self.sealer, stale)
        for key, (config, secrets) in read.items():
            if config is not None and versions[key] is not None:
                self.known[key] = (versions[key], config, secrets)
            else:
                self.known.pop(key, None)
        connections = {key: read[key] if key in read else self.known[key][1:] for key in versions}
        return _BatchContext(bodies={c.job.content_variant_id: c.body for c in claimed}, attempts=attempts,
                             connections=connections, threads={c.job.content_variant_id for c in claimed if c.threaded},
                             first_attempts={c.job.id: c.first_attempt for c in claimed if c.first_attempt is not None})

    def _forget_idle(self, claimed: Iterable[tuple[UUID, str]]) -> None:
        now = self.clock()
        for key in claimed:
            self.claimed_at[key] = now
        horizon = now - timedelta(seconds=FORGET_AFTER_LEASES * self.config.lease_seconds)
        for key in [k for k, at in self.claimed_at.items() if at < horizon]:
            del self.claimed_at[key]
            self.known.pop(key, None)

    async def run(self, stop: asyncio.Event) -> None:
        """Loop until ``stop`` is set; a database outage is waited out, never fatal."""
        while not stop.is_set():
            try:
                claimed = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is down or restarting: try again shortly
                self._count("loop_errors")
                self.log.warning("publisher.loop_error", error=f"{type(exc).__name__}: {exc}"[:300])
                claimed = 0
            await self._pull_metrics_when_due()
            if not claimed:
                try:
                    await asyncio.wait_for(stop.wait(), self.config.poll_seconds)
                except TimeoutError:
                    pass

    async def _pull_metrics_when_due(self) -> None:
        """Performance ingestion, every ``metrics_every_seconds``, between publishing rounds."""
        every = self.config.metrics_every_seconds
        if every is None or time.monotonic() - self._metrics_pulled_at < every:
            return
        self._metrics_pulled_at = time.monotonic()
        try:
            self.counts["metrics_pulls"] = self.counts.get("metrics_pulls", 0) + await self.performance.run_once()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database is down: the next round tries again
            self.log.warning("publisher.metrics_error", error=f"{type(exc).__name__}: {exc}"[:300])

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    async def _guarded(self, job: PublishingJob, context: _BatchContext) -> None:
        try:
            outcome = await self.process(job, context)
            self._count(outcome)
        except Lost:
            self._count("lease_lost")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._count("errors")
            self.log.error("publisher.job_error", job_id=str(job.id), error=f"{type(exc).__name__}: {exc}"[:300])
            try:
                await store.release(self.db, job.id, self.config.owner, retry_at=self.clock() + self.config.policy.backoff(1),
                                    reason=f"publisher error: {type(exc).__name__}", unsent=self.unsent.pop(job.id, None))
            except Exception:  # noqa: S110 - the lease runs out and the sweep hands the job back
                pass
        finally:
            self.unsent.pop(job.id, None)

    # -- one job ----------------------------------------------------------------------------

    async def process(self, job: PublishingJob, context: _BatchContext) -> str:
        """Publish one claimed job; the name of what happened (for counters and tests)."""
        first = context.first_attempts.pop(job.id, None)  # only a job without earlier attempts has one
        if first is not None:
            self.unsent[job.id] = first
        config, secrets = context.connections[(job.brand_id, job.channel.value)]
        body = context.bodies[job.content_variant_id]
        attempts = context.attempts.get(job.id, [])
        latest = attempts[-1] if attempts else None
        threaded = config is not None and job.content_variant_id in context.threads
        parts = thread_parts(job.channel, config.adapter.value, body) if threaded else [body]
        thread = Thread.of(parts or [body], attempts)
        if latest is not None and latest.status is AttemptStatus.SUCCESS and thread.complete:
            return await self._settle(job, Decision(job_status=PublishStatus.SUCCESS), None, None, config)
        unconfirmed = latest is not None and latest.status in (AttemptStatus.IN_FLIGHT, AttemptStatus.UNCONFIRMED)
        # Looking an unconfirmed create up is a read: done even on a connection in error.
        if config is None or (config.status is not ChannelStatus.CONNECTED and not (unconfirmed and config.status is ChannelStatus.ERROR)):
            reason = "channel not connected" if config is None else f"channel is {config.status.value}"
            if first is not None:
                await store.cancel_attempt(self.db, first, reason)
            if latest is not None and latest.status is AttemptStatus.IN_FLIGHT:
                async with self.db.transaction() as conn:  # nobody can look it up now: say so
                    await store.finish_attempt(conn, latest.id, store.AttemptOutcome(
                        status="unconfirmed", error_code="lease_expired", error_message="the publisher stopped mid-attempt"))
            if unconfirmed:
                reason += "; the last create is unconfirmed (it may have been published)"
            return await self._settle(job, Decision(job_status=PublishStatus.FAILED, last_error=reason), None, None, config)
        adapter: Adapter = ADAPTERS[config.adapter.value](self.session, timeout=self.config.http_timeout)
        request = self._request(job, thread)
        creds = self._credentials(config, secrets)
        state = JobState(attempts=job.attempts, max_attempts=job.max_attempts, reconcile_pending=job.reconcile_pending,
                         reconcile_checks=job.reconcile_checks)
        count_next = False  # the claim counted this attempt already (unless it was a reconcile claim)
        if latest is not None and latest.status in (AttemptStatus.IN_FLIGHT, AttemptStatus.UNCONFIRMED):
            verdict = await self._reconcile(job, config, adapter, creds, request, latest, state, thread)
            if isinstance(verdict, str):
                return verdict
            config, creds, state = verdict
            count_next = True
        elif job.reconcile_pending:
            count_next = True  # flagged, but no attempt was ever sent: a normal create, counted now
        return await self._create(job, config, adapter, creds, state, count_next, thread, first)

    @staticmethod
    def _request(job: PublishingJob, thread: Thread) -> PostRequest:
        """The create of the thread's next part (the whole post when it is one part)."""
        return PostRequest(job_id=str(job.id), text=thread.text, channel=job.channel.value, brand_id=str(job.brand_id),
                           scheduled_at=job.scheduled_at, created_at=job.created_at, reply=thread.reply, part=thread.index)

    def _credentials(self, config: ChannelConfig, secrets: store.Secrets) -> Credentials:
        endpoint = config.endpoint or str(self.config.outbox_dir / f"{config.brand_id}.jsonl")
        return Credentials(endpoint=endpoint, account_id=config.account_ref, access_token=secrets.access_token,
                           refresh_token=secrets.refresh_token, expires_at=config.token_expires_at,
                           client_id=secrets.client_id, client_secret=secrets.client_secret, secret=secrets.signing_secret)

    async def _reconcile(self, job, config, adapter, creds, request, latest: PublishAttempt, state: JobState, thread: Thread):
        """Look an unconfirmed create up. Returns a final outcome name, or the (config, creds,
        state) to go on creating with when the post is certainly not there."""
        if latest.status is AttemptStatus.IN_FLIGHT:  # its publisher died after committing it
            async with self.db.transaction() as conn:
                await store.finish_attempt(conn, latest.id, store.AttemptOutcome(
                    status="unconfirmed", error_code="lease_expired", error_message="the publisher stopped mid-attempt"))
        state = state.model_copy(update={"reconcile_pending": True})
        since = latest.started_at - RECONCILE_MARGIN
        async with self.caps.get(adapter.name, asyncio.Semaphore(4)):
            result = await adapter.reconcile(creds, request, since)
        decision = after_reconcile(state, result, self.clock(), self.config.policy)
        if decision.refresh_and_retry:
            refreshed = await self._refresh(job, config, adapter, creds, force=True)
            if isinstance(refreshed, str):
                return refreshed
            config, creds = refreshed
            state = state.model_copy(update={"refreshed": True})
            result = await adapter.reconcile(creds, request, since)
            decision = after_reconcile(state, result, self.clock(), self.config.policy)
        self._observe(config, result, adapter)
        if decision.create_now and config.status is not ChannelStatus.CONNECTED:
            decision = Decision(job_status=PublishStatus.FAILED, attempt_status=AttemptStatus.FAILED,
                                last_error=f"not published, and the channel is {config.status.value}")
        if decision.create_now:
            async with self.db.transaction() as conn:
                if not await store.finish_attempt(conn, latest.id, self._attempt_outcome(decision, result)):
                    raise Lost  # someone else resolved it; the job is theirs to settle
            return config, creds, state.model_copy(update={"after_unconfirmed": True, "reconcile_pending": False})
        if decision.job_status is PublishStatus.SUCCESS and not thread.last_part:  # a thread goes on
            await self._confirm_part(latest, decision, result, thread)
            return config, creds, state.model_copy(update={"reconcile_pending": False})
        return await self._settle(job, decision, latest, result, config, thread)

    async def _confirm_part(self, attempt: PublishAttempt, decision: Decision, result: PublishResult, thread: Thread) -> None:
        """A thread's part is out: its remote id committed before the next part is sent."""
        async with self.db.transaction() as conn:
            if not await store.finish_attempt(conn, attempt.id, self._attempt_outcome(decision, result, thread)):
                raise Lost
        thread.confirm(decision.external_id or result.external_id, result.raw)

    async def _create(self, job, config, adapter, creds, state: JobState, count_next: bool, thread: Thread,
                      first: PublishAttempt | None = None) -> str:
        """The job's next create (each part of a thread in turn). ``first``: its attempt row,
        committed by the claim; cancelled here when the create is put off."""
        now = self.clock()
        blocked = _blocked(config, now)
        wait = None if blocked or not adapter.default_rate else self._bucket(config, adapter).wait_until(now)
        refresh = self._refresh_due(config, adapter, now)
        # A create put off is not sent now: the claim's row is cancelled, so nothing looks it up
        # later (in the release's transaction when the job is given back).
        if blocked:
            await store.release(self.db, job.id, self.config.owner, retry_at=config.blocked_until,
                                reason="connection rate-limited", refund=not count_next, unsent=first)
            return "deferred"
        if wait is not None:
            await store.release(self.db, job.id, self.config.owner, retry_at=wait, reason="rate limit bucket empty",
                                refund=not count_next, unsent=first)
            return "deferred"
        if first is not None and refresh:
            await store.cancel_attempt(self.db, first, "put off before sending (token refresh)")
            first = None
        if refresh:
            refreshed = await self._refresh(job, config, adapter, creds, force=False)
            if isinstance(refreshed, str):
                return refreshed
            config, creds = refreshed
        request = self._request(job, thread)
        for _ in range(2 + len(thread.parts)):  # one more create only after a 401 and a refresh, or a confirmed part
            attempt = first or await store.begin_attempt(self.db, job.id, self.config.owner, count=count_next,
                                                         lease_seconds=self.config.lease_seconds)
            first = None  # the claim's row serves the first create only
            self.unsent.pop(job.id, None)  # sent from here on: an error leaves it to be looked up
            if attempt is None:
                return await self._no_attempt(job, state)
            if count_next:
                state = state.model_copy(update={"attempts": min(state.attempts + 1, state.max_attempts)})
            async with self.caps.get(adapter.name, asyncio.Semaphore(4)):
                result = await adapter.publish(creds, request)
            self._observe(config, result, adapter)
            decision = after_create(state, result, self.clock(), self.config.policy)
            if decision.job_status is PublishStatus.SUCCESS and not thread.last_part:  # on to the next part
                await self._confirm_part(attempt, decision, result, thread)
                request, count_next = self._request(job, thread), False
                state = state.model_copy(update={"after_unconfirmed": False})
                continue
            if not decision.refresh_and_retry:
                return await self._settle(job, decision, attempt, result, config, thread)
            async with self.db.transaction() as conn:
                await store.finish_attempt(conn, attempt.id, self._attempt_outcome(decision, result))
            refreshed = await self._refresh(job, config, adapter, creds, force=True)
            if isinstance(refreshed, str):
                return refreshed
            config, creds = refreshed
            state = state.model_copy(update={"refreshed": True})
            count_next = False  # the refunded attempt is reused
        raise AssertionError("unreachable: the second 401 is a permanent decision, the last part settles")

    async def _no_attempt(self, job: PublishingJob, state: JobState) -> str:
        """begin_attempt refused: the lease is gone, or there is no attempt left to use."""
        async with self.db.connection() as conn:
            row = await conn.fetchrow("SELECT status, lease_owner, attempts, max_attempts FROM publishing_jobs WHERE id = $1", job.id)
        if row is None or row["status"] != "running" or row["lease_owner"] != self.config.owner:
            raise Lost
        return await self._settle(job, Decision(job_status=PublishStatus.FAILED,
                                                last_error=f"out of attempts ({row['attempts']})"), None, None, None)

    async def _refresh(self, job, config: ChannelConfig, adapter: Adapter, creds: Credentials, *, force: bool):
        seen = creds.access_token
        policy, now = self.config.policy, self.clock()

        def still_needed(current: ChannelConfig, secrets: store.Secrets) -> bool:
            if force:
                return secrets.access_token == seen  # nobody refreshed since we saw the 401
            return policy.needs_refresh(current.token_expires_at, now)

        async def refresher(secrets: store.Secrets) -> store.Grant:
            grant = await adapter.refresh(self._credentials(config, secrets))
            return store.Grant(grant.access_token, grant.refresh_token, grant.expires_at)

        try:
            config, secrets = await store.refresh_tokens(self.db, self.sealer, config.id, refresher, still_needed=still_needed)
        except RefreshFailed as exc:
            async with self.db.transaction() as conn:
                await store.mark_connection(conn, config.id, auth_status=AuthStatus.REFRESH_NEEDED,
                                            error=f"token refresh refused ({exc.code}): reconnect the channel")
            return await self._settle(job, Decision(job_status=PublishStatus.FAILED,
                                                    last_error=f"token refresh refused ({exc.code}): reconnect the channel"),
                                      None, None, None)
        except RefreshUnavailable as exc:
            await store.release(self.db, job.id, self.config.owner, retry_at=now + policy.backoff(1),
                                reason=f"token refresh unavailable: {exc}"[:400], refund=True)
            return "deferred"
        self._count("refreshes")
        return config, self._credentials(config, secrets)

    def _bucket(self, config: ChannelConfig, adapter: Adapter):
        calls, seconds = adapter.default_rate or (1, 1.0)
        return self.buckets.get(str(config.id), calls, timedelta(seconds=seconds))

    def _observe(self, config: ChannelConfig, result: PublishResult, adapter: Adapter) -> None:
        if not adapter.default_rate:
            return
        bucket = self._bucket(config, adapter)
        bucket.observe(result.rate, self.clock())
        if result.outcome is Outcome.RATE_LIMITED and result.retry_at:
            bucket.block(result.retry_at)

    @staticmethod
    def _attempt_outcome(decision: Decision, result: PublishResult, thread: Thread | None = None) -> store.AttemptOutcome:
        status = decision.attempt_status or AttemptStatus.FAILED
        if status is AttemptStatus.SUCCESS:
            raw = result.raw
            if thread is not None and len(thread.parts) > 1:
                raw = {**(raw or {}), "thread_part": thread.index + 1, "thread_parts": len(thread.parts)}
            return store.AttemptOutcome(status="success", external_post_id=decision.external_id or result.external_id,
                                        external_url=decision.url or result.url, raw_response=raw)
        return store.AttemptOutcome(status=status.value, error_code=(result.error_code or result.outcome.value)[:120],
                                    error_message=(result.message or None) and result.message[:500], raw_response=result.raw)

    async def _settle(self, job: PublishingJob, decision: Decision, attempt: PublishAttempt | None,
                      result: PublishResult | None, config: ChannelConfig | None, thread: Thread | None = None) -> str:
        """Write a decision in one transaction; the outcome's name."""
        if (decision.job_status is PublishStatus.SUCCESS and attempt is not None and result is not None
                and decision.attempt_status is AttemptStatus.SUCCESS and decision.mark_connection is None
                and decision.block_connection_until is None and not decision.refund_attempt):
            # The common case in one statement: attempt, job and content together.
            attempt_done, job_done = await self.successes.settle(store.Success(
                job, attempt.id, self._attempt_outcome(decision, result, thread), reconcile_checks=decision.reconcile_checks))
            if not (attempt_done and job_done):
                raise Lost
            self.log.info("publisher.job", job_id=str(job.id), channel=job.channel.value, outcome="published")
            return "published"
        async with self.db.transaction() as conn:
            if attempt is not None and result is not None and decision.attempt_status is not None:
                if not await store.finish_attempt(conn, attempt.id, self._attempt_outcome(decision, result, thread)):
                    raise Lost
            update = store.JobUpdate(
                status=decision.job_status, next_attempt_at=decision.next_attempt_at, last_error=decision.last_error,
                reconcile_pending=decision.reconcile_pending, reconcile_checks=decision.reconcile_checks,
                refund_attempt=decision.refund_attempt,
            )  # fmt: skip
            if not await store.update_job(conn, job.id, self.config.owner, update):
                raise Lost
            if decision.job_status is PublishStatus.SUCCESS:
                await store.record_published(conn, job)
            elif decision.job_status is PublishStatus.FAILED:
                await store.record_failed(conn, job, decision.last_error or "failed")
            if config is not None and decision.mark_connection is not None:
                status = {ConnectionMark.REVOKED: AuthStatus.REVOKED, ConnectionMark.REFRESH_NEEDED: AuthStatus.REFRESH_NEEDED}
                await store.mark_connection(conn, config.id, auth_status=status.get(decision.mark_connection),
                                            error=decision.last_error)
            if config is not None and decision.block_connection_until is not None:
                await store.block_connection(conn, config.id, decision.block_connection_until)
        name = {PublishStatus.SUCCESS: "published", PublishStatus.FAILED: "failed"}.get(decision.job_status)
        if name is None:
            name = "reconcile_later" if decision.reconcile_pending else "retry_later"
        self.log.info("publisher.job", job_id=str(job.id), channel=job.channel.value, outcome=name,
                      error=decision.last_error)
        return name


__all__ = ["PublishLoop", "PublisherConfig"]
