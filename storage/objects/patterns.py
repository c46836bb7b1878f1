"""D. Patterns and inspiration: CO-11 PatternSourcePost, CO-12 PatternTemplate, CO-13 PatternUsage."""

from __future__ import annotations

from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, model_validator

from .base import KairoObject, Label, NonNegativeInt, Text, Timestamped, new_id, unique_items, utcnow
from .enums import Channel, PatternStatus

BeatName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
MetricName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Metrics = dict[MetricName, Annotated[float, Field(ge=0)]]
"""Outcome metrics (impressions, engagements, clicks, …): names in snake_case, values ≥ 0."""


class PatternSourcePost(KairoObject):
    """CO-11: a post a pattern is mined from: the brand's own hit, or a global model account.

    Exactly one of ``brand_id`` and ``is_global`` holds.
    """

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID | None = None
    is_global: bool = False
    channel: Channel
    author_handle: Label | None = None
    raw_text: Text
    impressions: NonNegativeInt | None = None
    engagements: NonNegativeInt | None = None
    created_at: AwareDatetime

    @model_validator(mode="after")
    def _brand_or_global(self) -> Self:
        if (self.brand_id is None) != self.is_global:
            raise ValueError("a source post has either a brand_id or is_global=true, not both or neither")
        return self


class UsageStats(KairoObject):
    """Evidence and outcomes of a template.

    ``times_used`` counts PatternUsages; ``avg_engagement_rate`` is the impression-weighted
    engagement rate (engagements / impressions) of the source posts the template was mined from,
    ``engagement_rate_spread`` its impression-weighted standard deviation. The ``evidence_*``
    fields are the mined posts behind it; ``measured_uses`` and ``used_*`` the variants that used
    it and have metrics.
    """

    times_used: NonNegativeInt = 0
    avg_engagement_rate: Annotated[float, Field(ge=0, le=1)] | None = None
    engagement_rate_spread: Annotated[float, Field(ge=0, le=1)] | None = None
    evidence_posts: NonNegativeInt = 0
    evidence_measured: NonNegativeInt = 0
    evidence_impressions: NonNegativeInt = 0
    evidence_engagements: NonNegativeInt = 0
    measured_uses: NonNegativeInt = 0
    used_impressions: NonNegativeInt = 0
    used_engagements: NonNegativeInt = 0


class PatternTemplate(Timestamped):
    """CO-12: a reusable structure (hook, beats, roles) with evidence.

    ``channel_constraints`` is a list of channels or ``["*"]`` for all. Templates without a
    ``brand_id`` are shared; a brand's own templates carry it.
    """

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID | None = None
    name: Label
    channel_constraints: Annotated[
        list[Channel] | list[Literal["*"]], Field(min_length=1), AfterValidator(unique_items)
    ]
    structure: Annotated[list[BeatName], Field(min_length=1), AfterValidator(unique_items)]
    example_source_post_ids: Annotated[list[UUID], Field(min_length=1), AfterValidator(unique_items)]
    usage_stats: UsageStats = UsageStats()
    status: PatternStatus = PatternStatus.EXPERIMENTAL

    def allows(self, channel: Channel) -> bool:
        return self.channel_constraints == ["*"] or channel in self.channel_constraints


class PatternUsage(KairoObject):
    """CO-13: pattern P used in variant V, with outcome O once known (null until then)."""

    id: UUID = Field(default_factory=new_id)
    pattern_template_id: UUID
    content_variant_id: UUID
    brand_id: UUID
    channel: Channel
    created_at: AwareDatetime = Field(default_factory=utcnow)
    outcome: Metrics | None = None
