"""The agent state machine as pure functions over immutable ``AgentStatus`` values.

A cycle walks idle → planning → creating → publishing → analyzing → adapting → idle, skipping
ahead to ``idle`` when a phase finds nothing to do; any state may fall into ``error``, and an
errored agent recovers by going idle or by starting a new cycle. The Ray actor only persists
what these functions return.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.errors import Conflict
from storage.objects import AgentState, AgentStatus

S = AgentState
TRANSITIONS: dict[AgentState, frozenset[AgentState]] = {
    S.IDLE: frozenset({S.PLANNING, S.ANALYZING, S.ERROR}),
    S.PLANNING: frozenset({S.CREATING, S.ANALYZING, S.IDLE, S.ERROR}),
    S.CREATING: frozenset({S.PUBLISHING, S.ANALYZING, S.IDLE, S.ERROR}),
    S.PUBLISHING: frozenset({S.ANALYZING, S.IDLE, S.ERROR}),
    S.ANALYZING: frozenset({S.ADAPTING, S.IDLE, S.ERROR}),
    S.ADAPTING: frozenset({S.IDLE, S.ERROR}),
    S.ERROR: frozenset({S.IDLE, S.PLANNING}),
}


def transition(status: AgentStatus, to: AgentState, *, now: datetime, error: str | None = None) -> AgentStatus:
    """The status after moving to ``to``; a move the machine does not allow is a Conflict."""
    if to not in TRANSITIONS[status.state]:
        raise Conflict(
            f"agent cannot go from {status.state} to {to}",
            details={"from": str(status.state), "to": str(to)},
        )
    if to is S.ERROR and not error:
        raise ValueError("entering the error state needs the error message")
    return AgentStatus.model_validate(
        {**status.model_dump(), "state": to, "last_error": error if to is S.ERROR else status.last_error,
         "updated_at": now}
    )  # fmt: skip


def schedule_next(status: AgentStatus, *, now: datetime) -> AgentStatus:
    """When the scheduler should wake the agent next: one cadence from now, never if paused."""
    next_wake = None if status.paused else now + timedelta(seconds=status.cadence_seconds)
    return status.model_copy(update={"next_wake_at": next_wake, "updated_at": now})


def is_due(status: AgentStatus, *, now: datetime) -> bool:
    return not status.paused and status.next_wake_at is not None and status.next_wake_at <= now
