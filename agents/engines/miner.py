"""Pattern miner: posts segmented into labelled beats, clustered by structure into templates.

The work lives in :mod:`agents.miner`; this class is its engine face (configuration in the
constructor, one pydantic input and result per operation), hosted by the miner pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field, model_validator

from agents.miner.cues import load_cues
from agents.miner.importing import parse_posts
from agents.miner.labelling import BeatLabeller
from agents.miner.lifecycle import StatusThresholds, review
from agents.miner.mining import MiningPass
from agents.miner.naming import signature_of_structure
from agents.miner.signature import signature_key
from agents.miner.taxonomy import default_taxonomy
from storage.errors import Invalid
from storage.objects import (
    Channel,
    PatternSourcePost,
    PatternStatus,
    PatternTemplate,
    PatternUsage,
)
from storage.objects.base import utcnow

from .base import TEXT_MAX, EngineModel

if TYPE_CHECKING:
    from agents.miner.hooks import HookLibrary

HookLibraryOpener = Callable[[], Awaitable["HookLibrary"]]
HOOK_K_MAX = 50

BeatName = Literal["hook", "context", "list", "cta"]
COARSE = {"hook": "hook", "cta": "cta", "list": "list", "body": "context"}


class Beat(EngineModel):
    """A beat in the coarse view (hook, context, list, cta) of :meth:`PatternMiner.segment`."""

    name: BeatName
    text: str


class SegmentInput(EngineModel):
    text: str = Field(min_length=1, max_length=TEXT_MAX)


class SegmentResult(EngineModel):
    beats: list[Beat]


class LabelledBeat(EngineModel):
    """A beat with its kind from the taxonomy (``hook_story``, ``lesson``, ``cta_question``...)."""

    kind: str
    text: str


class LabelResult(EngineModel):
    beats: list[LabelledBeat]
    signature: str  # e.g. "hook_number>list_item*5>lesson>cta_plain"


class MineInput(EngineModel):
    """Posts of one scope (a brand's, or global when ``brand_id`` is None) and that scope's
    existing templates, which the mined clusters merge into."""

    brand_id: UUID | None = None
    posts: list[PatternSourcePost] = Field(min_length=1)
    templates: list[PatternTemplate] = Field(default_factory=list)
    now: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one_scope(self) -> MineInput:
        for i, post in enumerate(self.posts):
            if post.brand_id != self.brand_id:
                raise ValueError(f"posts[{i}] belongs to another scope than brand_id={self.brand_id}")
        for i, template in enumerate(self.templates):
            if template.brand_id != self.brand_id:
                raise ValueError(f"templates[{i}] belongs to another scope than brand_id={self.brand_id}")
        return self


class TemplateChange(EngineModel):
    template: PatternTemplate
    action: Literal["created", "updated", "unchanged"]
    added_post_ids: list[UUID]


class PostAssignment(EngineModel):
    post_id: UUID
    signature: str
    template_id: UUID | None


class MineResult(EngineModel):
    templates: list[TemplateChange]
    assignments: list[PostAssignment]
    distinct_signatures: int
    clusters: int
    beats: int = 0
    failed_post_ids: list[UUID] = Field(default_factory=list, description="posts in which no beat was found")

    @property
    def created(self) -> int:
        return sum(c.action == "created" for c in self.templates)

    @property
    def updated(self) -> int:
        return sum(c.action == "updated" for c in self.templates)

    @property
    def unassigned(self) -> int:
        return sum(a.template_id is None for a in self.assignments)


class AssignInput(EngineModel):
    text: str = Field(min_length=1, max_length=TEXT_MAX)
    templates: list[PatternTemplate]


class AssignResult(EngineModel):
    signature: str
    template_id: UUID | None
    distance: float | None


class ImportInput(EngineModel):
    """A file of posts for one scope (a brand's, or global when ``brand_id`` is None)."""

    format: Literal["json", "jsonl", "csv"]
    content: str
    brand_id: UUID | None = None
    default_channel: Channel | None = None
    now: AwareDatetime | None = None


class ImportResult(EngineModel):
    posts: list[PatternSourcePost]
    rows: int
    duplicates: int


class ReviewInput(EngineModel):
    """A template, its usages, and the median engagement rate of each channel."""

    template: PatternTemplate
    usages: list[PatternUsage]
    channel_medians: dict[Channel, float]


class ReviewResult(EngineModel):
    template: PatternTemplate
    previous_status: PatternStatus
    changed: bool
    reason: str
    performance: float | None


class HookPostsInput(EngineModel):
    """Posts (of any scope) and the template each is evidence of (``templates_of``)."""

    posts: list[PatternSourcePost]
    templates_of: dict[UUID, UUID] = Field(default_factory=dict)


class IndexHooksInput(EngineModel):
    """Every measured post of one scope (``brand_id``, None for global): the scope's hooks in
    the library become those of the best of them."""

    brand_id: UUID | None = None
    posts: list[PatternSourcePost]
    templates_of: dict[UUID, UUID] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_scope(self) -> IndexHooksInput:
        for i, post in enumerate(self.posts):
            if post.brand_id != self.brand_id:
                raise ValueError(f"posts[{i}] belongs to another scope than brand_id={self.brand_id}")
        return self


class HookView(EngineModel):
    """A hook: the first beat of a post that worked, with that post's numbers."""

    id: UUID  # the source post's id
    brand_id: UUID | None
    channel: Channel
    text: str
    engagement_rate: float
    impressions: int
    template_id: UUID | None


class IndexHooksResult(EngineModel):
    selected: int  # hooks of the best performers chosen
    added: int  # of them, new to the library
    removed: int = 0  # hooks of the scope no longer among its best performers
    available: bool  # False: this miner has no hook library (nothing was indexed)


class HooksResult(EngineModel):
    hooks: list[HookView]


class HookSearchInput(EngineModel):
    """Hooks near ``topic``: the brand's own and the global ones (only global without a brand)."""

    topic: str = Field(min_length=1, max_length=TEXT_MAX)
    brand_id: UUID | None = None
    k: int = Field(default=5, ge=1, le=4 * HOOK_K_MAX)


class HookHitView(EngineModel):
    hook_id: UUID
    distance: float
    is_global: bool


class HookSearchResult(EngineModel):
    hits: list[HookHitView]


class PatternMiner:
    """Mines the structures of posts that worked.

    ``distance_threshold``: two structures at most this far apart (normalised weighted edit
    distance, 0..1) are one template. ``canopy_radius``: the leader pass's radius before
    clustering. ``min_evidence``: posts a new template needs. ``max_leaders``: bound on the
    clustering matrix (leaders × leaders), whatever the number of posts. ``max_import_bytes``:
    the largest file :meth:`parse` accepts. ``status_thresholds``: when usages move a template
    to active or deprecated (:mod:`agents.miner.lifecycle`). ``hook_library``: opens the hook
    library (embedder + Chroma) on the first hook operation; without it the hook operations
    index nothing and find nothing. ``hook_top_fraction``: the share of each channel's best
    performers whose hooks are indexed.
    """

    OPS: ClassVar[dict[str, type[EngineModel]]] = {
        "segment": SegmentInput,
        "label": SegmentInput,
        "mine": MineInput,
        "assign": AssignInput,
        "parse": ImportInput,
        "review": ReviewInput,
        "index_hooks": IndexHooksInput,
        "hooks": HookPostsInput,
        "search_hooks": HookSearchInput,
    }

    def __init__(self, *, language: str = "en", distance_threshold: float = 0.3, canopy_radius: float = 0.12,
                 min_evidence: int = 3, max_leaders: int = 2000, max_import_bytes: int = 20_000_000,
                 status_thresholds: StatusThresholds | None = None, hook_library: HookLibraryOpener | None = None,
                 hook_top_fraction: float = 0.25) -> None:
        if not 0 < distance_threshold < 1:
            raise Invalid("distance_threshold must be in (0, 1)", details={"field": "distance_threshold"})
        if min_evidence < 1:
            raise Invalid("min_evidence must be >= 1", details={"field": "min_evidence"})
        self.language = language
        self.distance_threshold = distance_threshold
        self.canopy_radius = canopy_radius
        self.min_evidence = min_evidence
        self.max_leaders = max_leaders
        self.max_import_bytes = max_import_bytes
        self.status_thresholds = status_thresholds or StatusThresholds()
        if not 0 < hook_top_fraction <= 1:
            raise Invalid("hook_top_fraction must be in (0, 1]", details={"field": "hook_top_fraction"})
        self.hook_library = hook_library
        self.hook_top_fraction = hook_top_fraction
        self._library: HookLibrary | None = None
        self._library_lock = asyncio.Lock()
        self.labeller = BeatLabeller(load_cues(language), default_taxonomy())
        self._pass = MiningPass(self.labeller, threshold=distance_threshold, canopy_radius=canopy_radius,
                                min_evidence=min_evidence, max_leaders=max_leaders)

    async def segment(self, payload: SegmentInput) -> SegmentResult:
        """The coarse beats of one post: hook, context, list (a run of list lines), cta."""
        return SegmentResult(beats=segment_beats(payload.text, self.labeller))

    async def label(self, payload: SegmentInput) -> LabelResult:
        """The beats of one post with their kinds, and the post's structure signature."""
        beats = self.labeller.label(payload.text)
        return LabelResult(
            beats=[LabelledBeat(kind=b.kind, text=b.text) for b in beats],
            signature=signature_key(self._pass.signature(payload.text)),
        )

    async def mine(self, payload: MineInput) -> MineResult:
        """Cluster the posts' structures and merge them into the scope's templates."""
        outcome = self._pass.run(payload.posts, payload.templates, brand_id=payload.brand_id,
                                 now=payload.now or utcnow())
        return MineResult(
            templates=[TemplateChange(template=c.template, action=c.action, added_post_ids=list(c.added_post_ids))
                       for c in outcome.changes],
            assignments=[
                PostAssignment(post_id=p.id, signature=signature_key(outcome.signatures[p.id]),
                               template_id=outcome.assignment.get(p.id))
                for p in payload.posts
            ],
            distinct_signatures=outcome.distinct_signatures,
            clusters=outcome.clusters,
            beats=outcome.beats,
            failed_post_ids=list(outcome.failed),
        )

    async def parse(self, payload: ImportInput) -> ImportResult:
        """Validated posts of one file (all or nothing; errors name the row and field)."""
        imported = parse_posts(payload.content, payload.format, brand_id=payload.brand_id,
                               default_channel=payload.default_channel, now=payload.now or utcnow(),
                               max_bytes=self.max_import_bytes)
        return ImportResult(posts=imported.posts, rows=imported.rows, duplicates=imported.duplicates)

    async def review(self, payload: ReviewInput) -> ReviewResult:
        """The template's usage stats and status after its usages' outcomes."""
        decision = review(payload.template, payload.usages, payload.channel_medians, self.status_thresholds)
        return ReviewResult(template=decision.template, previous_status=decision.previous, changed=decision.changed,
                            reason=decision.reason, performance=decision.performance)

    async def hooks(self, payload: HookPostsInput) -> HooksResult:
        """The hook (first beat) of each measured post, in the order given."""
        from agents.miner.hooks import hook_of

        found = (hook_of(p, self.labeller, payload.templates_of.get(p.id)) for p in payload.posts)
        return HooksResult(hooks=[_hook_view(h) for h in found if h is not None])

    async def index_hooks(self, payload: IndexHooksInput) -> IndexHooksResult:
        """Make the scope's hooks in the library those of its best performers per channel
        (new ones embedded, ones no longer chosen removed)."""
        from agents.miner.hooks import select_hooks

        library = await self._hook_library()
        if library is None:
            return IndexHooksResult(selected=0, added=0, available=False)
        chosen = select_hooks(payload.posts, self.labeller, templates_of=payload.templates_of,
                              top_fraction=self.hook_top_fraction)
        added, removed = await library.sync(payload.brand_id, chosen)
        return IndexHooksResult(selected=len(chosen), added=added, removed=removed, available=True)

    async def search_hooks(self, payload: HookSearchInput) -> HookSearchResult:
        """The hooks nearest to a topic (embedded here, in the miner), nearest first; their ids
        are source post ids, which the caller resolves in PostgreSQL."""
        library = await self._hook_library()
        if library is None:
            return HookSearchResult(hits=[])
        hits = await library.search(payload.topic, brand_id=payload.brand_id, k=payload.k)
        return HookSearchResult(hits=[HookHitView(hook_id=h.hook_id, distance=h.distance, is_global=h.is_global)
                                      for h in hits])

    async def _hook_library(self) -> HookLibrary | None:
        if self._library is None and self.hook_library is not None:
            async with self._library_lock:
                if self._library is None:
                    self._library = await self.hook_library()
        return self._library

    async def assign(self, payload: AssignInput) -> AssignResult:
        """The template a new post's structure belongs to (None when none is near enough)."""
        signature = self._pass.signature(payload.text)
        template, distance = self._pass.merger.nearest(signature, payload.templates)
        return AssignResult(signature=signature_key(signature), template_id=template.id if template else None,
                            distance=None if distance == float("inf") else distance)


def segment_beats(text: str, labeller: BeatLabeller | None = None) -> list[Beat]:
    """Coarse beats: the labelled beats mapped to their family (hook, body → context, list, cta);
    a run of list items is one ``list`` beat, consecutive context of one paragraph one beat."""
    labeller = labeller if labeller is not None else BeatLabeller()
    families = {k.name: COARSE[k.family] for k in labeller.taxonomy.kinds.values()}
    beats: list[Beat] = []
    previous: tuple[int, str] | None = None
    for beat in labeller.label(text):
        name = families[beat.kind]
        mergeable = previous is not None and previous[1] == name and (
            name == "list" or (name == "context" and previous[0] == beat.paragraph)
        )
        if mergeable:
            beats[-1] = Beat(name=name, text=f"{beats[-1].text}\n{beat.text}")  # type: ignore[arg-type]
        else:
            beats.append(Beat(name=name, text=beat.text))  # type: ignore[arg-type]
        previous = (beat.paragraph, name)
    return beats


def _hook_view(hook: object) -> HookView:
    return HookView.model_validate(hook, from_attributes=True)


def template_signature(template: PatternTemplate) -> str:
    return signature_key(signature_of_structure(template.structure, default_taxonomy()))


__all__ = [
    "AssignInput",
    "AssignResult",
    "Beat",
    "HookHitView",
    "HookPostsInput",
    "HookSearchInput",
    "HookSearchResult",
    "HookView",
    "HooksResult",
    "ImportInput",
    "ImportResult",
    "IndexHooksInput",
    "IndexHooksResult",
    "LabelResult",
    "LabelledBeat",
    "MineInput",
    "MineResult",
    "PatternMiner",
    "PostAssignment",
    "ReviewInput",
    "ReviewResult",
    "SegmentInput",
    "SegmentResult",
    "TemplateChange",
    "segment_beats",
    "template_signature",
]
