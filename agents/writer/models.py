"""The writer's input and result models: what a package is written from, each generation
request and draft, each attempt through grounding and the gates, and the written package.

Canonical objects (ContentPackage, CoreArgument, ChannelPlan, ContentVariant) come from
``storage.objects``; these models carry what the staged writing needs around them: the
brand's voice in the words a writer uses, the source facts, the attempts of a candidate.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from agents.gates import GateReport, PriorVariant, Rubric
from agents.gates.model import TEXT_MAX, EngineModel
from storage.objects import (
    BrandBrainSnapshot,
    BrandRuntimeContext,
    Channel,
    ChannelPlan,
    ContentPackage,
    ContentVariant,
    CoreArgument,
    LengthMode,
    OpportunityCard,
    PatternTemplate,
    RiskMode,
)

Seed = Annotated[int, Field(ge=0, le=2**31 - 1)]


class Named(EngineModel):
    """A persona or pillar as the writer names it (the snapshot holds only their ids)."""

    id: UUID
    name: str = Field(min_length=1, max_length=120)
    about: str = Field(default="", max_length=4000, description="its description (a persona's pains and goals too)")


class SourceDoc(EngineModel):
    """A document a card points at (or a URL's extracted text): the facts the post may use."""

    id: UUID | None = None
    title: str | None = Field(default=None, max_length=500)
    text: str = Field(min_length=1, max_length=TEXT_MAX)
    url: str | None = Field(default=None, max_length=2000)


class ManualTopic(EngineModel):
    """A package started by hand: a topic line and optional notes the team wrote."""

    topic: str = Field(min_length=1, max_length=500)
    notes: str | None = Field(default=None, max_length=TEXT_MAX)
    persona_id: UUID
    pillar_id: UUID


class PageTopic(EngineModel):
    """A package written about a page (a URL): the page, fetched and stored as a source
    document, is the request's first source; the thesis comes from it. Persona and pillar are
    locked when given, else chosen from the page (:mod:`.page`)."""

    url: str = Field(min_length=1, max_length=2048)
    notes: str | None = Field(default=None, max_length=TEXT_MAX)
    persona_id: UUID | None = None
    pillar_id: UUID | None = None


class HookRef(EngineModel):
    """A hook from the hook library (:mod:`agents.miner.hooks`): a model opening, never copied."""

    id: UUID
    channel: Channel
    text: str = Field(min_length=1, max_length=2000)
    engagement_rate: float = Field(ge=0, le=1)
    distance: float = Field(ge=0, description="to the package's topic (cosine distance)")
    template_id: UUID | None = None


class ChannelRequest(EngineModel):
    channel: Channel
    thread: bool = Field(default=False, description="X only: written as a thread, split by the platform gate")
    variants: int = Field(default=2, ge=1, le=10)
    limit: int | None = Field(default=None, ge=1, description="a Mastodon instance's max_characters")


class BrandVoice(EngineModel):
    """The brand as the writer needs it: its snapshot, names, memory lines and rubric."""

    name: str = Field(min_length=1, max_length=120)
    snapshot: BrandBrainSnapshot
    personas: Annotated[list[Named], Field(min_length=1)]
    pillars: Annotated[list[Named], Field(min_length=1)]
    memory: list[Annotated[str, Field(max_length=1000)]] = Field(default=[], max_length=200)
    rubric: Rubric = Rubric()
    number_threads: bool = True


class WriteRequest(EngineModel):
    """One package to write: from a card (with its source documents), a manual topic or a
    page (``page``, its document first in ``sources``)."""

    brand: BrandVoice
    runtime: BrandRuntimeContext
    card: OpportunityCard | None = None
    topic: ManualTopic | None = None
    page: PageTopic | None = None
    sources: list[SourceDoc] = Field(default=[], max_length=20)
    templates: Annotated[list[PatternTemplate], Field(min_length=1, max_length=500)]
    pattern_weights: dict[UUID, Annotated[float, Field(ge=0, le=100)]] = {}
    hooks: list[HookRef] = Field(default=[], max_length=100)
    channels: Annotated[list[ChannelRequest], Field(min_length=1, max_length=10)]
    history: list[PriorVariant] = Field(default=[], max_length=500)
    seed: Seed = 0
    max_attempts: int = Field(default=3, ge=1, le=5)


# --- generation -------------------------------------------------------------------------


class Instruction(EngineModel):
    """A critic's instruction for the next attempt, from a gate's or grounding's reason."""

    code: str = Field(description="over_length, weak_hook, banned_word, near_duplicate, taboo, ungrounded, ...")
    message: str
    evidence: str | None = None
    limit: int | None = Field(default=None, description="over_length: the limit the platform gate applied")


class Knobs(EngineModel):
    """The tone and risk knobs of one channel, read from the BrandRuntimeContext only."""

    length_mode: LengthMode
    risk_mode: RiskMode
    tone_bias: dict[str, float] = {}


class GenerationRequest(EngineModel):
    """Everything a generator gets to write one candidate: the same for every generator."""

    channel: Channel
    thread: bool = False
    beats: Annotated[list[str], Field(min_length=1)]
    beat_notes: dict[str, str] = {}
    thesis: str
    points: list[str]
    topic: str = Field(description="the pillar, as the post names its subject")
    persona: str
    brand_name: str
    offers: list[str] = []
    voice_markers: list[str] = []
    memory: list[str] = []
    avoid: list[str] = Field(default=[], description="the brand's banned words, hard and soft")
    tone_descriptors: list[str] = []
    tone_profile: dict[str, float] = {}
    knobs: Knobs
    budget: int = Field(ge=1, description="target length as the channel counts it")
    limit: int = Field(ge=1)
    variant_index: int = Field(default=0, ge=0)
    variants: int = Field(default=1, ge=1)
    seed: Seed = 0
    attempt: int = Field(default=1, ge=1)
    instructions: list[Instruction] = []
    previous: str | None = Field(default=None, description="the failed attempt's text")


class BeatText(EngineModel):
    beat: str
    text: str = Field(max_length=TEXT_MAX)


class Draft(EngineModel):
    """A generator's answer: the post beat by beat; ``body`` joins them as posted."""

    beats: Annotated[list[BeatText], Field(min_length=1)]
    body: str = Field(max_length=TEXT_MAX)
    generator: str


# --- checking ---------------------------------------------------------------------------

ClaimKind = Literal["figure", "name", "quote", "url", "handle"]


class Claim(EngineModel):
    kind: ClaimKind
    text: str


class GroundingReport(EngineModel):
    passed: bool
    checked: list[Claim]
    untraced: list[Claim]


AttemptVerdict = Literal["pass", "flag", "reject", "ungrounded"]


class Attempt(EngineModel):
    """One try at a candidate: its draft, grounding, gate report and what the critic said."""

    number: int = Field(ge=1)
    draft: Draft
    grounding: GroundingReport
    report: GateReport | None = Field(default=None, description="None when grounding rejected it first")
    verdict: AttemptVerdict
    reasons: list[str]
    instructions: list[Instruction] = Field(default=[], description="what this attempt was asked to fix")


class Candidate(EngineModel):
    """One variant slot of a plan with every attempt; the variant is the last attempt."""

    plan_id: UUID
    channel: Channel
    thread: bool = False
    variant_index: int
    attempts: Annotated[list[Attempt], Field(min_length=1)]
    variant: ContentVariant
    reasons: list[str] = Field(default=[], description="why it was rejected (empty when it passed)")

    @property
    def passed(self) -> bool:
        return self.attempts[-1].verdict in ("pass", "flag")


class PlanDraft(EngineModel):
    """A channel plan with the writing settings that are not part of CO-16."""

    plan: ChannelPlan
    thread: bool = False
    limit: int | None = None
    knobs: Knobs
    budget: int
    hook_id: UUID | None = None


class GenerationSession(EngineModel):
    """Seed 001: one generation round of a package, every candidate kept."""

    id: UUID
    content_package_id: UUID
    generator: str
    seed: Seed
    candidates: list[Candidate]


class WriteResult(EngineModel):
    """A written package, or ``failed`` with the reason and nothing half-built."""

    status: Literal["written", "failed"]
    reason: str | None = None
    package: ContentPackage | None = None
    core_argument: CoreArgument | None = None
    plans: list[PlanDraft] = []
    session: GenerationSession | None = None
    card: OpportunityCard | None = Field(default=None, description="the card, now in_progress")

    @property
    def variants(self) -> list[ContentVariant]:
        return [c.variant for c in self.session.candidates] if self.session else []


__all__ = [
    "Attempt",
    "BeatText",
    "BrandVoice",
    "Candidate",
    "ChannelRequest",
    "Claim",
    "Draft",
    "GenerationRequest",
    "GenerationSession",
    "GroundingReport",
    "HookRef",
    "Instruction",
    "Knobs",
    "ManualTopic",
    "Named",
    "PageTopic",
    "PlanDraft",
    "SourceDoc",
    "WriteRequest",
    "WriteResult",
]
