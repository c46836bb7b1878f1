"""F. Learning and control: CO-18 FeedbackEvent, CO-19 BrandPreferences, CO-20 GlobalPriors."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import (
    AwareDatetime,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .base import KairoObject, Label, ShortText, Slug, Text, UnitInterval, Weight, new_id, utcnow
from .brain import ToneDimension
from .enums import Channel, FeedbackType
from .patterns import Metrics

Rating = Annotated[int, Field(ge=1, le=5)]


class VariantRating(KairoObject):
    rating: Rating
    dimensions: dict[ToneDimension, Rating] = {}
    comment: ShortText | None = None


class EditApplied(KairoObject):
    """A user's edit of a variant; ``edit_distance`` is the normalized Levenshtein ratio."""

    original_text: Text
    edited_text: Text
    edit_distance: UnitInterval

    @model_validator(mode="after")
    def _an_actual_edit(self) -> Self:
        if self.original_text == self.edited_text:
            raise ValueError("edited_text is identical to original_text")
        return self


class NeverAgainTarget(StrEnum):
    PATTERN = "pattern"
    OPPORTUNITY = "opportunity"
    PHRASE = "phrase"
    TOPIC = "topic"


class NeverAgain(KairoObject):
    target: NeverAgainTarget
    phrase: Label | None = None
    reason: ShortText | None = None

    @model_validator(mode="after")
    def _phrase_for_phrase_target(self) -> Self:
        if self.target in (NeverAgainTarget.PHRASE, NeverAgainTarget.TOPIC) and not self.phrase:
            raise ValueError(f"phrase is required when target is '{self.target}'")
        return self


class SavedAsExample(KairoObject):
    memory_fragment_id: UUID | None = None
    note: ShortText | None = None


class PerformanceSnapshot(KairoObject):
    """Real metrics of a published variant at one moment (seed 002 AnalyticsSnapshot)."""

    captured_at: AwareDatetime
    metrics: Annotated[Metrics, Field(min_length=1)]


FEEDBACK_PAYLOADS: dict[FeedbackType, type[KairoObject]] = {
    FeedbackType.VARIANT_RATING: VariantRating,
    FeedbackType.EDIT_APPLIED: EditApplied,
    FeedbackType.NEVER_AGAIN: NeverAgain,
    FeedbackType.SAVED_AS_EXAMPLE: SavedAsExample,
    FeedbackType.PERFORMANCE_SNAPSHOT: PerformanceSnapshot,
}
VARIANT_FEEDBACK = {
    FeedbackType.VARIANT_RATING,
    FeedbackType.EDIT_APPLIED,
    FeedbackType.PERFORMANCE_SNAPSHOT,
}
FeedbackPayload = VariantRating | EditApplied | NeverAgain | SavedAsExample | PerformanceSnapshot


class FeedbackEvent(KairoObject):
    """CO-18: one normalized learning signal; append-only, immutable once stored.

    ``payload`` is typed by ``feedback_type``. Ratings, edits and performance snapshots are
    about a variant, so they need ``content_variant_id``. ``user_id`` is null for system events.
    """

    model_config = KairoObject.model_config | {"frozen": True}

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    user_id: UUID | None = None
    content_variant_id: UUID | None = None
    pattern_template_id: UUID | None = None
    opportunity_id: UUID | None = None
    feedback_type: FeedbackType
    payload: FeedbackPayload
    created_at: AwareDatetime = Field(default_factory=utcnow)

    @field_validator("payload", mode="before")
    @classmethod
    def _parse_payload_by_type(cls, payload: Any, info: ValidationInfo) -> Any:
        # Validated here, not in a model validator, so errors are located under ``payload``.
        kind = info.data.get("feedback_type")
        if kind is None:
            return payload  # feedback_type itself is invalid; its own error names it
        return FEEDBACK_PAYLOADS[kind].model_validate(payload)

    @model_validator(mode="after")
    def _payload_matches_type(self) -> Self:
        expected = FEEDBACK_PAYLOADS[self.feedback_type]
        if not isinstance(self.payload, expected):
            raise ValueError(f"payload of a {self.feedback_type} event must be a {expected.__name__}")
        if self.feedback_type in VARIANT_FEEDBACK and self.content_variant_id is None:
            raise ValueError(f"content_variant_id is required for {self.feedback_type}")
        return self


class ScoringFactor(StrEnum):
    """What an opportunity's score is made of (DESIGN §5)."""

    BRAND_RELEVANCE = "brand_relevance"
    FRESHNESS = "freshness"
    NOVELTY = "novelty"
    COMPETITIVE_ANGLE = "competitive_angle"


PERSONA_PILLAR_KEY = (
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"::[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
PersonaPillarKey = Annotated[str, StringConstraints(pattern=PERSONA_PILLAR_KEY)]
ScoringWeights = Annotated[dict[ScoringFactor, Weight], Field(min_length=1)]


def persona_pillar_key(persona_id: UUID, pillar_id: UUID) -> str:
    return f"{persona_id}::{pillar_id}"


class BrandPreferences(KairoObject):
    """CO-19: the only place learned per-brand knobs persist; written by the learner only."""

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    pattern_weights: dict[UUID, Weight] = {}
    tone_bias_overrides: dict[ToneDimension, UnitInterval] = {}
    persona_pillar_bias: dict[PersonaPillarKey, Weight] = {}
    opportunity_scoring_weights: ScoringWeights
    version: int = Field(default=1, ge=1)
    updated_at: AwareDatetime = Field(default_factory=utcnow)


class PatternStat(KairoObject):
    avg_engagement_rate: UnitInterval | None = None
    times_used: int = Field(default=0, ge=0)


class GlobalPriors(KairoObject):
    """CO-20: cross-brand priors per segment, from anonymized aggregates.

    Holds no brand id anywhere. The database refuses a row whose JSON mentions an existing
    brand's id; pass ``context={"brand_ids": {...}}`` to get the same check in pydantic.
    """

    id: UUID = Field(default_factory=new_id)
    segment: Slug = "default"
    pattern_stats: dict[UUID, PatternStat] = {}
    channel_stats: dict[Channel, PatternStat] = {}
    default_tone_bias: Annotated[dict[Channel, dict[ToneDimension, UnitInterval]], Field(min_length=1)]
    default_opportunity_weights: ScoringWeights
    updated_at: AwareDatetime = Field(default_factory=utcnow)

    @field_validator("id", "segment", "pattern_stats")
    @classmethod
    def _no_brand_ids(cls, value: Any, info: ValidationInfo) -> Any:
        brand_ids = (info.context or {}).get("brand_ids") or set()
        mentioned = {str(key) for key in value} if isinstance(value, dict) else {str(value)}
        leaked = mentioned & {str(b) for b in brand_ids}
        if leaked:
            raise ValueError(f"global priors must not reference brand ids: {sorted(leaked)}")
        return value


__all__ = [
    "BrandPreferences",
    "EditApplied",
    "FEEDBACK_PAYLOADS",
    "FeedbackEvent",
    "FeedbackPayload",
    "GlobalPriors",
    "NeverAgain",
    "NeverAgainTarget",
    "PatternStat",
    "PerformanceSnapshot",
    "SavedAsExample",
    "ScoringFactor",
    "VariantRating",
    "persona_pillar_key",
]
