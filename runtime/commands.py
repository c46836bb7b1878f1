"""Commands a BrandAgent accepts, one pydantic model each, and their results.

Commands travel from the HTTP API and the scheduler to a brand's agent (through Ray, pickled).
Every command that changes state carries the version it was based on: a stale one is a
Conflict (HTTP 409), never a silent overwrite.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from agents.calibration.models import (
    MAX_EXAMPLES,
    CalibrationEvent,
    CalibrationTrigger,
    Example,
    MarkerEvidence,
    ToneProfile,
)
from storage.memory.store import MemoryDraft
from storage.objects import (
    AgentRun,
    AgentStatus,
    BannedWord,
    BrandBrainSnapshot,
    BrandRuntimeContext,
    Channel,
    LengthMode,
    RiskMode,
    RunTrigger,
    Stance,
    VoiceMarker,
)
from storage.objects.base import HttpUrl, KairoObject, Label, Score, ShortText, Text, UnitInterval
from storage.objects.brain import ToneDimension


class GetStatus(KairoObject):
    kind: Literal["get_status"] = "get_status"


class Noop(KairoObject):
    """Does nothing: measures the round trip to a warm agent."""

    kind: Literal["noop"] = "noop"


class ChannelOverridePatch(KairoObject):
    """A manual toggle of one channel's knobs; unset fields keep their value."""

    tone_bias: dict[ToneDimension, UnitInterval] | None = None
    length_mode: LengthMode | None = None
    risk_mode: RiskMode | None = None


class UpdateRuntimeContext(KairoObject):
    kind: Literal["update_runtime_context"] = "update_runtime_context"
    expected_version: int = Field(ge=1, description=(
        "the runtime context's `version` this change is based on (GET …/runtime-context); "
        "if the context changed since, the update is a 409"))
    channel_overrides: dict[Channel, ChannelOverridePatch] = {}
    remove_channels: list[Channel] = []


class CreateSnapshot(KairoObject):
    """Record the brand's strategy as snapshot n+1; fields left unset are carried over from the
    latest snapshot. The runtime context is re-materialized to point at the new snapshot."""

    kind: Literal["create_snapshot"] = "create_snapshot"
    expected_version: int = Field(ge=1, description=(
        "the `version` of the brand's latest snapshot this change is based on (GET …/snapshots/current); "
        "if a newer snapshot exists, the creation is a 409"))
    positioning: ShortText | None = None
    tone_descriptors: list[Label] | None = None
    offers: list[Label] | None = None
    taboos: list[ShortText] | None = None
    persona_ids: list[UUID] | None = None
    pillar_ids: list[UUID] | None = None
    tone_profile: dict[ToneDimension, Score] | None = None
    voice_markers: list[VoiceMarker] | None = None
    banned_words: list[BannedWord] | None = None
    stances: list[Stance] | None = None


class RunCycle(KairoObject):
    """Run one autonomous cycle now (plan → create → publish → analyze → adapt)."""

    kind: Literal["run_cycle"] = "run_cycle"
    trigger: RunTrigger = RunTrigger.MANUAL


class Wake(KairoObject):
    """Sent by the scheduler: run a scheduled cycle if the agent is due and not paused."""

    kind: Literal["wake"] = "wake"


class SetSchedule(KairoObject):
    kind: Literal["set_schedule"] = "set_schedule"
    expected_version: int = Field(ge=1, description=(
        "the agent's `status.version` this change is based on (GET …/agent); "
        "if the agent's status changed since, the update is a 409"))
    cadence_seconds: int | None = Field(default=None, ge=60, le=604800)
    paused: bool | None = None


# -- the content writer: packages and their review (handlers in runtime/agent_writing.py) -----


class ChannelAsk(KairoObject):
    """One channel of a package to write."""

    channel: Channel
    thread: bool = Field(default=False, description="X only: written as a thread")
    variants: int = Field(default=2, ge=1, le=5, description="variants of this channel's plan")
    limit: int | None = Field(default=None, ge=100, le=100_000, description="a Mastodon instance's max_characters")


class TopicAsk(KairoObject):
    """A package started by hand instead of from a card."""

    topic: ShortText
    notes: ShortText | None = None
    persona_id: UUID
    pillar_id: UUID


class PageAsk(KairoObject):
    """A package written about a page: the agent fetches it (as ingestion does), stores it as a
    source document (a URL already ingested is reused) and writes from it."""

    url: HttpUrl
    notes: ShortText | None = None
    persona_id: UUID | None = None
    pillar_id: UUID | None = None


class WritePackage(KairoObject):
    """Write a package for a card (or a manual topic, or a page) in the writer pool and store it whole."""

    kind: Literal["write_package"] = "write_package"
    card_id: UUID | None = None
    topic: TopicAsk | None = None
    page: PageAsk | None = None
    channels: list[ChannelAsk] = Field(min_length=1, max_length=5)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    user_id: UUID | None = None


class EditVariant(KairoObject):
    """A person's edit of one variant; the edited text passes the platform gate again."""

    kind: Literal["edit_variant"] = "edit_variant"
    package_id: UUID
    variant_id: UUID
    expected_version: int = Field(ge=1, description="the variant's `version` the edit is based on")
    text: Text = Field(max_length=40_000)
    user_id: UUID | None = None


class ReviewVariant(KairoObject):
    """Approve or reject one variant."""

    kind: Literal["review_variant"] = "review_variant"
    package_id: UUID
    variant_id: UUID
    expected_version: int = Field(ge=1, description="the variant's `version` the decision is based on")
    action: Literal["approve", "reject"]
    user_id: UUID | None = None


class RegenerateVariants(KairoObject):
    """Write one variant (``variant_id``) or a whole channel plan (``plan_id``) again."""

    kind: Literal["regenerate_variants"] = "regenerate_variants"
    package_id: UUID
    variant_id: UUID | None = None
    plan_id: UUID | None = None
    expected_version: int = Field(ge=1, description="the package's `version` the regeneration is based on")
    seed: int = Field(default=1, ge=0, le=2**31 - 1)


class KillPackage(KairoObject):
    """Kill a package: unedited variants are rejected, edited ones survive as manual assets."""

    kind: Literal["kill_package"] = "kill_package"
    package_id: UUID
    expected_version: int = Field(ge=1, description="the package's `version` the kill is based on")
    reason: ShortText
    user_id: UUID | None = None

# -- calibration (runtime/agent_calibration.py) ----------------------------------------------


class Calibrate(KairoObject):
    """Learn the brand's voice from example posts: the calibration engine runs in the scout
    pool; the agent writes the snapshot n+1, the re-pointed runtime context and the calibration
    event, based on its own versions, and returns the examples' memory drafts for the caller's
    memory client (``agent_calibration.remember``)."""

    kind: Literal["calibrate"] = "calibrate"
    examples: list[Example] = Field(min_length=1, max_length=MAX_EXAMPLES)
    banned_words: list[BannedWord] = Field(default=[], max_length=200)
    trigger: CalibrationTrigger = "manual"
    user_id: UUID | None = None
    expected_version: int | None = Field(default=None, ge=1, description=(
        "the snapshot `version` this calibration is based on; unset: the agent's current one"))


class Calibrated(BaseModel):
    """What ``Calibrate`` wrote and found."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)  # always all present

    snapshot: BrandBrainSnapshot
    runtime_context: BrandRuntimeContext
    calibration: CalibrationEvent
    tone: ToneProfile
    markers: list[MarkerEvidence]
    memory_drafts: list[MemoryDraft] = Field(description="one per example chunk, to remember")


Command = Annotated[
    GetStatus | Noop | UpdateRuntimeContext | CreateSnapshot | RunCycle | Wake | SetSchedule
    | WritePackage | EditVariant | ReviewVariant | RegenerateVariants | KillPackage | Calibrate,
    Field(discriminator="kind"),
]


class AgentView(BaseModel):
    """What ``GetStatus`` (and ``SetSchedule``) return."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)  # always all present

    status: AgentStatus
    snapshot_version: int
    runtime_context_version: int
    host: str
    activated_at: AwareDatetime


class SnapshotCreated(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)  # always all present

    snapshot: BrandBrainSnapshot
    runtime_context: BrandRuntimeContext


class CycleResult(BaseModel):
    """The run a ``RunCycle``/``Wake`` produced; ``run`` is None when a wake found nothing due."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)  # always all present

    run: AgentRun | None
    status: AgentStatus
