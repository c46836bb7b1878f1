"""Where publishing lives in PostgreSQL, in three modules gathered here under one name:

* :mod:`.publishing_connections`: connections with sealed credentials, refreshes, key rotation;
* :mod:`.publishing_jobs`: jobs under leases and their attempts (the exactly-once rules);
* :mod:`.publishing_calendar`: the scheduling rules' facts, cancelling, and the calendar.
"""

from __future__ import annotations

from .publishing_calendar import (
    CalendarEntry,
    ScheduleFacts,
    calendar,
    cancel_job,
    mark_package_scheduled,
    schedule_facts,
)
from .publishing_connections import (
    SECRET_FIELDS,
    Grant,
    Sealer,
    Secrets,
    block_connection,
    connection_for,
    connections_with_secrets,
    disconnect,
    mark_connection,
    open_secrets,
    refresh_tokens,
    rotate_keys,
    save_connection,
)
from .publishing_jobs import (
    ATTEMPT_INDEX_CEILING,
    AttemptOutcome,
    Claimed,
    JobUpdate,
    Success,
    attempts_of,
    begin_attempt,
    cancel_attempt,
    claim_batch,
    claim_jobs,
    finish_attempt,
    record_failed,
    record_published,
    release,
    settle_successes,
    thread_variants,
    update_job,
)

__all__ = [
    "ATTEMPT_INDEX_CEILING", "SECRET_FIELDS", "AttemptOutcome", "CalendarEntry", "Claimed", "Grant", "JobUpdate",
    "ScheduleFacts", "Sealer", "Secrets", "Success", "attempts_of", "begin_attempt", "block_connection", "calendar",
    "cancel_attempt", "cancel_job", "claim_batch", "claim_jobs", "connection_for", "connections_with_secrets", "disconnect", "finish_attempt", "mark_connection", "mark_package_scheduled", "open_secrets",
    "record_failed", "record_published", "refresh_tokens", "release", "rotate_keys", "save_connection", "schedule_facts",
    "settle_successes", "thread_variants", "update_job",
]  # fmt: skip
