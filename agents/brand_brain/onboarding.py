"""Onboarding: brand, memberships, personas, pillars, snapshot v1, runtime context, preferences,
the agent's schedule and the ``brand_created`` event, written in one transaction so a failed
onboarding leaves nothing behind."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from agents.brand_agent import schedule_next
from storage.objects import (
    AgentStatus,
    BannedWord,
    Brand,
    BrandBrainSnapshot,
    BrandMembership,
    BrandPreferences,
    BrandRuntimeContext,
    Channel,
    Competitor,
    EventLog,
    EventType,
    GlobalPriors,
    Persona,
    Pillar,
    Stance,
    UserRole,
    VoiceMarker,
)
from storage.objects.base import KairoObject, Label, ShortText, Slug, UniqueItems, new_id, utcnow
from storage.postgres import Database
from storage.postgres import repositories as repo

from .defaults import DEFAULT_SCORING_WEIGHTS, default_override


class PersonaDraft(KairoObject):
    id: UUID = Field(default_factory=new_id)
    name: Label
    description: ShortText
    pain_points: list[Label] = Field(min_length=1)
    goals: list[Label] = Field(min_length=1)


class PillarDraft(KairoObject):
    id: UUID = Field(default_factory=new_id)
    name: Label
    description: ShortText
    priority: int = Field(default=0, ge=-1000, le=1000)


class BrandDraft(KairoObject):
    """What a brand team tells Kairo on day one: the brand, its audience, its strategy."""

    name: Label
    slug: Slug
    primary_channels: Annotated[list[Channel], Field(min_length=1), UniqueItems]
    personas: list[PersonaDraft] = Field(min_length=1)
    pillars: list[PillarDraft] = Field(min_length=1)
    positioning: ShortText
    tone_descriptors: list[Label] = []
    offers: list[Label] = []
    taboos: list[ShortText] = []
    voice_markers: list[VoiceMarker] = []
    banned_words: list[BannedWord] = []
    stances: list[Stance] = []
    competitors: list[Competitor] = Field(default=[], max_length=100)


class OnboardingRequest(BrandDraft):
    """A BrandDraft placed in its org, with its owners."""

    brand_id: UUID = Field(default_factory=new_id)
    org_id: UUID
    owner_user_ids: list[UUID] = Field(min_length=1)
    cadence_seconds: int = Field(default=3600, ge=60, le=604800)
    created_by: UUID | None = None


class OnboardedBrand(BaseModel):
    brand: Brand
    personas: list[Persona]
    pillars: list[Pillar]
    snapshot: BrandBrainSnapshot
    runtime_context: BrandRuntimeContext
    preferences: BrandPreferences
    agent: AgentStatus


async def onboard_brand(db: Database, request: OnboardingRequest) -> OnboardedBrand:
    """Create a brand ready for its agent. Preferences start from the ``default`` GlobalPriors
    segment when one exists (tone per channel, scoring weights), else from built-in defaults."""
    brand = Brand(
        id=request.brand_id, org_id=request.org_id, name=request.name, slug=request.slug,
        owner_user_ids=request.owner_user_ids, primary_channels=request.primary_channels,
    )  # fmt: skip
    personas = [Persona(brand_id=brand.id, **p.model_dump()) for p in request.personas]
    pillars = [Pillar(brand_id=brand.id, **p.model_dump()) for p in request.pillars]
    async with db.transaction() as conn:
        priors: GlobalPriors | None = next(iter(await repo.global_priors.list(conn, "segment = 'default'")), None)
        await repo.brands.insert(conn, brand)
        await repo.memberships.insert_many(
            conn, [BrandMembership(brand_id=brand.id, user_id=u, role=UserRole.ADMIN) for u in brand.owner_user_ids]
        )
        await repo.personas.insert_many(conn, personas)
        await repo.pillars.insert_many(conn, pillars)
        snapshot = await repo.snapshots.create_next(
            conn,
            BrandBrainSnapshot(
                brand_id=brand.id, version=1, positioning=request.positioning,
                tone_descriptors=request.tone_descriptors, offers=request.offers, taboos=request.taboos,
                persona_ids=[p.id for p in personas], pillar_ids=[p.id for p in pillars],
                voice_markers=request.voice_markers, banned_words=request.banned_words, stances=request.stances,
                competitors=request.competitors,
            ),  # fmt: skip
            expected_version=0,
        )
        tone_by_channel = priors.default_tone_bias if priors else {}
        context = BrandRuntimeContext(
            brand_id=brand.id,
            brand_brain_snapshot_id=snapshot.id,
            channel_overrides={c: default_override(c, tone_by_channel.get(c)) for c in brand.primary_channels},
        )
        await repo.runtime_contexts.insert(conn, context)
        preferences = BrandPreferences(
            brand_id=brand.id,
            opportunity_scoring_weights=priors.default_opportunity_weights if priors else DEFAULT_SCORING_WEIGHTS,
        )
        await repo.brand_preferences.insert(conn, preferences)
        agent = schedule_next(AgentStatus(brand_id=brand.id, cadence_seconds=request.cadence_seconds), now=utcnow())
        await repo.agent_states.insert(conn, agent)
        await repo.event_log.insert(conn, EventLog(
            org_id=brand.org_id, brand_id=brand.id, user_id=request.created_by, event_type=EventType.BRAND_CREATED,
            subject_type="brand", subject_id=str(brand.id), message=f"brand {brand.slug} onboarded",
            meta={"slug": brand.slug, "snapshot_version": snapshot.version},
        ))  # fmt: skip
    return OnboardedBrand(
        brand=brand, personas=personas, pillars=pillars, snapshot=snapshot,
        runtime_context=context, preferences=preferences, agent=agent,
    )  # fmt: skip
