"""B. Brand brain: CO-05 BrandBrainSnapshot (with seed 004's Brand DNA), CO-06
BrandRuntimeContext, CO-07 BrandMemoryFragment."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, Field, StringConstraints, field_validator

from .base import (
    KairoObject,
    Label,
    Score,
    ShortText,
    UniqueIds,
    UnitInterval,
    Weight,
    new_id,
    utcnow,
)
from .enums import (
    BannedSeverity,
    Channel,
    DnaSource,
    LengthMode,
    MemorySourceType,
    RiskMode,
    StanceCategory,
    VoiceMarkerCategory,
)

MEMORY_TEXT_MAX = 500


class VoiceMarker(KairoObject):
    """A phrase or pattern that makes text sound like the brand (seed 004 ``voice_markers``)."""

    phrase: Label
    category: VoiceMarkerCategory = VoiceMarkerCategory.SIGNATURE
    weight: Weight = 1.0
    source: DnaSource = DnaSource.MANUAL


class BannedWord(KairoObject):
    """A word the brand never uses: ``hard`` rejects a draft, ``soft`` flags it."""

    word: Label
    reason: ShortText | None = None
    severity: BannedSeverity = BannedSeverity.HARD
    source: DnaSource = DnaSource.MANUAL


class Stance(KairoObject):
    """A position the brand takes (seed 004 ``brand_stances``)."""

    stance: ShortText
    category: StanceCategory
    keywords: list[Label] = []
    source: DnaSource = DnaSource.MANUAL


class Competitor(KairoObject):
    """A named competitor of the brand, with the domains and handles it publishes under.

    The scout marks a document naming one as a ``competitive`` opportunity; the gates use the
    names to keep drafts from trashing competitors.
    """

    name: Label
    domains: Annotated[list[Annotated[str, StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=253,
        pattern=r"^([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$",
    )]], Field(max_length=20)] = []
    handles: Annotated[list[Annotated[str, StringConstraints(
        strip_whitespace=True, pattern=r"^@?[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}(@[A-Za-z0-9.-]+)?$"
    )]], Field(max_length=20)] = []


ToneDimension = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class BrandBrainSnapshot(KairoObject):
    """CO-05: the brand's identity and strategy at one point in time; immutable once stored.

    ``version`` is n+1 of the brand's previous snapshot. Personas and pillars are referenced by
    id, never nested. Brand DNA (tone profile, voice markers, banned words, stances) lives here
    so every engine reads one versioned truth.
    """

    model_config = KairoObject.model_config | {"frozen": True}

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    version: int = Field(ge=1)
    created_at: AwareDatetime = Field(default_factory=utcnow)
    positioning: ShortText
    tone_descriptors: list[Label] = []
    offers: list[Label] = []
    taboos: list[ShortText] = []
    persona_ids: UniqueIds = []
    pillar_ids: UniqueIds = []
    tone_profile: dict[ToneDimension, Score] = {}
    voice_markers: list[VoiceMarker] = []
    banned_words: list[BannedWord] = []
    stances: list[Stance] = []
    competitors: Annotated[list[Competitor], Field(max_length=100)] = []

    @field_validator("banned_words")
    @classmethod
    def _banned_words_unique(cls, words: list[BannedWord]) -> list[BannedWord]:
        seen = [w.word.casefold() for w in words]
        if len(set(seen)) != len(seen):
            raise ValueError("a banned word is listed twice")
        return words

    @field_validator("competitors")
    @classmethod
    def _competitors_unique(cls, competitors: list[Competitor]) -> list[Competitor]:
        names = [c.name.casefold() for c in competitors]
        if len(set(names)) != len(names):
            raise ValueError("a competitor is listed twice")
        return competitors


ToneBias = Annotated[dict[ToneDimension, UnitInterval], Field(min_length=1)]


class ChannelOverride(KairoObject):
    """The knobs of one channel: tone biases in [0, 1], a length mode and a risk mode."""

    tone_bias: ToneBias
    length_mode: LengthMode
    risk_mode: RiskMode


class BrandRuntimeContext(KairoObject):
    """CO-06: the single source of runtime knobs engines read, one per brand.

    Materialized from a snapshot plus preferences; changed by the learner and manual toggles.
    ``version`` increases with every write (optimistic concurrency).
    """

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    brand_brain_snapshot_id: UUID
    channel_overrides: Annotated[dict[Channel, ChannelOverride], Field(min_length=1)]
    version: int = Field(default=1, ge=1)
    updated_at: AwareDatetime = Field(default_factory=utcnow)


class BrandMemoryFragment(KairoObject):
    """CO-07: a short on-brand snippet. Its vector lives in the brand's Chroma collection.

    ``embedding_model`` and ``embedding_dim`` are the row's reference to its vector (stored
    under the fragment's id); the memory store writes both or neither.
    """

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    source_type: MemorySourceType
    raw_text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MEMORY_TEXT_MAX)]
    persona_id: UUID | None = None
    pillar_id: UUID | None = None
    pattern_template_id: UUID | None = None
    tags: list[Label] = []
    embedding_model: Label
    embedding_dim: int = Field(gt=0, le=8192)
    created_at: AwareDatetime = Field(default_factory=utcnow)
