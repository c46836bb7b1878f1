"""A. Brand and actors: CO-01 Brand, CO-02 Persona, CO-03 Pillar, CO-04 User."""

from __future__ import annotations

from typing import Annotated, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from .base import (
    Email,
    KairoObject,
    Label,
    NonEmptyLabels,
    ShortText,
    Slug,
    Timestamped,
    UniqueIds,
    new_id,
    UniqueItems,
    utcnow,
)
from .enums import BrandStatus, Channel, UserRole, UserStatus, VisibilityStatus


class Brand(Timestamped):
    """CO-01: the root entity; everything else hangs off a brand.

    ``org_id`` (CO-23) places the brand in its tenant; ``slug`` is unique within that tenant.
    ``setup_complete`` records whether onboarding finished: from then on at least one
    primary channel is required.
    """

    id: UUID = Field(default_factory=new_id)
    org_id: UUID
    name: Label
    slug: Slug
    status: BrandStatus = BrandStatus.ACTIVE
    owner_user_ids: Annotated[UniqueIds, Field(min_length=1)]
    primary_channels: Annotated[list[Channel], UniqueItems] = []
    setup_complete: bool = True

    @model_validator(mode="after")
    def _channels_once_setup_completes(self) -> Self:
        if self.setup_complete and not self.primary_channels:
            raise ValueError("primary_channels: at least one channel is required once setup completes")
        return self


class Persona(Timestamped):
    """CO-02: one audience segment of a brand."""

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    name: Label
    description: ShortText
    pain_points: NonEmptyLabels
    goals: NonEmptyLabels
    status: VisibilityStatus = VisibilityStatus.ACTIVE


class Pillar(Timestamped):
    """CO-03: a durable theme a brand talks about; ``priority`` biases coverage."""

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    name: Label
    description: ShortText
    status: VisibilityStatus = VisibilityStatus.ACTIVE
    priority: int = Field(default=0, ge=-1000, le=1000)


class User(KairoObject):
    """CO-04: a human operator. Brands are reached through BrandMembership (CO-24)."""

    id: UUID = Field(default_factory=new_id)
    org_id: UUID
    email: Email
    role: UserRole
    status: UserStatus = UserStatus.ACTIVE
    created_at: AwareDatetime = Field(default_factory=utcnow)
