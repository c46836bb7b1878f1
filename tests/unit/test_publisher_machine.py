"""The job state machine and the retry/reconcile policy: exactly-once rules as a table."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from agents.publisher.machine import ConnectionMark, JobState, after_create, after_reconcile
from agents.publisher.outcomes import Outcome, PublishResult
from agents.publisher.policy import RetryPolicy
from storage.objects.enums import AttemptStatus, PublishStatus

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(base_seconds=30, factor=2, cap_seconds=600, jitter=0.0, reconcile_delay_seconds=60, max_reconcile_checks=3)


def result(outcome: Outcome, **kw) -> PublishResult:
    kw.setdefault("error_code", None if outcome is Outcome.PUBLISHED else outcome.value)
    return PublishResult(outcome=outcome, **kw)


def job(**kw) -> JobState:
    return JobState(**{"attempts": 1, "max_attempts": 3, **kw})


def test_published_is_success_with_the_external_id():
    d = after_create(job(), result(Outcome.PUBLISHED, external_id="123", url="u"), NOW, POLICY)
    assert (d.job_status, d.attempt_status, d.external_id, d.url) == (PublishStatus.SUCCESS, AttemptStatus.SUCCESS, "123", "u")


def test_unconfirmed_never_resends_it_schedules_a_reconcile():
    d = after_create(job(), result(Outcome.UNCONFIRMED, error_code="timeout"), NOW, POLICY)
    assert d.job_status is PublishStatus.PENDING and d.attempt_status is AttemptStatus.UNCONFIRMED
    assert d.reconcile_pending and not d.create_now
    assert d.next_attempt_at == NOW + timedelta(seconds=60)


def test_unconfirmed_on_the_last_attempt_still_reconciles_instead_of_failing():
    d = after_create(job(attempts=3), result(Outcome.UNCONFIRMED, error_code="timeout"), NOW, POLICY)
    assert d.job_status is PublishStatus.PENDING and d.reconcile_pending


def test_duplicate_after_an_unconfirmed_attempt_is_published():
    d = after_create(job(after_unconfirmed=True), result(Outcome.DUPLICATE, external_id="urn:li:share:1"), NOW, POLICY)
    assert d.job_status is PublishStatus.SUCCESS and d.external_id == "urn:li:share:1"


def test_duplicate_out_of_the_blue_fails_the_job():
    d = after_create(job(), result(Outcome.DUPLICATE, message="duplicate content"), NOW, POLICY)
    assert d.job_status is PublishStatus.FAILED and "already has this text" in d.last_error


def test_not_sent_backs_off_exponentially_then_fails_with_a_reason():
    first = after_create(job(attempts=1), result(Outcome.NOT_SENT, error_code="connect_failed"), NOW, POLICY)
    second = after_create(job(attempts=2), result(Outcome.NOT_SENT, error_code="connect_failed"), NOW, POLICY)
    assert first.job_status is PublishStatus.PENDING and first.next_attempt_at == NOW + timedelta(seconds=30)
    assert second.next_attempt_at == NOW + timedelta(seconds=60)
    last = after_create(job(attempts=3), result(Outcome.NOT_SENT, error_code="connect_failed"), NOW, POLICY)
    assert last.job_status is PublishStatus.FAILED and "out of attempts (3)" in last.last_error
    assert "connect_failed" in last.last_error


def test_rate_limit_moves_the_job_to_the_reset_time_without_using_an_attempt():
    reset = NOW + timedelta(hours=11)
    d = after_create(job(attempts=3), result(Outcome.RATE_LIMITED, error_code="usage_capped", retry_at=reset), NOW, POLICY)
    assert d.job_status is PublishStatus.PENDING and d.next_attempt_at == reset
    assert d.refund_attempt and d.block_connection_until == reset


def test_rate_limit_without_a_reset_backs_off():
    d = after_create(job(), result(Outcome.RATE_LIMITED), NOW, POLICY)
    assert d.next_attempt_at == NOW + timedelta(seconds=30)


def test_auth_expired_refreshes_once_then_fails_and_marks_the_connection():
    first = after_create(job(), result(Outcome.AUTH_EXPIRED), NOW, POLICY)
    assert first.refresh_and_retry and first.refund_attempt and first.job_status is PublishStatus.RUNNING
    again = after_create(job(refreshed=True), result(Outcome.AUTH_EXPIRED), NOW, POLICY)
    assert again.job_status is PublishStatus.FAILED and again.mark_connection is ConnectionMark.REVOKED


@pytest.mark.parametrize(("revoked", "mark"), [(True, ConnectionMark.REVOKED), (False, ConnectionMark.NOTE)])
def test_permanent_fails_with_the_reason(revoked, mark):
    d = after_create(job(), result(Outcome.PERMANENT, error_code="validation_failed", message="too long", revoked=revoked),
                     NOW, POLICY)
    assert d.job_status is PublishStatus.FAILED and d.last_error == "validation_failed: too long"
    assert d.mark_connection is mark


def test_reconcile_found_is_success_of_the_unconfirmed_attempt():
    d = after_reconcile(job(reconcile_pending=True), result(Outcome.PUBLISHED, external_id="9"), NOW, POLICY)
    assert (d.job_status, d.attempt_status, d.external_id) == (PublishStatus.SUCCESS, AttemptStatus.SUCCESS, "9")


def test_reconcile_not_found_creates_again_only_with_attempts_left():
    again = after_reconcile(job(attempts=2, reconcile_pending=True), result(Outcome.NOT_FOUND), NOW, POLICY)
    assert again.create_now and again.attempt_status is AttemptStatus.FAILED
    done = after_reconcile(job(attempts=3, reconcile_pending=True), result(Outcome.NOT_FOUND), NOW, POLICY)
    assert done.job_status is PublishStatus.FAILED and not done.create_now and "did not publish" in done.last_error


def test_reconcile_that_cannot_tell_looks_again_then_fails_leaving_the_attempt_unconfirmed():
    d1 = after_reconcile(job(reconcile_pending=True), result(Outcome.NOT_SENT, error_code="connect_failed"), NOW, POLICY)
    assert d1.job_status is PublishStatus.PENDING and d1.reconcile_pending and d1.reconcile_checks == 1
    assert d1.attempt_status is None and d1.next_attempt_at > NOW + timedelta(seconds=60)
    last = after_reconcile(job(reconcile_pending=True, reconcile_checks=2), result(Outcome.NOT_SENT), NOW, POLICY)
    assert last.job_status is PublishStatus.FAILED and last.attempt_status is None
    assert "could not confirm" in last.last_error


def test_no_decision_leaves_a_job_running_except_to_continue_in_the_same_claim():
    outcomes = list(Outcome)
    for state in (job(), job(attempts=3), job(refreshed=True), job(after_unconfirmed=True)):
        for outcome in outcomes:
            for step in (after_create, after_reconcile):
                d = step(state, result(outcome, retry_at=NOW + timedelta(minutes=5)), NOW, POLICY)
                if d.job_status is PublishStatus.RUNNING:
                    assert d.refresh_and_retry or d.create_now, (state, outcome, step.__name__)
                if d.job_status is PublishStatus.FAILED:
                    assert d.last_error


def test_backoff_is_capped_and_jittered_within_bounds():
    policy = RetryPolicy(base_seconds=10, factor=3, cap_seconds=100, jitter=0.2, rng=random.Random(1))
    delays = [policy.backoff(n).total_seconds() for n in range(1, 8)]
    assert 8 <= delays[0] <= 12 and all(d <= 100 for d in delays)
    assert delays[-1] >= 80  # reached the cap (minus jitter)


def test_refresh_margin():
    policy = RetryPolicy(refresh_margin_seconds=300)
    assert policy.needs_refresh(NOW + timedelta(seconds=200), NOW)
    assert not policy.needs_refresh(NOW + timedelta(hours=1), NOW)
    assert not policy.needs_refresh(None, NOW)
