"""C. Trend and opportunity: CO-08 GlobalSourceDoc, CO-09 OpportunityCard, CO-10 OpportunityBatch."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self
from uuid import UUID

from pydantic import AliasChoices, AwareDatetime, Field, StringConstraints, model_validator

from .base import (
    HttpUrl,
    KairoObject,
    Label,
    Language,
    Score,
    ShortText,
    Text,
    UniqueIds,
    new_id,
    utcnow,
)
from .enums import OpportunityScope, OpportunityState, OpportunityType, SourceDocType


class GlobalSourceDoc(KairoObject):
    """CO-08: normalized external content, cleaned of boilerplate.

    Public feed content has no ``org_id``; text a tenant pasted or imported privately carries
    its org and is visible to that org only. ``content_hash`` deduplicates.
    """

    id: UUID = Field(default_factory=new_id)
    org_id: UUID | None = None
    source_type: SourceDocType
    source_url: HttpUrl | None = None
    author_handle: Label | None = None
    title: ShortText | None = None
    language: Language
    text: Text
    content_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None
    published_at: AwareDatetime | None = None
    ingested_at: AwareDatetime = Field(default_factory=utcnow)


class SourceRef(KairoObject):
    """Why a card exists: one source document or one internal trigger, with a note."""

    global_source_doc_id: UUID | None = None
    internal_trigger: Label | None = None
    relevance_note: ShortText = Field(validation_alias=AliasChoices("relevance_note", "note"))

    @model_validator(mode="after")
    def _exactly_one_origin(self) -> Self:
        if (self.global_source_doc_id is None) == (self.internal_trigger is None):
            raise ValueError("a source ref needs exactly one of global_source_doc_id or internal_trigger")
        return self


class OpportunityCard(KairoObject):
    """CO-09: a brand-specific reason to speak now.

    A card names the persona and pillar it serves, unless it is explicitly ``scope: global``
    (then ``persona_id`` may be null). ``created_at`` never changes.
    """

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    scope: OpportunityScope = OpportunityScope.BRAND
    persona_id: UUID | None = None
    pillar_id: UUID | None = None
    source_refs: Annotated[list[SourceRef], Field(min_length=1)]
    angle_summary: ShortText
    opportunity_type: OpportunityType
    score: Score
    lifecycle_state: OpportunityState = OpportunityState.NEW
    pinned: bool = False
    snoozed_until: AwareDatetime | None = Field(default=None, description="when a snoozed card comes back (none: until restored)")
    created_at: AwareDatetime = Field(default_factory=utcnow, frozen=True)
    updated_at: AwareDatetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _persona_and_pillar_unless_global(self) -> Self:
        if self.scope is OpportunityScope.BRAND and (self.persona_id is None or self.pillar_id is None):
            raise ValueError("persona_id and pillar_id are required unless scope is 'global'")
        if self.snoozed_until is not None and self.lifecycle_state is not OpportunityState.SNOOZED:
            raise ValueError("snoozed_until is set only while lifecycle_state is 'snoozed'")
        if self.updated_at < self.created_at:
            raise ValueError("updated_at must not be earlier than created_at")
        return self


DATE_SCOPE_PATTERN = r"^\d{4}-(\d{2}-\d{2}|W\d{2})$"


class OpportunityBatch(KairoObject):
    """CO-10: the cards of one brand for one day (``2025-02-01``) or ISO week (``2025-W05``).

    Cards stay queryable on their own; a batch only groups them.
    """

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    date_scope: Annotated[str, StringConstraints(pattern=DATE_SCOPE_PATTERN)]
    opportunity_ids: UniqueIds
    created_at: AwareDatetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _real_date(self) -> Self:
        scope = self.date_scope
        if "W" in scope:
            week = int(scope.split("W")[1])
            if not 1 <= week <= 53:
                raise ValueError("date_scope: ISO week must be 01..53")
        else:
            try:
                date.fromisoformat(scope)
            except ValueError as exc:
                raise ValueError(f"date_scope: {exc}") from None
        return self


class FeedSubscription(KairoObject):
    """A feed a brand reads, with its conditional-GET validators and polling health.

    ``url_key`` is the normalized URL (one subscription per feed and brand). Health is what
    the last polls said: last success, last error (text and time, set together), failures in a
    row (they stretch the backoff) and when the feed is polled next.
    """

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    url: HttpUrl
    url_key: HttpUrl
    title: ShortText | None = None
    poll_interval_seconds: int = Field(default=3600, ge=60, le=604800)
    etag: Annotated[str, StringConstraints(max_length=1024)] | None = None
    last_modified: Annotated[str, StringConstraints(max_length=200)] | None = None
    last_polled_at: AwareDatetime | None = None
    last_success_at: AwareDatetime | None = None
    last_error: ShortText | None = None
    last_error_at: AwareDatetime | None = None
    consecutive_failures: int = Field(default=0, ge=0)
    next_poll_at: AwareDatetime = Field(default_factory=utcnow)
    created_at: AwareDatetime = Field(default_factory=utcnow)
    updated_at: AwareDatetime = Field(default_factory=utcnow)
    version: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _error_pair(self) -> Self:
        if (self.last_error is None) != (self.last_error_at is None):
            raise ValueError("last_error and last_error_at are set together")
        if self.updated_at < self.created_at:
            raise ValueError("updated_at must not be earlier than created_at")
        return self


__all__ = ["FeedSubscription", "GlobalSourceDoc", "OpportunityBatch", "OpportunityCard", "SourceRef"]
