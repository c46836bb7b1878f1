"""Scheduling rules (seed 001 §3.3, §4): what a publishing job must satisfy to be created or
moved, as a pure function over the facts, plus the transaction that reads the facts under locks,
applies the rules and writes the job.

Each refusal names its rule (``details.rule``) and field: input that can never be right
(``scheduled_in_past``, ``beyond_horizon``, ``over_length``) is Invalid (422); a state that
forbids it now (``channel_not_connected``, ``variant_not_approved``, ``min_gap``, ``daily_cap``,
``already_scheduled``) is a Conflict (409). Nothing is written when a rule refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from storage.errors import Conflict, Invalid, KairoError, NotFound
from storage.objects.base import utcnow
from storage.objects.enums import Channel, ChannelStatus, PublishStatus, VariantStatus
from storage.objects.publishing import PublishingJob
from storage.postgres import Database
from storage.postgres import publishing as store
from storage.postgres import repositories as repo

from agents.gates.counting import measure

from .adapters.linkedin import escape_little_text
from .threads import THREAD_PARTS_MAX, thread_parts


@dataclass(frozen=True)
class Refusal:
    rule: str
    field: str
    message: str
    conflict: bool

    def error(self) -> KairoError:
        kind = Conflict if self.conflict else Invalid
        return kind(self.message, details={"rule": self.rule, "field": self.field})


@dataclass(frozen=True)
class ScheduleRules:
    """The configurable part: how far ahead a post may go."""

    max_horizon: timedelta = timedelta(days=90)


def check(facts: store.ScheduleFacts, at: datetime, now: datetime, rules: ScheduleRules) -> list[Refusal]:
    """Every rule the request breaks, in the order a person would fix them."""
    refused: list[Refusal] = []
    if at <= now:
        refused.append(Refusal("scheduled_in_past", "scheduled_at", "scheduled_at must be in the future", False))
    elif at > now + rules.max_horizon:
        refused.append(Refusal("beyond_horizon", "scheduled_at",
                               f"scheduled_at is more than {rules.max_horizon.days} days ahead", False))
    if facts.variant_status != VariantStatus.APPROVED.value:
        refused.append(Refusal("variant_not_approved", "content_variant_id",
                               f"only an approved variant is scheduled (this one is {facts.variant_status})", True))
    connection = facts.connection
    if connection is None or connection.status is not ChannelStatus.CONNECTED:
        state = "has no connection" if connection is None else f"is {connection.status.value}"
        refused.append(Refusal("channel_not_connected", "channel", f"the {facts.variant_channel} channel {state}", True))
    if facts.variant_body is not None and facts.variant_channel is not None:
        channel = Channel(facts.variant_channel)
        sent = escape_little_text(facts.variant_body) if channel is Channel.LINKEDIN else facts.variant_body
        counted = measure(channel, sent)
        adapter = connection.adapter.value if connection is not None else channel.value
        threaded = facts.variant_thread and len(thread_parts(channel, adapter, sent)) > 1
        if not counted.within and not threaded:
            refused.append(Refusal("over_length", "body",
                                   f"the text counts {counted.length} of {counted.limit} on {channel.value}"
                                   + (f" (a thread: more than {THREAD_PARTS_MAX} parts)" if facts.variant_thread else ""),
                                   False))
    if facts.variant_open_jobs:
        refused.append(Refusal("already_scheduled", "content_variant_id",
                               "this variant is already scheduled or published on its connection", True))
    limits = connection.rate_limits if connection is not None else None
    if limits is not None and limits.min_gap_seconds:
        gap = timedelta(seconds=limits.min_gap_seconds)
        if any(abs(other - at) < gap for other in [*facts.nearby, *facts.same_day]):
            refused.append(Refusal("min_gap", "scheduled_at",
                                   f"another post on this connection is less than {limits.min_gap_seconds} s away", True))
    if limits is not None and limits.posts_per_hour and busiest_hour(at, facts.nearby) >= limits.posts_per_hour:
        refused.append(Refusal("hourly_cap", "scheduled_at",
                               f"this connection would have more than {limits.posts_per_hour} posts within an hour", True))
    if limits is not None and limits.posts_per_day and len(facts.same_day) >= limits.posts_per_day:
        refused.append(Refusal("daily_cap", "scheduled_at",
                               f"this connection already has {limits.posts_per_day} posts that day", True))
    return refused


def busiest_hour(at: datetime, others: list[datetime]) -> int:
    """The most other posts that share a 60-minute window with a post at ``at`` (any window, not
    clock hours: a cap of N per hour allows no N + 1 posts within 60 minutes). ``others``: the
    connection's other posts near ``at`` (``ScheduleFacts.nearby``), one entry per post."""
    hour = timedelta(hours=1)
    near = sorted(o for o in others if abs(o - at) < hour)
    starts = [o for o in near if o <= at] + [at]
    return max(sum(1 for o in near if start <= o < start + hour) for start in starts)


async def schedule(db: Database, brand_id: UUID, variant_id: UUID, at: datetime, *, rules: ScheduleRules = ScheduleRules(),
                   max_attempts: int = 5, now: datetime | None = None) -> PublishingJob:
    """Create the job publishing ``variant_id`` at ``at`` (its package becomes ``scheduled``);
    the first broken rule is raised, nothing written."""
    async with db.transaction() as conn:
        facts = await store.schedule_facts(conn, brand_id, variant_id, at)
        if facts.variant_status is None:
            raise NotFound(f"ContentVariant {variant_id} not found", details={"field": "content_variant_id"})
        refused = check(facts, at, now or utcnow(), rules)
        if refused:
            raise refused[0].error()
        job = PublishingJob(brand_id=brand_id, content_variant_id=variant_id, channel=Channel(facts.variant_channel),
                            scheduled_at=at, max_attempts=max_attempts)
        await repo.publishing_jobs.insert(conn, job)
        await store.mark_package_scheduled(conn, facts.package_id)
        return job


async def reschedule(db: Database, brand_id: UUID, job_id: UUID, at: datetime, *, rules: ScheduleRules = ScheduleRules(),
                     now: datetime | None = None) -> PublishingJob:
    """Move a pending job to ``at``, the same rules applied (the job itself not counted)."""
    async with db.transaction() as conn:
        job = await repo.publishing_jobs.find(conn, job_id)
        if job is None or job.brand_id != brand_id:
            raise NotFound(f"PublishingJob {job_id} not found", details={"field": "id"})
        if job.status is not PublishStatus.PENDING or job.reconcile_pending:
            raise Conflict("only a pending job that never reached the platform can move",
                           details={"rule": "reschedule_pending_only", "field": "status"})
        facts = await store.schedule_facts(conn, brand_id, job.content_variant_id, at, exclude_job=job_id)
        refused = [r for r in check(facts, at, now or utcnow(), rules)]
        if refused:
            raise refused[0].error()
        await conn.execute("UPDATE publishing_jobs SET scheduled_at = $2, next_attempt_at = NULL, updated_at = now() WHERE id = $1",
                           job_id, at)
        return await repo.publishing_jobs.get(conn, job_id)


async def cancel(db: Database, brand_id: UUID, job_id: UUID) -> PublishingJob:
    async with db.transaction() as conn:
        return await store.cancel_job(conn, job_id, brand_id)


__all__ = ["Refusal", "ScheduleRules", "busiest_hour", "cancel", "check", "reschedule", "schedule"]
