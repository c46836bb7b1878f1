"""Content writer: measures a text by its channel's real counting rule and runs the quality
gates (``agents.gates``) on a candidate post."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from agents.gates import CHANNEL_LIMITS, GateInput, GateReport, grapheme_count, mastodon_length, run_gates
from agents.gates import measure as gate_measure
from agents.gates import x_weighted_length
from storage.objects import Channel

from .base import TEXT_MAX, EngineModel

if TYPE_CHECKING:  # pragma: no cover - importing the memory package pulls in chromadb
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

    OPS: ClassVar[dict[str, type]] = {"check_length": LengthInput, "check": GateInput}

    def __init__(self, embedder: TextEmbedder | None = None) -> None:
        self.embedder = embedder

    async def check_length(self, payload: LengthInput) -> LengthResult:
        return measure(payload.channel, payload.text, payload.limit)

    async def check(self, payload: GateInput) -> GateReport:
        """All quality gates on one candidate (see :func:`agents.gates.run_gates`)."""
        return await run_gates(payload, self.embedder)


__all__ = [
    "CHANNEL_LIMITS",
    "ContentWriter",
    "LengthInput",
    "LengthResult",
    "grapheme_count",
    "mastodon_length",
    "measure",
    "x_weighted_length",
]
