"""The publishing job's state machine: pure functions from (job, what the platform said) to
what must be written. No I/O; the publish loop applies the decisions in one transaction each.

The states are CO-22's (``pending → running → success | failed | canceled``) plus one flag:
``reconcile_pending`` marks a pending job whose last create was sent but never confirmed. Such a
job is looked up on the platform before anything else happens to it, and that look-up does not
count as an attempt. The rules that make publishing exactly-once live here:

* an unconfirmed create (timeout, dropped connection, 5xx, an invalid success body) is never
  followed by another create until a reconcile said the post is not there;
* a "duplicate" answer after an unconfirmed create means the first one landed;
* 429s and caps move the job to the reset time without using up an attempt;
* running out of attempts, or of reconcile reads, fails the job with a reason: a job never
  stays ``running``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from storage.objects.enums import AttemptStatus, PublishStatus

from .outcomes import Outcome, PublishResult
from .policy import RetryPolicy

ERROR_MAX = 480


class JobState(BaseModel):
    """What the machine needs to know of a job."""

    model_config = ConfigDict(frozen=True)

    attempts: int
    """Attempts counted so far, the current one included."""
    max_attempts: int
    reconcile_pending: bool = False
    reconcile_checks: int = 0
    after_unconfirmed: bool = False
    """The previous create of this job was unconfirmed (and a reconcile did not find it)."""
    refreshed: bool = False
    """The access token was already refreshed once during this claim."""


class ConnectionMark(StrEnum):
    REVOKED = "revoked"
    REFRESH_NEEDED = "refresh_needed"
    NOTE = "note"
    """Keep the connection usable but record the error on it (a content validation error)."""


class Decision(BaseModel):
    """What to write after one step: the job's next state and the finished attempt's status."""

    model_config = ConfigDict(frozen=True)

    job_status: PublishStatus
    attempt_status: AttemptStatus | None = None
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    reconcile_pending: bool = False
    reconcile_checks: int = 0
    refund_attempt: bool = False
    """The attempt did not reach the platform's judgement of the post (429, expired token):
    it is not counted against ``max_attempts``."""
    refresh_and_retry: bool = False
    """Refresh the token now and create again in a new attempt."""
    create_now: bool = False
    """After a reconcile that found nothing: go on to a (new) create in this claim."""
    mark_connection: ConnectionMark | None = None
    block_connection_until: datetime | None = None
    external_id: str | None = None
    url: str | None = None


def _error(result: PublishResult) -> str:
    text = f"{result.error_code or result.outcome.value}: {result.message}" if result.message else (result.error_code or result.outcome.value)
    return text[:ERROR_MAX]


def _retry_or_fail(job: JobState, result: PublishResult, now: datetime, policy: RetryPolicy, attempt: AttemptStatus) -> Decision:
    if job.attempts >= job.max_attempts:
        return Decision(job_status=PublishStatus.FAILED, attempt_status=attempt,
                        last_error=f"out of attempts ({job.attempts}); last: {_error(result)}"[:ERROR_MAX])
    return Decision(job_status=PublishStatus.PENDING, attempt_status=attempt, last_error=_error(result),
                    next_attempt_at=now + policy.backoff(job.attempts))


def after_create(job: JobState, result: PublishResult, now: datetime, policy: RetryPolicy) -> Decision:
    """The decision after one create request of ``job``."""
    outcome = result.outcome
    if outcome is Outcome.PUBLISHED:
        return Decision(job_status=PublishStatus.SUCCESS, attempt_status=AttemptStatus.SUCCESS,
                        external_id=result.external_id, url=result.url)
    if outcome is Outcome.DUPLICATE:
        if job.after_unconfirmed:  # the earlier, unconfirmed create did land
            return Decision(job_status=PublishStatus.SUCCESS, attempt_status=AttemptStatus.SUCCESS,
                            external_id=result.external_id or "duplicate-of-unconfirmed", url=result.url)
        return Decision(job_status=PublishStatus.FAILED, attempt_status=AttemptStatus.FAILED,
                        last_error=f"the platform already has this text: {_error(result)}"[:ERROR_MAX])
    if outcome is Outcome.UNCONFIRMED:
        return Decision(job_status=PublishStatus.PENDING, attempt_status=AttemptStatus.UNCONFIRMED,
                        last_error=_error(result), reconcile_pending=True, reconcile_checks=0,
                        next_attempt_at=policy.next_reconcile(now, 0))
    if outcome is Outcome.RATE_LIMITED:
        retry_at = result.retry_at if result.retry_at and result.retry_at > now else now + policy.backoff(1)
        return Decision(job_status=PublishStatus.PENDING, attempt_status=AttemptStatus.FAILED, last_error=_error(result),
                        next_attempt_at=retry_at, refund_attempt=True, block_connection_until=retry_at)
    if outcome is Outcome.AUTH_EXPIRED:
        if not job.refreshed:
            return Decision(job_status=PublishStatus.RUNNING, attempt_status=AttemptStatus.FAILED, last_error=_error(result),
                            refund_attempt=True, refresh_and_retry=True)
        return Decision(job_status=PublishStatus.FAILED, attempt_status=AttemptStatus.FAILED,
                        last_error=f"rejected again after a token refresh: {_error(result)}"[:ERROR_MAX],
                        mark_connection=ConnectionMark.REVOKED)
    if outcome is Outcome.PERMANENT:
        return Decision(job_status=PublishStatus.FAILED, attempt_status=AttemptStatus.FAILED, last_error=_error(result),
                        mark_connection=ConnectionMark.REVOKED if result.revoked else ConnectionMark.NOTE)
    # NOT_SENT (and NOT_FOUND, which a create never answers): certainly not published.
    return _retry_or_fail(job, result, now, policy, AttemptStatus.FAILED)


def after_reconcile(job: JobState, result: PublishResult, now: datetime, policy: RetryPolicy) -> Decision:
    """The decision after looking up an unconfirmed create. ``attempt_status`` resolves the
    unconfirmed attempt (success, or failed when the post is not there)."""
    outcome = result.outcome
    if outcome is Outcome.PUBLISHED:
        return Decision(job_status=PublishStatus.SUCCESS, attempt_status=AttemptStatus.SUCCESS,
                        external_id=result.external_id, url=result.url)
    if outcome is Outcome.NOT_FOUND:
        if job.attempts >= job.max_attempts:
            return Decision(job_status=PublishStatus.FAILED, attempt_status=AttemptStatus.FAILED,
                            last_error=f"out of attempts ({job.attempts}); the last create did not publish")
        return Decision(job_status=PublishStatus.RUNNING, attempt_status=AttemptStatus.FAILED, create_now=True)
    if outcome is Outcome.AUTH_EXPIRED and not job.refreshed:
        return Decision(job_status=PublishStatus.RUNNING, refresh_and_retry=True, reconcile_pending=True,
                        reconcile_checks=job.reconcile_checks)
    if outcome is Outcome.RATE_LIMITED and result.retry_at:
        return Decision(job_status=PublishStatus.PENDING, reconcile_pending=True, reconcile_checks=job.reconcile_checks,
                        next_attempt_at=max(result.retry_at, now), last_error=_error(result))
    checks = job.reconcile_checks + 1
    if checks >= policy.max_reconcile_checks:
        # The attempt stays ``unconfirmed``: nobody knows, and the reason says so.
        return Decision(job_status=PublishStatus.FAILED,
                        last_error=f"could not confirm whether the post was published after {checks} checks; "
                                   f"last: {_error(result)}"[:ERROR_MAX])
    return Decision(job_status=PublishStatus.PENDING, reconcile_pending=True, reconcile_checks=checks,
                    next_attempt_at=policy.next_reconcile(now, checks), last_error=_error(result))


__all__ = ["ConnectionMark", "Decision", "JobState", "after_create", "after_reconcile"]
