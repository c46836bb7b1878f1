"""E. Content production: CO-14 ContentPackage, CO-15 CoreArgument, CO-16 ChannelPlan,
CO-17 ContentVariant."""

from __future__ import annotations

from typing import Annotated, Self
from uuid import UUID

from pydantic import Field, StringConstraints, field_validator, model_validator

from .base import KairoObject, Label, ShortText, Text, Timestamped, UniqueItems, count_sentences, new_id
from .enums import Channel, ChannelScope, OriginType, PackageStatus, VariantStatus
from .patterns import BeatName

THESIS_MAX_SENTENCES = 2
SUPPORTING_POINTS_MIN = 3
SUPPORTING_POINTS_MAX = 7
TARGET_VARIANTS_MAX = 10


class ContentPackage(Timestamped):
    """CO-14: the lifecycle unit for one opportunity or one manually chosen topic.

    Origin: ``opportunity_id`` (origin ``opportunity``), or ``origin_type`` manual /
    evergreen_seed with an ``origin_note``. Channels: one or more channel plans, or
    ``channel_scope: single`` with its one ``channel``. The channel plan ids are derived from
    the plans that point at the package.
    """

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    opportunity_id: UUID | None = None
    origin_type: OriginType = OriginType.OPPORTUNITY
    origin_note: ShortText | None = None
    core_argument_id: UUID
    status: PackageStatus = PackageStatus.DRAFT
    channel_scope: ChannelScope = ChannelScope.MULTI
    channel: Channel | None = None
    channel_plan_ids: Annotated[list[UUID], UniqueItems] = []

    @model_validator(mode="after")
    def _origin_and_channels(self) -> Self:
        if self.origin_type is OriginType.OPPORTUNITY:
            if self.opportunity_id is None:
                raise ValueError("opportunity_id is required when origin_type is 'opportunity'")
        else:
            if self.opportunity_id is not None:
                raise ValueError("opportunity_id must be empty when origin_type is not 'opportunity'")
            if not self.origin_note:
                raise ValueError(f"origin_note is required when origin_type is '{self.origin_type}'")
        if self.channel_scope is ChannelScope.SINGLE:
            if self.channel is None:
                raise ValueError("channel is required when channel_scope is 'single'")
            if len(self.channel_plan_ids) > 1:
                raise ValueError("channel_plan_ids: a single-channel package has at most one channel plan")
        elif not self.channel_plan_ids:
            raise ValueError("channel_plan_ids needs at least one plan unless channel_scope is 'single'")
        elif self.channel is not None:
            raise ValueError("channel is only set when channel_scope is 'single'")
        return self


class CoreArgument(Timestamped):
    """CO-15: what the package actually says, channel-agnostic.

    A thesis of one or two sentences and 3–7 supporting points; persona and pillar are locked
    for the package once set.
    """

    id: UUID = Field(default_factory=new_id)
    content_package_id: UUID
    persona_id: UUID = Field(frozen=True)
    pillar_id: UUID = Field(frozen=True)
    thesis: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]
    supporting_points: Annotated[
        list[ShortText], Field(min_length=SUPPORTING_POINTS_MIN, max_length=SUPPORTING_POINTS_MAX)
    ]

    @field_validator("thesis")
    @classmethod
    def _one_or_two_sentences(cls, thesis: str) -> str:
        if count_sentences(thesis) > THESIS_MAX_SENTENCES:
            raise ValueError("thesis must be one or two sentences")
        return thesis


class PatternBinding(KairoObject):
    """How one pattern maps onto this channel: a description per beat and how many variants."""

    pattern_template_id: UUID
    beats: Annotated[dict[BeatName, ShortText], Field(min_length=1)]
    target_variants: int = Field(ge=1, le=TARGET_VARIANTS_MAX)


class ChannelPlan(Timestamped):
    """CO-16: the plan of one channel of a package, traceable to the snapshot it used."""

    id: UUID = Field(default_factory=new_id)
    content_package_id: UUID
    channel: Channel
    brand_brain_snapshot_id: UUID
    pattern_bindings: Annotated[list[PatternBinding], Field(min_length=1)]
    enabled: bool = True


class VariantOrigin(KairoObject):
    generated_by: Label
    source_variant_id: UUID | None = None


class ContentVariant(Timestamped):
    """CO-17: one concrete draft for [core argument, channel, pattern]."""

    id: UUID = Field(default_factory=new_id)
    content_package_id: UUID
    channel_plan_id: UUID
    brand_id: UUID
    channel: Channel
    pattern_template_id: UUID
    persona_id: UUID
    pillar_id: UUID
    body: Text
    status: VariantStatus = VariantStatus.DRAFT
    origin: VariantOrigin

    @model_validator(mode="after")
    def _not_its_own_source(self) -> Self:
        if self.origin.source_variant_id == self.id:
            raise ValueError("origin.source_variant_id cannot be the variant itself")
        return self


__all__ = [
    "BeatName",
    "ChannelPlan",
    "ContentPackage",
    "ContentVariant",
    "CoreArgument",
    "PatternBinding",
    "VariantOrigin",
    "Text",
]
