"""Content writer: measures a text by its channel's real counting rule, runs the quality
gates (``agents.gates``) on a candidate post, writes packages (``agents.writer``) and applies
review edits and kills."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from pydantic import Field

from agents.gates import CHANNEL_LIMITS, BrandRules, GateInput, GateReport, grapheme_count, mastodon_length, run_gates
from agents.gates import measure as gate_measure
from agents.gates import x_weighted_length
from agents.writer import TextGenerator, WriteRequest, WriteResult, write_package
from agents.writer.composer import Composer
from agents.writer.pipeline import regenerate
from agents.writer.review import EditOutcome, KillPlan, edit_variant, kill_package
from storage.objects import Channel, ContentPackage, ContentVariant

from .base import TEXT_MAX, EngineModel

if TYPE_CHECKING:  # pragma: no cover - importing the memory package pulls in chromadb
    from agents.gates.judge import TabooJudge
    from storage.memory.embeddings import TextEmbedder


class LengthInput(EngineModel):
    channel: Channel
    text: str = Field(max_length=TEXT_MAX)
    limit: int | None = Field(
        default=None, ge=1, description="override the channel default (a Mastodon instance's max_characters)"
    )


class LengthResult(EngineModel):
    length: int = Field(ge=0, description="the text's length as the channel counts it")
    limit: int
    ok: bool = Field(description="non-empty, within the limit, and no character the channel rejects")


class EditInput(EngineModel):
    """A person's edit of one variant; the edited text passes the platform gate again."""

    package: ContentPackage
    variant: ContentVariant
    text: str = Field(max_length=TEXT_MAX)
    brand: BrandRules = BrandRules()
    limit: int | None = Field(default=None, ge=1)
    thread: bool = False
    user_id: UUID | None = None


class KillInput(EngineModel):
    """Kill a package: unedited variants go, edited ones stay as manual assets."""

    package: ContentPackage
    variants: list[ContentVariant]
    reason: str = Field(min_length=1, max_length=500)
    edited_ids: list[UUID] = []


class RegenerateInput(EngineModel):
    """One variant (``variant_index``) or a whole channel plan of a written package again."""

    request: WriteRequest
    written: WriteResult
    plan_id: UUID
    variant_index: int | None = Field(default=None, ge=0)
    seed: int = Field(default=1, ge=0, le=2**31 - 1)


def measure(channel: Channel, text: str, limit: int | None = None) -> LengthResult:
    """Length of ``text`` as ``channel`` counts it, against the channel limit (or ``limit``).
    Counting rules: :mod:`agents.gates.counting` (X through twitter-text's ``parse_tweet``)."""
    counted = gate_measure(channel, text, limit)
    return LengthResult(length=counted.length, limit=counted.limit, ok=counted.within and bool(text.strip()))


class ContentWriter:
    """Writes channel variants through the quality gates.

    ``check_length`` counts one text; ``check`` runs every gate (platform, banned words,
    taboos, hook, near-duplicates, predicted engagement) and returns the report. The embedder
    serves the taboo and similarity gates; the host passes a lazily loading one, so nothing is
    loaded until a check needs sentence vectors.
    """

    OPS: ClassVar[dict[str, type]] = {"check_length": LengthInput, "check": GateInput, "write": WriteRequest,
                                      "edit": EditInput, "kill": KillInput,
                                      "regenerate": RegenerateInput}  # fmt: skip

    def __init__(self, embedder: TextEmbedder | None = None, generator: TextGenerator | None = None,
                 judge: TabooJudge | None = None) -> None:  # fmt: skip
        self.embedder = embedder
        self.generator = generator or Composer()
        self.judge = judge

    async def check_length(self, payload: LengthInput) -> LengthResult:
        return measure(payload.channel, payload.text, payload.limit)

    async def check(self, payload: GateInput) -> GateReport:
        """All quality gates on one candidate (see :func:`agents.gates.run_gates`)."""
        return await run_gates(payload, self.embedder, self.judge)

    async def write(self, payload: WriteRequest) -> WriteResult:
        """One package from a card or a manual topic, every candidate through grounding and
        the gates in the critic loop (see :func:`agents.writer.write_package`)."""
        return await write_package(payload, self.generator, self.check)

    async def regenerate(self, payload: RegenerateInput) -> WriteResult:
        """One variant or one channel of a written package again (see
        :func:`agents.writer.pipeline.regenerate`)."""
        return await regenerate(payload.request, payload.written, payload.plan_id, self.generator, self.check,
                                variant_index=payload.variant_index, seed=payload.seed)  # fmt: skip

    async def edit(self, payload: EditInput) -> EditOutcome:
        return await edit_variant(payload.package, payload.variant, payload.text, brand=payload.brand,
                                  limit=payload.limit, thread=payload.thread, user_id=payload.user_id)  # fmt: skip

    async def kill(self, payload: KillInput) -> KillPlan:
        return kill_package(payload.package, list(payload.variants), payload.reason, set(payload.edited_ids))


__all__ = [
    "CHANNEL_LIMITS",
    "ContentWriter",
    "EditInput",
    "KillInput",
    "LengthInput",
    "LengthResult",
    "RegenerateInput",
    "grapheme_count",
    "mastodon_length",
    "measure",
    "x_weighted_length",
]
