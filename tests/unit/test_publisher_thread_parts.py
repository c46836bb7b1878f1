"""Threads as pure logic: which posts become reply chains, and where a chain stands."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from agents.gates.counting import measure
from agents.publisher.threads import THREAD_PARTS_MAX, Thread, thread_parts
from storage.objects import PublishAttempt
from storage.objects.enums import AttemptStatus, Channel

SENTENCE = "Pipeline by stage is the number a board reads twice, so we report it first. "


def test_a_post_that_fits_is_one_part_and_a_longer_one_a_numbered_chain():
    assert thread_parts(Channel.X, "x", "Short and sweet.") == ["Short and sweet."]
    parts = thread_parts(Channel.X, "x", SENTENCE * 6)
    assert len(parts) > 1 and all(measure(Channel.X, p).within for p in parts)
    assert [p.rsplit(" ", 1)[-1] for p in parts] == [f"{i}/{len(parts)}" for i in range(1, len(parts) + 1)]


def test_deliveries_without_replies_and_overlong_threads_are_not_split():
    assert thread_parts(Channel.X, "outbox", SENTENCE * 6) == [SENTENCE * 6]
    assert thread_parts(Channel.X, "x", SENTENCE * 40) == []  # more than THREAD_PARTS_MAX parts
    assert len(thread_parts(Channel.X, "x", SENTENCE * 4 * 3)) <= THREAD_PARTS_MAX


def attempt(index: int, status: AttemptStatus, post_id: str | None = None) -> PublishAttempt:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return PublishAttempt(publishing_job_id=uuid4(), attempt_index=index, status=status, started_at=now,
                          finished_at=None if status is AttemptStatus.IN_FLIGHT else now, external_post_id=post_id,
                          error_code=None if status is AttemptStatus.SUCCESS else "timeout")  # fmt: skip


def test_a_thread_resumes_after_its_last_confirmed_part():
    parts = ["a 1/3", "b 2/3", "c 3/3"]
    attempts = [attempt(1, AttemptStatus.SUCCESS, "101"), attempt(2, AttemptStatus.FAILED),
                attempt(3, AttemptStatus.SUCCESS, "102")]  # fmt: skip
    thread = Thread.of(parts, attempts)
    assert (thread.index, thread.text, thread.reply_to, thread.last_part, thread.complete) == (2, "c 3/3", "102", True, False)
    assert Thread.of(parts, []).reply_to is None and Thread.of(parts, []).text == "a 1/3"
    thread.confirmed.append("103")
    assert thread.complete
