"""Operations: CO-27 AgentRun and CO-28 EventLog (seed 002), CO-29 QualityReport (seed 004)."""

from __future__ import annotations

from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from .base import KairoObject, Label, Score, ShortText, Text, new_id, utcnow
from .enums import AgentState, EventType, Gate, RunResult, RunTrigger

QUALITY_MAX_ATTEMPTS = 3


class AgentRun(KairoObject):
    """CO-27: one cycle of a brand agent (plan → create → publish → analyze → adapt)."""

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    trigger_type: RunTrigger
    started_at: AwareDatetime = Field(default_factory=utcnow)
    finished_at: AwareDatetime | None = None
    result: RunResult | None = None
    summary: Text | None = None

    @model_validator(mode="after")
    def _result_iff_finished(self) -> Self:
        if (self.finished_at is None) != (self.result is None):
            raise ValueError("result and finished_at are set together, when the run finishes")
        if self.finished_at is not None and self.finished_at < self.started_at:
            raise ValueError("finished_at must not be earlier than started_at")
        return self


class AgentStatus(KairoObject):
    """CO-30: the persisted state of a brand's agent (seed 002 state machine), one per brand.

    Written with optimistic concurrency: every write bumps ``version``. ``next_wake_at`` is when
    the scheduler wakes the agent for its next autonomous cycle (``cadence_seconds`` apart).
    """

    brand_id: UUID
    state: AgentState = AgentState.IDLE
    version: int = Field(default=1, ge=1)
    cadence_seconds: int = Field(default=3600, ge=60, le=604800)
    paused: bool = False
    next_wake_at: AwareDatetime | None = None
    last_run_id: UUID | None = None
    last_error: ShortText | None = None
    updated_at: AwareDatetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _error_has_message(self) -> Self:
        if self.state is AgentState.ERROR and not self.last_error:
            raise ValueError("last_error is required when state is 'error'")
        return self


class EventLog(KairoObject):
    """CO-28: an append-only audit line of what an agent or a user did."""

    model_config = KairoObject.model_config | {"frozen": True}

    id: UUID = Field(default_factory=new_id)
    org_id: UUID | None = None
    brand_id: UUID | None = None
    user_id: UUID | None = None
    run_id: UUID | None = None
    event_type: EventType
    subject_type: Label
    subject_id: Label | None = None
    message: Text
    meta: dict[str, Any] = {}
    created_at: AwareDatetime = Field(default_factory=utcnow)


class CriticReason(KairoObject):
    """Why a gate failed a draft, and what to change (fed back into the rewrite)."""

    gate: Gate
    score: float | None = None
    reason: ShortText
    suggestion: ShortText | None = None


class QualityReport(KairoObject):
    """CO-29: the gate results of one attempt at one variant (at most 3 attempts)."""

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    content_variant_id: UUID
    attempt_number: int = Field(ge=1, le=QUALITY_MAX_ATTEMPTS)
    g2_hook_strength: Score
    g4_voice_alignment: bool
    g5_platform_compliance: bool
    g7_engagement_prediction: Score
    overall_pass: bool
    critic_reasons: Annotated[list[CriticReason], Field(max_length=20)] = []
    evaluated_at: AwareDatetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _verdict_consistent(self) -> Self:
        if self.overall_pass:
            if not (self.g4_voice_alignment and self.g5_platform_compliance):
                raise ValueError("overall_pass requires the voice (g4) and platform (g5) gates to pass")
            if self.critic_reasons:
                raise ValueError("critic_reasons must be empty when overall_pass is true")
        elif not self.critic_reasons:
            raise ValueError("critic_reasons needs at least one reason when overall_pass is false")
        return self
