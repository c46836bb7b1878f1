"""Opportunity scout: how relevant candidate texts are to a brand (embeddings, cosine)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field, model_validator


from .base import TEXT_MAX, EngineModel

if TYPE_CHECKING:  # pragma: no cover - importing the memory package pulls in chromadb
    from storage.memory.embeddings import TextEmbedder


class RelevanceInput(EngineModel):
    brand_texts: list[str] = Field(min_length=1, max_length=512, description="pillars, personas, memory")
    candidates: list[str] = Field(max_length=1024, description="texts to score against the brand")

    @model_validator(mode="after")
    def _bounded(self) -> RelevanceInput:
        for field in ("brand_texts", "candidates"):
            for text in getattr(self, field):
                if len(text) > TEXT_MAX:
                    raise ValueError(f"{field}: a text is longer than {TEXT_MAX} characters")
        return self


class RelevanceResult(EngineModel):
    scores: list[float] = Field(description="one score in [0, 100] per candidate, in input order")


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return 0.0 if norm == 0.0 else dot / norm


class OpportunityScout:
    """Finds reasons for a brand to post. Today: how relevant candidate texts are to the brand.

    Relevance of a candidate = its highest cosine similarity to any brand text (a pillar, a
    persona, a memory fragment), clipped at 0 and scaled to 0-100. Max rather than mean: a
    candidate that squarely hits one pillar is relevant even if it ignores the others. Negative
    similarity carries no extra meaning for relevance, so it is clipped to 0.
    """

    OPS: ClassVar[dict[str, type[EngineModel]]] = {"score_relevance": RelevanceInput}

    def __init__(self, embedder: TextEmbedder) -> None:
        self.embedder = embedder

    async def score_relevance(self, payload: RelevanceInput) -> RelevanceResult:
        if not payload.candidates:
            return RelevanceResult(scores=[])
        # One embedding call for everything: batching is what makes the model fast.
        vectors = await self.embedder.aembed([*payload.brand_texts, *payload.candidates])
        brand, candidates = vectors[: len(payload.brand_texts)], vectors[len(payload.brand_texts) :]
        scores = []
        for vector in candidates:
            best = max(_cosine(vector, b) for b in brand)
            scores.append(round(min(max(best, 0.0), 1.0) * 100.0, 4))
        return RelevanceResult(scores=scores)
