"""Inputs and results of the scout: a brand's profile, documents with their vectors, cards."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from storage.objects import Competitor, OpportunityCard, OpportunityState, ScoringFactor
from storage.objects.base import Label, ShortText

Vector = list[float]


class ScoutModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PillarProfile(ScoutModel):
    id: UUID
    name: Label
    description: ShortText
    priority: int = 0


class PersonaProfile(ScoutModel):
    id: UUID
    name: Label
    description: ShortText
    pain_points: list[Label] = []
    goals: list[Label] = []


class BrandProfile(ScoutModel):
    """What the scout knows of a brand: its strategy (snapshot, pillars, personas), memory
    fragments and competitors, and the languages it publishes in."""

    brand_id: UUID
    name: Label
    positioning: ShortText
    offers: list[Label] = []
    pillars: Annotated[list[PillarProfile], Field(min_length=1, max_length=50)]
    personas: Annotated[list[PersonaProfile], Field(min_length=1, max_length=50)]
    memory: list[Annotated[str, Field(max_length=500)]] = Field(default=[], max_length=200)
    competitors: list[Competitor] = Field(default=[], max_length=100)
    languages: Annotated[list[Label], Field(min_length=1)] = ["en"]


class ScoutDoc(ScoutModel):
    """A document as ingestion prepared it: passages with unit vectors, and the doc vector."""

    id: UUID
    title: str | None = None
    text: str
    source_url: str | None = None
    language: str
    published_at: AwareDatetime | None = None
    ingested_at: AwareDatetime
    passages: Annotated[list[str], Field(min_length=1)]
    passage_vectors: Annotated[list[Vector], Field(min_length=1)]
    vector: Vector


class ExistingCard(ScoutModel):
    """A card the brand already has, as novelty and story joining need it."""

    card: OpportunityCard
    vector: Vector = Field(description="the vector of the card's story (its first document)")


class ScoutInput(ScoutModel):
    brand: BrandProfile
    docs: list[ScoutDoc] = Field(max_length=5000)
    existing: list[ExistingCard] = Field(default=[], max_length=20_000)
    recent_content: list[Vector] = Field(default=[], max_length=20_000, description="vectors of packages and variants")
    weights: dict[ScoringFactor, Annotated[float, Field(ge=0, le=10)]] = {}
    now: AwareDatetime


class DocScore(ScoutModel):
    """Why a document did or did not make a card (for the run's log and for tests)."""

    doc_id: UUID
    pillar_id: UUID | None
    persona_id: UUID | None
    relevance: float = Field(description="calibrated relevance in [0, 1]")
    z: float = Field(description="relevance in background standard deviations")
    freshness: float
    novelty: float
    competitor: str | None
    score: float
    outcome: str = Field(description="card, joined, below_threshold, language, dismissed, duplicate")
    card_id: UUID | None = None


class ScoutResult(ScoutModel):
    cards: list[OpportunityCard] = Field(description="new or updated cards, best first")
    scores: list[DocScore]




class ScreenInput(ScoutModel):
    """Many brands against the same new documents: which pairs are worth a full scout."""

    brands: Annotated[list[BrandProfile], Field(min_length=1, max_length=10_000)]
    docs: list[ScoutDoc] = Field(max_length=5000)


class ScreenHit(ScoutModel):
    brand_id: UUID
    doc_ids: list[UUID] = Field(description="documents at or above the brand's threshold, most relevant first")


class ScreenResult(ScoutModel):
    hits: list[ScreenHit] = Field(description="one entry per brand, in input order")
